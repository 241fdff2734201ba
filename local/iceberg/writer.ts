/**
 * Writes the rows of a DuckDB query as Iceberg data files: Parquet with Iceberg field ids
 * (`FIELD_IDS`) and the table schema in the `iceberg.schema` key-value metadata, one or more
 * files per partition (`PARTITION_BY` on computed transform columns), with the per-file
 * statistics DuckDB returns (`RETURN_STATS`) turned into manifest metrics — the data is never
 * read back to compute them.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DataFile } from './avro.ts';
import { IcebergValidationError } from './errors.ts';
import type { PartitionSpec, SortOrder } from './metadata.ts';
import {
  duckdbFieldIds,
  duckdbType,
  type IcebergField,
  type IcebergSchema,
  quoteIdent,
  quoteLiteral,
} from './schema.ts';
import { humanPartitionValue, type PartitionValue, transformResultType, transformSql } from './transforms.ts';
import { boundFromStats, partitionValueFromText } from './values.ts';

/** Converts a local path to the location URI stored in metadata (`file:///abs/path`). */
export function toFileUri(localPath: string): string {
  return `file://${path.resolve(localPath)}`;
}

/** Converts a location URI (or plain path) back to a local path. */
export function toLocalPath(location: string): string {
  if (location.startsWith('file://')) return location.slice('file://'.length);
  // Hadoop's Path (Spark's Iceberg writer) prints local files as `file:/abs/path`.
  if (location.startsWith('file:/')) return location.slice('file:'.length);
  return location;
}

