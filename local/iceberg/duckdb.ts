/**
 * Exposes Iceberg tables to DuckDB: a `read_parquet` over the data files of a snapshot that
 * resolves columns by Iceberg field id (`schema=` map), so added columns read as NULL in older
 * files and the column types are exactly the table's. An empty table is a typed empty SELECT.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DataFile } from './avro.ts';
import { IcebergValidationError } from './errors.ts';
import type { IcebergSchema } from './schema.ts';
import { duckdbType, quoteIdent, quoteLiteral } from './schema.ts';
import type { IcebergTable, PlanOptions } from './table.ts';
import { toLocalPath } from './writer.ts';

/** A typed empty SELECT with the schema's columns. */
export function emptySelectSql(schema: IcebergSchema): string {
  const cols = schema.fields.map((f) => `CAST(NULL AS ${duckdbType(f.type)}) AS ${quoteIdent(f.name)}`);
  return `SELECT ${cols.join(', ')} WHERE false`;
}

/**
 * SQL reading exactly these data files with the given schema (columns matched by field id;
 * hive partitioning off, since partition directories are named `field=value`).
 */
export function duckdbFileListSql(schema: IcebergSchema, files: readonly DataFile[]): string {
  if (files.length === 0) return emptySelectSql(schema);
  const list = files.map((f) => quoteLiteral(toLocalPath(f.filePath))).join(', ');
  const mapping = schema.fields
    .map(
      (f) =>
        `${f.id}: {name: ${quoteLiteral(f.name)}, type: ${quoteLiteral(duckdbType(f.type))}, default_value: NULL}`,
    )
    .join(', ');
  const cols = schema.fields.map((f) => quoteIdent(f.name)).join(', ');
  return `SELECT ${cols} FROM read_parquet([${list}], schema = MAP {${mapping}}, hive_partitioning = false)`;
}

/**
 * SQL selecting the rows of a table's current snapshot, or of a past one (`snapshotId` /
 * `asOfMs`), with the schema that snapshot was written with. Used to define DuckDB views.
 */
export async function duckdbScanSql(table: IcebergTable, opts: PlanOptions = {}): Promise<string> {
  const snapshot = table.snapshotFor(opts);
  const schema = table.schema(
    opts.snapshotId !== undefined || opts.asOfMs !== undefined ? snapshot?.['schema-id'] : undefined,
  );
  return duckdbFileListSql(schema, await table.planFiles(opts));
}

const VIEW_NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

/**
 * Creates (or replaces) a DuckDB view over a table snapshot. `viewName` is `name` or
 * `schema.name` (plain identifiers only; the schema must exist); each part is quoted.
 */
export async function createDuckdbView(
  conn: DuckDBConnection,
  viewName: string,
  table: IcebergTable,
  opts: PlanOptions & { temporary?: boolean } = {},
): Promise<void> {
  if (!VIEW_NAME.test(viewName))
    throw new IcebergValidationError(`invalid view name ${JSON.stringify(viewName)}`);
  const name = viewName.split('.').map(quoteIdent).join('.');
  const sql = await duckdbScanSql(table, opts);
  await conn.run(`CREATE OR REPLACE ${opts.temporary ? 'TEMP ' : ''}VIEW ${name} AS ${sql}`);
}
