/**
 * Firehose record transformation for the bronze events Iceberg table.
 *
 * Why it exists: Firehose's Iceberg destination maps JSON keys onto table columns by name and
 * requires timestamp columns as epoch MICROSECONDS ("For Timestamp data types, you must always
 * send in microseconds"). The stream carries the normalised `ShopEvent` JSON with an ISO-8601
 * `event_time`, which Firehose would reject record by record. This module turns each stream
 * record into a `bronze.events` row:
 *  - the column list and types come from the catalog (`BRONZE_EVENTS`), never a hand-written list;
 *  - `timestamptz` columns become integer epoch microseconds;
 *  - `ingested_at` is the record's arrival time (the Kinesis arrival when Firehose reads a
 *    stream, else Firehose's own), `source_file` is null (it names local landing files);
 *  - nested `items` (list of structs) and `attributes` (map) stay JSON arrays/objects.
 *
 * Validation choice: every record is re-validated with `validateLakeRecord` (UTF-8, size, depth,
 * lone surrogates, then `parseEvent`), the same check the local landing loader applies and
 * the ingest API and the stream consumer apply, with the record's arrival time as the clock of
 * the future-skew check. The stream should only carry events that already passed it, so this
 * costs little and guarantees bronze and the real-time features accept exactly the same
 * events; anything else (a producer writing to the stream directly, a corrupted record) is
 * returned as `ProcessingFailed` with its reason, and Firehose keeps the original record under
 * the error output prefix. Nothing is dropped.
 */

import { BRONZE_EVENTS } from '../shared/catalog/tables.ts';
import type { ColumnSpec } from '../shared/catalog/types.ts';
import { eventColumns, type IcebergType, type RejectReason } from '../shared/event-schema.ts';
import { validateLakeRecord } from '../shared/lake-record.ts';

/** Bronze columns that are not fields of the event contract, with how the transform fills them. */
export const LAKE_ONLY_COLUMNS = {
  /** Arrival time of the record (first arrival wins on dedup in silver). */
  ingested_at: 'arrival time',
  /** Only the local landing loader knows a source file; Firehose rows have none. */
  source_file: 'null',
} as const;

/** A bronze column the transform cannot fill: the catalog and this module disagree. */
export class BronzeColumnMappingError extends Error {
  constructor(readonly columns: readonly string[]) {
    super(
      `bronze.events column(s) ${columns.join(', ')} are neither event-contract fields nor in LAKE_ONLY_COLUMNS (lambdas/firehose-bronze/transform.ts)`,
    );
    this.name = 'BronzeColumnMappingError';
  }
}

/** The bronze columns, checked once at import against the event contract. */
export const BRONZE_COLUMNS: readonly ColumnSpec[] = (() => {
  const contract = new Set(eventColumns().map((c) => c.name));
  const unmapped = BRONZE_EVENTS.columns
    .map((c) => c.name)
    .filter((name) => !contract.has(name) && !(name in LAKE_ONLY_COLUMNS));
  if (unmapped.length > 0) throw new BronzeColumnMappingError(unmapped);
  return BRONZE_EVENTS.columns;
})();

/** One record as Firehose hands it to the transformation (base64 `data`). */
export interface BronzeInputRecord {
  readonly recordId: string;
  /** Base64 of the stream record's bytes. */
  readonly data: string;
  /** Epoch milliseconds Firehose received the record. */
  readonly approximateArrivalTimestamp: number;
  /** Present when the delivery stream reads a Kinesis stream. */
  readonly kinesisRecordMetadata?: { readonly approximateArrivalTimestamp: number };
}

export type BronzeRecordOutcome =
  | { readonly recordId: string; readonly result: 'Ok'; readonly data: string; readonly eventId: string }
  | {
      readonly recordId: string;
      readonly result: 'ProcessingFailed';
      /** The original bytes (base64): Firehose writes them under the error output prefix. */
      readonly data: string;
      readonly reason: RejectReason | 'not_utf8' | 'invalid_timestamp' | 'missing_required_column';
      readonly detail: string;
      readonly eventId?: string;
    };

/** A value that cannot be written to its column (e.g. an unparseable timestamp). */
export class BronzeValueError extends Error {
  constructor(
    readonly column: string,
    readonly reason: 'invalid_timestamp' | 'missing_required_column',
    detail: string,
  ) {
    super(`${column}: ${detail}`);
    this.name = 'BronzeValueError';
  }
}