/** A path segment that needs no escaping in a URI (pyiceberg does not unquote file URIs). */
function safeSegment(s: string): string {
  const cleaned = s.replace(/[^A-Za-z0-9._+-]/g, '_');
  return cleaned.length > 0 ? cleaned.slice(0, 100) : '_';
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function jsonMap(v: Json | undefined): Map<string, Json> {
  const m = new Map<string, Json>();
  if (Array.isArray(v)) {
    for (const kv of v) {
      if (kv && typeof kv === 'object' && !Array.isArray(kv) && typeof kv.key === 'string')
        m.set(kv.key, kv.value ?? null);
    }
  } else if (v && typeof v === 'object') {
    for (const [k, val] of Object.entries(v)) m.set(k, val);
  }
  return m;
}

/** Statistics-bearing leaf columns (not inside a list or map), keyed as RETURN_STATS names them. */
function leafColumns(
  fields: readonly IcebergField[],
): Map<string, { id: number; type: string; repeated: boolean }> {
  const out = new Map<string, { id: number; type: string; repeated: boolean }>();
  const visit = (names: string[], f: IcebergField['type'], id: number, repeated: boolean): void => {
    if (typeof f === 'string') {
      out.set(names.map((n) => `"${n}"`).join('.'), { id, type: f, repeated });
    } else if (f.type === 'struct') {
      for (const c of f.fields) visit([...names, c.name], c.type, c.id, repeated);
    } else if (f.type === 'list') {
      visit([...names, 'element'], f.element, f['element-id'], true);
    } else {
      visit([...names, 'key'], f.key, f['key-id'], true);
      visit([...names, 'value'], f.value, f['value-id'], true);
    }
  };
  for (const f of fields) visit([f.name], f.type, f.id, false);
  return out;
}

export interface WriteOptions {
  schema: IcebergSchema;
  spec: PartitionSpec;
  sortOrder: SortOrder;
  /** Local directory of the table (data goes to `<tableDir>/data/`). */
  tableDir: string;
}

const NAIVE_TIMESTAMP = /^TIMESTAMP(_S|_MS|_NS)?$/;

/**
 * Builds the SELECT that casts the query's columns to the table schema (by name, case-insensitive;
 * a missing optional column becomes NULL) and adds one `__pN` column per partition field.
 */
export async function buildWriteSelect(
  conn: DuckDBConnection,
  selectSql: string,
  opts: Pick<WriteOptions, 'schema' | 'spec' | 'sortOrder'>,
): Promise<string> {
  // The caller's SQL is wrapped as a subquery: a trailing `;` or `-- comment` must not break it.
  const query = `${selectSql.trim().replace(/;+$/, '')}\n`;
  const described = await conn.runAndReadAll(`DESCRIBE SELECT * FROM (${query}) AS __q`);
  const describedRows = await described.getRowObjectsJson();
  const queryColumns = describedRows.map((r) => String(r.column_name));
  const sourceTypes = new Map(describedRows.map((r) => [String(r.column_name), String(r.column_type)]));
  const byLower = new Map(queryColumns.map((c) => [c.toLowerCase(), c]));
  const fields = opts.schema.fields;
  const known = new Set(fields.map((f) => f.name.toLowerCase()));
  const unknown = queryColumns.filter((c) => !known.has(c.toLowerCase()));
  if (unknown.length > 0) {
    throw new IcebergValidationError(
      `query returns columns that are not in the table schema: ${unknown.join(', ')}`,
    );
  }
  const projection = fields.map((f) => {
    const source = byLower.get(f.name.toLowerCase());
    if (source === undefined) {
      if (f.required) throw new IcebergValidationError(`query does not return required column ${f.name}`);
      return `CAST(NULL AS ${duckdbType(f.type)}) AS ${quoteIdent(f.name)}`;
    }
    const col = `__q.${quoteIdent(source)}`;
    const from = sourceTypes.get(source) ?? '';
    // Naive timestamps are UTC wall-clock time: convert explicitly instead of letting a cast
    // apply the session TimeZone.
    if (f.type === 'timestamptz' && NAIVE_TIMESTAMP.test(from)) {
      return `timezone('UTC', CAST(${col} AS TIMESTAMP)) AS ${quoteIdent(f.name)}`;
    }
    if (f.type === 'timestamp' && from === 'TIMESTAMP WITH TIME ZONE') {
      return `timezone('UTC', ${col}) AS ${quoteIdent(f.name)}`;
    }
    return `CAST(${col} AS ${duckdbType(f.type)}) AS ${quoteIdent(f.name)}`;
  });
  const parts = opts.spec.fields.map((p, i) => {
    const source = fields.find((f) => f.id === p['source-id']);
    if (!source || typeof source.type !== 'string') {
      throw new IcebergValidationError(`partition field ${p.name} has no primitive source column`);
    }
    return `${transformSql(p.transform, source.type, source.name)} AS "__p${i}"`;
  });
  const order = opts.sortOrder.fields
    .map((s) => {
      const source = fields.find((f) => f.id === s['source-id']);
      return source
        ? `${quoteIdent(source.name)} ${s.direction.toUpperCase()} ${s['null-order'] === 'nulls-first' ? 'NULLS FIRST' : 'NULLS LAST'}`
        : undefined;
    })
    .filter((s): s is string => s !== undefined);
  const inner = `SELECT ${projection.join(', ')} FROM (${query}) AS __q`;
  const withParts = parts.length > 0 ? `SELECT *, ${parts.join(', ')} FROM (${inner}) AS __t` : inner;
  return order.length > 0 ? `${withParts} ORDER BY ${order.join(', ')}` : withParts;
}

/**
 * Runs the query and writes its rows as data files of the table. Returns the files (not yet
 * committed: the caller commits them, or deletes them if the commit fails). Zero rows → [].
 */
export async function writeDataFiles(
  conn: DuckDBConnection,
  selectSql: string,
  opts: WriteOptions,
): Promise<DataFile[]> {
  const { schema, spec, tableDir } = opts;
  const select = await buildWriteSelect(conn, selectSql, opts);
  const dataDir = path.join(tableDir, 'data');
  const staging = path.join(dataDir, `.staging-${randomUUID()}`);
  await mkdir(staging, { recursive: true });
  const partitioned = spec.fields.length > 0;
  const target = partitioned ? staging : path.join(staging, `${randomUUID()}.parquet`);
  const options = [
    'FORMAT parquet',
    `FIELD_IDS ${duckdbFieldIds(schema.fields)}`,
    `KV_METADATA {'iceberg.schema': ${quoteLiteral(JSON.stringify(schema))}}`,
    'RETURN_STATS',
  ];
  if (partitioned) {
    options.push(`PARTITION_BY (${spec.fields.map((_, i) => `"__p${i}"`).join(', ')})`);
    options.push("FILENAME_PATTERN 'data_{uuid}'");
  }
  const written: DataFile[] = [];
  try {
    const result = await conn.runAndReadAll(
      `COPY (${select}) TO ${quoteLiteral(target)} (${options.join(', ')})`,
    );
    const rows = (await result.getRowObjectsJson()) as Record<string, Json>[];
    const leaves = leafColumns(schema.fields);
    const requiredTop = new Map(schema.fields.filter((f) => f.required).map((f) => [`"${f.name}"`, f.name]));
    const partitionTypes = spec.fields.map((p) => {
      const source = schema.fields.find((f) => f.id === p['source-id']);
      return transformResultType(p.transform, typeof source?.type === 'string' ? source.type : 'string');
    });
    for (const row of rows) {
      const file = String(row.filename);
      const recordCount = Number(row.count);
      if (recordCount === 0) continue;
      const partition: Record<string, PartitionValue> = {};
      const keys = jsonMap(row.partition_keys ?? null);
      const segments: string[] = [];
      spec.fields.forEach((p, i) => {
        const resultType = partitionTypes[i] ?? 'string';
        const raw = keys.get(`__p${i}`);
        const value = partitionValueFromText(
          resultType,
          raw === null || raw === undefined ? null : String(raw),
        );
        partition[p.name] = value;
        segments.push(
          `${safeSegment(p.name)}=${safeSegment(humanPartitionValue(p.transform, resultType, value))}`,
        );
      });
      const dataFile: DataFile = {
        content: 0,
        filePath: '',
        fileFormat: 'PARQUET',
        partition,
        recordCount,
        fileSizeInBytes: Number(row.file_size_bytes),
        specId: spec['spec-id'],
        columnSizes: new Map(),
        valueCounts: new Map(),
        nullValueCounts: new Map(),
        nanValueCounts: new Map(),
        lowerBounds: new Map(),
        upperBounds: new Map(),
        sortOrderId: opts.sortOrder['order-id'],
      };
      for (const [column, statsJson] of jsonMap(row.column_statistics ?? null)) {
        const leaf = leaves.get(column);
        if (!leaf) continue;
        const stats = jsonMap(statsJson);
        const size = Number(stats.get('column_size_bytes'));
        if (Number.isFinite(size)) dataFile.columnSizes?.set(leaf.id, size);
        if (leaf.repeated) continue;
        const nulls = Number(stats.get('null_count'));
        if (Number.isFinite(nulls)) {
          dataFile.nullValueCounts?.set(leaf.id, nulls);
          const requiredName = requiredTop.get(column);
          if (requiredName && nulls > 0) {
            throw new IcebergValidationError(`required column ${requiredName} has ${nulls} null value(s)`);
          }
        }
        dataFile.valueCounts?.set(leaf.id, recordCount);
        const hasNan = stats.get('has_nan');
        if (leaf.type === 'double' || leaf.type === 'float') {
          if (hasNan === 'true') continue;
          if (hasNan === 'false') dataFile.nanValueCounts?.set(leaf.id, 0);
        }
        const min = stats.get('min');
        const max = stats.get('max');
        if (typeof min === 'string') {
          const b = boundFromStats(leaf.type, min, 'lower');
          if (b) dataFile.lowerBounds?.set(leaf.id, b);
        }
        if (typeof max === 'string') {
          const b = boundFromStats(leaf.type, max, 'upper');
          if (b) dataFile.upperBounds?.set(leaf.id, b);
        }
      }
      const finalDir = path.join(dataDir, ...segments);
      await mkdir(finalDir, { recursive: true });
      const finalPath = path.join(finalDir, `${randomUUID()}.parquet`);
      await rename(file, finalPath);
      dataFile.filePath = toFileUri(finalPath);
      written.push(dataFile);
    }
    return written;
  } catch (err: unknown) {
    await Promise.all(written.map((f) => rm(toLocalPath(f.filePath), { force: true })));
    throw err;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
