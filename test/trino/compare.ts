/**
 * Compares one table's (or query's) rows from DuckDB and Trino by the catalog's column types:
 * exact for strings, integers, decimals, dates, timestamps (to the millisecond both engines'
 * readers return) and nested values; doubles (rates, shares, scores) within a relative
 * tolerance, because the two engines sum floating-point numbers in different orders.
 */
import type { IcebergType } from '../../lambdas/shared/catalog/index.ts';

export const DOUBLE_TOLERANCE = 1e-9;

export interface ColumnType {
  readonly name: string;
  readonly type: IcebergType | string;
}

const isDouble = (t: IcebergType | string) => t === 'double' || t === 'float';

function decimalScale(t: IcebergType | string): number | undefined {
  if (typeof t !== 'string') return undefined;
  const m = /^decimal\(\s*\d+\s*,\s*(\d+)\s*\)$/.exec(t);
  return m ? Number(m[1]) : undefined;
}

function fixed(v: unknown, scale: number): string {
  if (typeof v === 'object' && v !== null && 'value' in v && 'scale' in v) {
    // @duckdb/node-api DECIMAL value object: an integer value and its scale.
    const o = v as { value: bigint | number; scale: number };
    const big = BigInt(o.value);
    const neg = big < 0n;
    const digits = (neg ? -big : big).toString().padStart(o.scale + 1, '0');
    const text = o.scale > 0 ? `${digits.slice(0, -o.scale)}.${digits.slice(-o.scale)}` : digits;
    return fixed(`${neg ? '-' : ''}${text}`, scale);
  }
  const text = String(v);
  const m = /^(-?)(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) return typeof v === 'number' ? v.toFixed(scale) : text;
  const frac = (m[3] ?? '').padEnd(scale, '0');
  if (frac.length > scale && /[1-9]/.test(frac.slice(scale))) return text; // more digits than the type: a mismatch
  return `${m[1]}${m[2]}${scale > 0 ? `.${frac.slice(0, scale)}` : ''}`;
}

/** `2026-11-20 10:00:00.123456 UTC` (Trino) or an ISO string (DuckDB) → ISO, milliseconds. */
function isoMillis(v: unknown): string {
  const text = String(v);
  const trino = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(\.\d+)? (UTC|Z|[+-]\d{2}:\d{2})$/.exec(text);
  const iso = trino
    ? `${trino[1]}T${trino[2]}${(trino[3] ?? '.000').slice(0, 4).padEnd(4, '0')}${trino[4] === 'UTC' ? 'Z' : trino[4]}`
    : text;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? text : new Date(ms).toISOString();
}

/** The comparable form of one value; doubles stay numbers (compared with a tolerance). */
export function normalise(type: IcebergType | string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof type === 'string') {
    const scale = decimalScale(type);
    if (scale !== undefined) return fixed(v, scale);
    switch (type) {
      case 'double':
      case 'float':
        return typeof v === 'string' ? Number(v) : v;
      case 'int':
      case 'long':
        return String(v);
      case 'timestamptz':
      case 'timestamp':
        return isoMillis(v);
      case 'date':
        return String(v).slice(0, 10);
      case 'boolean':
        return v === true || v === 'true';
      default:
        return String(v);
    }
  }
  if (type.type === 'list') return (v as unknown[]).map((x) => normalise(type.element, x));
  if (type.type === 'map') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1));
    return Object.fromEntries(entries.map(([k, x]) => [k, normalise(type.value, x)]));
  }
  // struct: Trino encodes a row as an array of field values, DuckDB as an object.
  const fields = type.fields;
  return Object.fromEntries(
    fields.map((f, i) => [
      f.name,
      normalise(f.type, Array.isArray(v) ? v[i] : (v as Record<string, unknown>)[f.name]),
    ]),
  );
}

function close(a: unknown, b: unknown): boolean {
  if (a === null || b === null) return a === b;
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y);
  return Math.abs(x - y) <= DOUBLE_TOLERANCE * Math.max(1, Math.abs(x), Math.abs(y));
}

export interface TableDiff {
  readonly duckdbRows: number;
  readonly trinoRows: number;
  /** Up to `limit` human-readable differences (empty when the results agree). */
  readonly differences: string[];
}

/**
 * Compares two row sets. Rows are matched by their exact columns (every column but the
 * doubles); the doubles of matched rows must agree within `DOUBLE_TOLERANCE`.
 */
export function compareRows(
  columns: readonly ColumnType[],
  duckdb: readonly Record<string, unknown>[],
  trino: readonly Record<string, unknown>[],
  limit = 10,
): TableDiff {
  const exact = columns.filter((c) => !isDouble(c.type));
  const doubles = columns.filter((c) => isDouble(c.type));
  const prepare = (rows: readonly Record<string, unknown>[]) =>
    rows
      .map((r) => {
        const key = JSON.stringify(exact.map((c) => normalise(c.type, r[c.name])));
        const nums = doubles.map((c) => normalise(c.type, r[c.name]));
        return { key, nums };
      })
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const a = prepare(duckdb);
  const b = prepare(trino);
  const differences: string[] = [];
  let i = 0;
  let j = 0;
  while ((i < a.length || j < b.length) && differences.length < limit) {
    const x = a[i];
    const y = b[j];
    if (x && y && x.key === y.key) {
      doubles.forEach((c, k) => {
        if (!close(x.nums[k], y.nums[k]) && differences.length < limit) {
          differences.push(
            `${c.name}: duckdb ${String(x.nums[k])} vs trino ${String(y.nums[k])} in ${x.key}`,
          );
        }
      });
      i++;
      j++;
    } else if (x && (!y || x.key < y.key)) {
      differences.push(`only in duckdb: ${x.key}`);
      i++;
    } else if (y) {
      differences.push(`only in trino: ${y.key}`);
      j++;
    }
  }
  return { duckdbRows: duckdb.length, trinoRows: trino.length, differences };
}
