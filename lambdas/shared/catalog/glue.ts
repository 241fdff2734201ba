/**
 * Glue Data Catalog and Athena DDL generated from the table catalog. The CDK stacks create the
 * Glue databases/tables from `glueDatabaseInputs()` / `glueTableInput()`; `athenaDdl()` is the
 * equivalent `CREATE TABLE` for operators who bootstrap a lake with Athena (it also carries
 * the partition spec, which Glue's Iceberg table input cannot express).
 */
import type { IcebergType } from '../event-schema.ts';
import { TABLES } from './tables.ts';
import { NAMESPACES, type Namespace, type TableSpec } from './types.ts';

/** Glue database names are `<prefix><namespace>`, e.g. `shoplake_silver`. */
export const DEFAULT_DATABASE_PREFIX = 'shoplake_';

export function databaseName(namespace: Namespace, prefix = DEFAULT_DATABASE_PREFIX): string {
  return `${prefix}${namespace}`;
}

/** Hive/Glue type string of an Iceberg type (Athena reads Iceberg timestamptz as timestamp). */
export function glueType(t: IcebergType): string {
  if (typeof t === 'string') {
    switch (t) {
      case 'long':
        return 'bigint';
      case 'timestamptz':
        return 'timestamp';
      default:
        return t;
    }
  }
  if (t.type === 'list') return `array<${glueType(t.element)}>`;
  if (t.type === 'map') return `map<${glueType(t.key)},${glueType(t.value)}>`;
  return `struct<${t.fields.map((f) => `${f.name}:${glueType(f.type)}`).join(',')}>`;
}

/** Where a table's data and metadata live under the warehouse root (`s3://bucket/warehouse`). */
export function tableLocation(table: TableSpec, warehouseUri: string): string {
  return `${warehouseUri.replace(/\/+$/, '')}/${table.namespace}/${table.name}`;
}

export interface GlueTableInput {
  Name: string;
  Description: string;
  TableType: 'EXTERNAL_TABLE';
  StorageDescriptor: { Columns: { Name: string; Type: string; Comment?: string }[]; Location: string };
  Parameters: Record<string, string>;
}

export interface GlueIcebergTable {
  DatabaseName: string;
  TableInput: GlueTableInput;
  /** Sibling of TableInput in Glue CreateTable and in CDK `CfnTable` (`openTableFormatInput`). */
  OpenTableFormatInput: { IcebergInput: { MetadataOperation: 'CREATE'; Version: '2' } };
}

/** Glue CreateTable input (Iceberg open table format) of one catalog table. */
export function glueTableInput(
  table: TableSpec,
  options: { warehouseUri: string; databasePrefix?: string },
): GlueIcebergTable {
  return {
    DatabaseName: databaseName(table.namespace, options.databasePrefix),
    TableInput: {
      Name: table.name,
      Description: table.description,
      TableType: 'EXTERNAL_TABLE',
      StorageDescriptor: {
        Columns: table.columns.map((c) =>
          c.doc
            ? { Name: c.name, Type: glueType(c.type), Comment: c.doc.slice(0, 255) }
            : { Name: c.name, Type: glueType(c.type) },
        ),
        Location: tableLocation(table, options.warehouseUri),
      },
      Parameters: {
        table_type: 'ICEBERG',
        classification: 'parquet',
        write_compression: 'zstd',
        'shoplake.partition-spec': table.partitionSpec.map((p) => `${p.transform}(${p.column})`).join(','),
      },
    },
    OpenTableFormatInput: { IcebergInput: { MetadataOperation: 'CREATE', Version: '2' } },
  };
}

/** One Glue database input per namespace. */
export function glueDatabaseInputs(
  prefix = DEFAULT_DATABASE_PREFIX,
): { Name: string; Description: string }[] {
  return NAMESPACES.map((ns) => ({ Name: databaseName(ns, prefix), Description: `shoplake ${ns} tables` }));
}

/** Glue table inputs of the whole catalog. */
export function glueTableInputs(options: {
  warehouseUri: string;
  databasePrefix?: string;
}): GlueIcebergTable[] {
  return TABLES.map((t) => glueTableInput(t, options));
}

function athenaPartition(p: TableSpec['partitionSpec'][number]): string {
  const bucket = /^bucket\[(\d+)\]$/.exec(p.transform);
  if (bucket) return `bucket(${bucket[1]}, \`${p.column}\`)`;
  const truncate = /^truncate\[(\d+)\]$/.exec(p.transform);
  if (truncate) return `truncate(${truncate[1]}, \`${p.column}\`)`;
  return p.transform === 'identity' ? `\`${p.column}\`` : `${p.transform}(\`${p.column}\`)`;
}

/** Athena `CREATE TABLE … TBLPROPERTIES ('table_type'='ICEBERG')` of one catalog table. */
export function athenaDdl(
  table: TableSpec,
  options: { warehouseUri: string; databasePrefix?: string },
): string {
  const cols = table.columns.map((c) => `  \`${c.name}\` ${glueType(c.type)}`).join(',\n');
  const partition =
    table.partitionSpec.length > 0
      ? `\nPARTITIONED BY (${table.partitionSpec.map(athenaPartition).join(', ')})`
      : '';
  const maxAgeMs = Number(table.properties['history.expire.max-snapshot-age-ms'] ?? 7 * 86_400_000);
  const keep = table.properties['history.expire.min-snapshots-to-keep'] ?? '5';
  return [
    `CREATE TABLE IF NOT EXISTS ${databaseName(table.namespace, options.databasePrefix)}.${table.name} (`,
    cols,
    `)${partition}`,
    `LOCATION '${tableLocation(table, options.warehouseUri)}/'`,
    'TBLPROPERTIES (',
    "  'table_type'='ICEBERG',",
    "  'format'='parquet',",
    "  'write_compression'='zstd',",
    `  'vacuum_max_snapshot_age_seconds'='${Math.round(maxAgeMs / 1000)}',`,
    `  'vacuum_min_snapshots_to_keep'='${keep}'`,
    ')',
  ].join('\n');
}
