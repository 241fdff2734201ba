/**
 * Local Apache Iceberg v2 tables (real format: Parquet data with field ids, Avro manifests,
 * metadata JSON, atomic optimistic commits) for shoplake's local lakehouse. See docs/iceberg.md.
 */
export type { DataFile, ManifestEntry, ManifestFile } from './avro.ts';
export { LocalIcebergCatalog, newTableMetadata, parseIdent, type TableSpec } from './catalog.ts';
export { createDuckdbView, duckdbFileListSql, duckdbScanSql, emptySelectSql } from './duckdb.ts';
export {
  CommitConflictError,
  IcebergError,
  IcebergMetadataError,
  IcebergValidationError,
  NoSuchTableError,
  TableAlreadyExistsError,
} from './errors.ts';
export type { Snapshot, SnapshotOperation, TableMetadata } from './metadata.ts';
export type { ColumnSpec, ColumnType, IcebergSchema } from './schema.ts';
export { duckdbType } from './schema.ts';
export {
  type CommitResult,
  IcebergTable,
  type OverwriteScope,
  type PlanOptions,
  type RetryPolicy,
} from './table.ts';
export type { PartitionValue, TransformName } from './transforms.ts';
export { toFileUri, toLocalPath } from './writer.ts';