/** Epoch microseconds of an ISO-8601 string or epoch-milliseconds number; null when neither. */
export function epochMicros(value: unknown): number | null {
  let millis: number;
  if (typeof value === 'number') millis = value;
  else if (typeof value === 'string') millis = Date.parse(value);
  else return null;
  if (!Number.isFinite(millis)) return null;
  // Sub-millisecond digits of an ISO string are lost by Date.parse; parseEvent normalises to ms anyway.
  return Math.round(millis) * 1000;
}

/** Converts one JSON value to what Firehose's Iceberg writer expects for the column type. */
function toIcebergJson(column: string, value: unknown, type: IcebergType): unknown {
  if (value === undefined || value === null) return null;
  if (typeof type === 'string') {
    if (type === 'timestamptz') {
      const micros = epochMicros(value);
      if (micros === null)
        throw new BronzeValueError(column, 'invalid_timestamp', `not a timestamp: ${JSON.stringify(value)}`);
      return micros;
    }
    return value;
  }
  if (type.type === 'list') {
    if (!Array.isArray(value)) return value;
    return value.map((v: unknown) => toIcebergJson(column, v, type.element));
  }
  if (type.type === 'map') {
    if (typeof value !== 'object' || Array.isArray(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = toIcebergJson(`${column}.${k}`, v, type.value);
    return out;
  }
  if (typeof value !== 'object' || Array.isArray(value)) return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const f of type.fields) out[f.name] = toIcebergJson(`${column}.${f.name}`, source[f.name], f.type);
  return out;
}

/**
 * The bronze row of one validated event: exactly the catalog's columns, in catalog order.
 * `arrivalMs` fills `ingested_at`.
 */
export function bronzeRow(event: object, arrivalMs: number): Record<string, unknown> {
  const fields = event as Record<string, unknown>;
  const row: Record<string, unknown> = {};
  for (const c of BRONZE_COLUMNS) {
    let raw: unknown;
    if (c.name === 'ingested_at') raw = arrivalMs;
    else if (c.name === 'source_file') raw = null;
    else raw = fields[c.name];
    const value = toIcebergJson(c.name, raw, c.type);
    if (c.required && value === null)
      throw new BronzeValueError(c.name, 'missing_required_column', 'required column is null');
    row[c.name] = value;
  }
  return row;
}

/** Arrival time of a record: the Kinesis arrival when known, else Firehose's. */
export function arrivalMillis(record: BronzeInputRecord): number {
  return record.kinesisRecordMetadata?.approximateArrivalTimestamp ?? record.approximateArrivalTimestamp;
}

/** Transforms one Firehose record; never throws for bad input (ProcessingFailed with a reason). */
export function transformRecord(record: BronzeInputRecord): BronzeRecordOutcome {
  const failed = (
    reason: Extract<BronzeRecordOutcome, { result: 'ProcessingFailed' }>['reason'],
    detail: string,
    eventId?: string,
  ): BronzeRecordOutcome =>
    eventId === undefined
      ? { recordId: record.recordId, result: 'ProcessingFailed', data: record.data, reason, detail }
      : { recordId: record.recordId, result: 'ProcessingFailed', data: record.data, reason, detail, eventId };

  const arrival = arrivalMillis(record);
  // The same validation as the local landing loader (`local/sfn/landing.ts`).
  const parsed = validateLakeRecord(Buffer.from(record.data, 'base64'), arrival);
  if (!parsed.ok) return failed(parsed.reason, parsed.detail, parsed.eventId);
  try {
    const row = bronzeRow(parsed.event, arrival);
    return {
      recordId: record.recordId,
      result: 'Ok',
      data: Buffer.from(JSON.stringify(row), 'utf8').toString('base64'),
      eventId: parsed.event.event_id,
    };
  } catch (error: unknown) {
    if (error instanceof BronzeValueError) return failed(error.reason, error.message, parsed.event.event_id);
    throw error;
  }
}

/** Transforms a Firehose batch: one outcome per record, same order, same record ids. */
export function transformBatch(records: readonly BronzeInputRecord[]): BronzeRecordOutcome[] {
  return records.map(transformRecord);
}
