/**
 * Partition transforms (Iceberg spec "Partition Transforms"): identity, year, month, day, hour.
 * Each has three faces that must agree: a DuckDB expression used when writing data files, a JS
 * function used by tests and by partition pruning, and the human-readable form of partition
 * paths (`event_time_day=2026-11-21`).
 */
import { IcebergValidationError } from './errors.ts';
import { type IcebergJsonType, isPrimitive, quoteIdent } from './schema.ts';

export type TransformName = 'identity' | 'year' | 'month' | 'day' | 'hour';
export const TRANSFORMS: readonly TransformName[] = ['identity', 'year', 'month', 'day', 'hour'];

/**
 * A partition value as stored in manifests: numbers for int/long/date/timestamp (epoch days or
 * microseconds; Avro longs are JS numbers, safe until year 2255), strings, booleans, null.
 */
export type PartitionValue = string | number | boolean | null;

const MICROS_PER_HOUR = 3_600_000_000n;
const MICROS_PER_DAY = 86_400_000_000n;

const TIME_SOURCES = new Set(['timestamptz', 'timestamp', 'date']);

/** Checks that a transform applies to a source type (time transforms need a date or timestamp). */
export function checkTransform(transform: TransformName, source: IcebergJsonType, column: string): void {
  if (!TRANSFORMS.includes(transform)) throw new IcebergValidationError(`unsupported transform ${transform}`);
  if (!isPrimitive(source)) {
    throw new IcebergValidationError(`cannot partition by nested column ${column}`);
  }
  if (transform === 'identity') {
    if (source === 'double' || source === 'float') {
      throw new IcebergValidationError(
        `identity partitioning of floating point column ${column} is not allowed`,
      );
    }
    return;
  }
  if (!TIME_SOURCES.has(source)) {
    throw new IcebergValidationError(
      `${transform} transform needs a date or timestamp column, ${column} is ${source}`,
    );
  }
  if (transform === 'hour' && source === 'date') {
    throw new IcebergValidationError(`hour transform needs a timestamp column, ${column} is a date`);
  }
}

/** Result type of a transform (spec: day → date, year/month/hour → int, identity → source). */
export function transformResultType(transform: TransformName, source: string): string {
  if (transform === 'identity') return source;
  if (transform === 'day') return 'date';
  return 'int';
}

/**
 * DuckDB expression computing the partition value from the source column. Time zones never
 * matter: timestamptz values are taken as epoch microseconds (UTC), and the expression uses
 * only DOUBLE division so a connection with `integer_division=true` computes the same.
 */
export function transformSql(transform: TransformName, source: string, column: string): string {
  const col = quoteIdent(column);
  if (transform === 'identity') return col;
  // A UTC wall-clock TIMESTAMP, independent of the session TimeZone.
  const utc = source === 'date' ? `CAST(${col} AS TIMESTAMP)` : `make_timestamp(epoch_us(${col}))`;
  switch (transform) {
    case 'year':
      return `CAST(year(${utc}) - 1970 AS INTEGER)`;
    case 'month':
      return `CAST((year(${utc}) - 1970) * 12 + month(${utc}) - 1 AS INTEGER)`;
    case 'day':
      return `CAST(${utc} AS DATE)`;
    case 'hour':
      return `CAST(floor(CAST(epoch_us(${col}) AS DOUBLE) / 3600000000.0) AS INTEGER)`;
  }
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q;
}

/**
 * Applies a time transform in JS to epoch microseconds (timestamps) or epoch days (dates).
 * Used for pruning and in tests to cross-check the SQL form.
 */
export function applyTimeTransform(
  transform: Exclude<TransformName, 'identity'>,
  source: string,
  value: bigint,
): number {
  const micros = source === 'date' ? value * MICROS_PER_DAY : value;
  if (transform === 'hour') return Number(floorDiv(micros, MICROS_PER_HOUR));
  const days = floorDiv(micros, MICROS_PER_DAY);
  if (transform === 'day') return Number(days);
  const d = new Date(Number(days) * 86_400_000);
  const years = d.getUTCFullYear() - 1970;
  return transform === 'year' ? years : years * 12 + d.getUTCMonth();
}

/** Human-readable partition value for paths and summaries (spec `toHumanString`). */
export function humanPartitionValue(
  transform: TransformName,
  resultType: string,
  value: PartitionValue,
): string {
  if (value === null) return 'null';
  if (transform === 'identity') {
    if (resultType === 'date' && typeof value === 'number') return epochDayToIso(value);
    if ((resultType === 'timestamptz' || resultType === 'timestamp') && typeof value === 'number') {
      return new Date(Math.floor(value / 1000))
        .toISOString()
        .replace('Z', resultType === 'timestamptz' ? '+00:00' : '');
    }
    return String(value);
  }
  const n = Number(value);
  switch (transform) {
    case 'year':
      return String(1970 + n);
    case 'month': {
      const y = 1970 + Math.floor(n / 12);
      const m = ((n % 12) + 12) % 12;
      return `${y}-${String(m + 1).padStart(2, '0')}`;
    }
    case 'day':
      return epochDayToIso(n);
    case 'hour': {
      const iso = new Date(n * 3_600_000).toISOString();
      return `${iso.slice(0, 10)}-${iso.slice(11, 13)}`;
    }
  }
}

/** ISO date of an epoch day. */
export function epochDayToIso(days: number): string {
  return new Date(days * 86_400_000).toISOString().slice(0, 10);
}

/** Epoch day of an ISO date (`2026-11-21`). */
export function isoToEpochDay(iso: string): number {
  const ms = Date.parse(`${iso.slice(0, 10)}T00:00:00Z`);
  if (!Number.isFinite(ms)) throw new IcebergValidationError(`invalid date ${iso}`);
  return Math.round(ms / 86_400_000);
}
