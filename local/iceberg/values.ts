/**
 * Value conversions between DuckDB's textual statistics / partition keys and Iceberg's
 * representations: the single-value binary serialization of lower/upper bounds (spec appendix D)
 * and the JS values stored in manifest partition tuples.
 */
import { IcebergValidationError } from './errors.ts';
import { isoToEpochDay, type PartitionValue } from './transforms.ts';

const DECIMAL = /^decimal\((\d+),\s*(\d+)\)$/;
/** Iceberg truncates string bounds; 16 characters is the default `write.metadata.metrics.default`. */
export const STRING_BOUND_CHARS = 16;

/**
 * Parses DuckDB's text form of a timestamp (`2026-11-21 10:00:00.123456+00`, offset optional)
 * to epoch microseconds. Without an offset the value is taken as UTC wall-clock time.
 */
export function parseTimestampMicros(text: string): bigint {
  const m =
    /^(-?\d{4,})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?|Z)?$/.exec(
      text.trim(),
    );
  if (!m) throw new IcebergValidationError(`cannot parse timestamp ${JSON.stringify(text)}`);
  const [, y, mo, d, h, mi, s, frac, sign, oh, om, os] = m;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  let micros = BigInt(ms) * 1000n + BigInt((frac ?? '').padEnd(6, '0').slice(0, 6) || '0');
  if (sign) {
    const offsetSeconds = Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0);
    micros -= BigInt((sign === '-' ? -1 : 1) * offsetSeconds) * 1_000_000n;
  }
  return micros;
}

function intBytes(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
}

function longBytes(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b;
}

function decimalBytes(text: string, scale: number): Buffer {
  const neg = text.trim().startsWith('-');
  const [whole = '0', frac = ''] = text.trim().replace(/^[-+]/, '').split('.');
  let unscaled = BigInt(whole + frac.padEnd(scale, '0').slice(0, scale));
  if (neg) unscaled = -unscaled;
  // Minimal two's-complement big-endian.
  let hex = (unscaled < 0n ? -unscaled : unscaled).toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  let bytes = Buffer.from(hex, 'hex');
  if (unscaled >= 0n) {
    if (bytes.length === 0 || (bytes[0] ?? 0) & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes]);
    return bytes;
  }
  // Negative: two's complement over the byte length, widened if the sign bit is wrong.
  let len = bytes.length;
  for (;;) {
    const mod = 1n << BigInt(len * 8);
    const v = mod + unscaled;
    let h = v.toString(16).padStart(len * 2, '0');
    if (h.length > len * 2) h = h.slice(-len * 2);
    const out = Buffer.from(h, 'hex');
    if ((out[0] ?? 0) & 0x80) return out;
    len += 1;
  }
}

/** Truncated upper bound of a string: the prefix with its last code point incremented. */
function truncateUpper(value: string, chars: number): string | undefined {
  const cps = Array.from(value);
  if (cps.length <= chars) return value;
  const prefix = cps.slice(0, chars);
  for (let i = prefix.length - 1; i >= 0; i--) {
    const cp = prefix[i]?.codePointAt(0) ?? 0;
    let next = cp + 1;
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    if (next <= 0x10ffff) {
      return prefix.slice(0, i).join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/**
 * Converts a DuckDB statistics string (min or max of a Parquet column) to Iceberg's single-value
 * binary serialization. Returns undefined when no sound bound can be given (NaN / infinities,
 * an upper string bound that cannot be incremented, unsupported types): a missing bound only
 * disables pruning, a wrong one would drop rows.
 */
export function boundFromStats(type: string, text: string, kind: 'lower' | 'upper'): Buffer | undefined {
  switch (type) {
    case 'boolean':
      return Buffer.from([text === '1' || text.toLowerCase() === 'true' ? 1 : 0]);
    case 'int': {
      const n = Number(text);
      return Number.isInteger(n) ? intBytes(n) : undefined;
    }
    case 'long':
      return /^-?\d+$/.test(text) ? longBytes(BigInt(text)) : undefined;
    case 'date':
      return intBytes(isoToEpochDay(text));
    case 'timestamptz':
    case 'timestamp':
      return longBytes(parseTimestampMicros(text));
    case 'double':
    case 'float': {
      const n = Number(text);
      if (!Number.isFinite(n)) return undefined;
      const b = Buffer.alloc(type === 'double' ? 8 : 4);
      if (type === 'double') b.writeDoubleLE(n);
      else b.writeFloatLE(n);
      return b;
    }
    case 'string': {
      if (kind === 'lower')
        return Buffer.from(Array.from(text).slice(0, STRING_BOUND_CHARS).join(''), 'utf8');
      const upper = truncateUpper(text, STRING_BOUND_CHARS);
      return upper === undefined ? undefined : Buffer.from(upper, 'utf8');
    }
    default: {
      const m = DECIMAL.exec(type);
      if (m && /^-?\d+(\.\d+)?$/.test(text.trim())) return decimalBytes(text, Number(m[2]));
      return undefined;
    }
  }
}

/** Decodes a single-value binary bound back to a JS value (tests, pruning, tooling). */
export function decodeBound(type: string, bytes: Buffer): string | number | bigint | boolean {
  switch (type) {
    case 'boolean':
      return bytes[0] === 1;
    case 'int':
    case 'date':
      return bytes.readInt32LE(0);
    case 'long':
    case 'timestamptz':
    case 'timestamp':
      return bytes.readBigInt64LE(0);
    case 'double':
      return bytes.readDoubleLE(0);
    case 'float':
      return bytes.readFloatLE(0);
    case 'string':
      return bytes.toString('utf8');
    default:
      return bytes.toString('hex');
  }
}

/**
 * Converts a partition key as DuckDB reports it for `PARTITION_BY` (text, or null) to the
 * manifest value of the partition field's result type.
 */
export function partitionValueFromText(resultType: string, text: string | null): PartitionValue {
  if (text === null) return null;
  switch (resultType) {
    case 'int':
    case 'long': {
      const n = Number(text);
      if (!Number.isSafeInteger(n))
        throw new IcebergValidationError(`partition value ${text} is not an integer`);
      return n;
    }
    case 'date':
      return isoToEpochDay(text);
    case 'timestamptz':
    case 'timestamp':
      return Number(parseTimestampMicros(text));
    case 'boolean':
      return text === 'true' || text === '1';
    case 'string':
      return text;
    default:
      throw new IcebergValidationError(`identity partitioning on ${resultType} is not supported`);
  }
}

/** Serializes a partition value as a bound (manifest-list partition summaries). */
export function partitionValueBound(
  resultType: string,
  value: Exclude<PartitionValue, null>,
): Buffer | undefined {
  switch (resultType) {
    case 'int':
    case 'date':
      return intBytes(Number(value));
    case 'long':
    case 'timestamptz':
    case 'timestamp':
      return longBytes(BigInt(Number(value)));
    case 'boolean':
      return Buffer.from([value === true ? 1 : 0]);
    case 'string':
      return Buffer.from(String(value), 'utf8');
    default:
      return undefined;
  }
}
