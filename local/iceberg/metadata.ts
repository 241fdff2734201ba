/**
 * Table metadata JSON, format version 2 (Iceberg spec "Table Metadata"): its types, a strict
 * parser (a corrupted file is an `IcebergMetadataError` naming the file, never a half-read
 * table) and the pure functions that derive a new metadata version from a base one.
 */
import { z } from 'zod';
import { IcebergMetadataError } from './errors.ts';
import type { IcebergField, IcebergJsonType, IcebergSchema } from './schema.ts';
import type { TransformName } from './transforms.ts';

export interface PartitionField {
  'source-id': number;
  'field-id': number;
  name: string;
  transform: TransformName;
}
export interface PartitionSpec {
  'spec-id': number;
  fields: PartitionField[];
}
export interface SortField {
  transform: 'identity';
  'source-id': number;
  direction: 'asc' | 'desc';
  'null-order': 'nulls-first' | 'nulls-last';
}
export interface SortOrder {
  'order-id': number;
  fields: SortField[];
}
export type SnapshotOperation = 'append' | 'overwrite' | 'replace' | 'delete';
export interface Snapshot {
  'snapshot-id': number;
  'parent-snapshot-id'?: number;
  'sequence-number': number;
  'timestamp-ms': number;
  'manifest-list': string;
  summary: { operation: SnapshotOperation } & Record<string, string>;
  'schema-id': number;
}
export interface SnapshotRef {
  'snapshot-id': number;
  type: 'branch' | 'tag';
  'max-ref-age-ms'?: number;
  'max-snapshot-age-ms'?: number;
  'min-snapshots-to-keep'?: number;
}
export interface TableMetadata {
  'format-version': 2;
  'table-uuid': string;
  location: string;
  'last-sequence-number': number;
  'last-updated-ms': number;
  'last-column-id': number;
  schemas: IcebergSchema[];
  'current-schema-id': number;
  'partition-specs': PartitionSpec[];
  'default-spec-id': number;
  'last-partition-id': number;
  properties: Record<string, string>;
  'current-snapshot-id': number;
  snapshots: Snapshot[];
  'snapshot-log': { 'snapshot-id': number; 'timestamp-ms': number }[];
  'metadata-log': { 'metadata-file': string; 'timestamp-ms': number }[];
  'sort-orders': SortOrder[];
  'default-sort-order-id': number;
  refs: Record<string, SnapshotRef>;
  statistics: unknown[];
  'partition-statistics': unknown[];
}

/** Snapshot id meaning "no snapshot" (Java writes -1; pyiceberg and icebird accept it). */
export const NO_SNAPSHOT = -1;

const fieldType: z.ZodType<IcebergJsonType> = z.lazy(() =>
  z.union([
    z.string(),
    z.object({ type: z.literal('struct'), fields: z.array(field) }),
    z.object({
      type: z.literal('list'),
      'element-id': z.number().int(),
      element: fieldType,
      'element-required': z.boolean(),
    }),
    z.object({
      type: z.literal('map'),
      'key-id': z.number().int(),
      key: fieldType,
      'value-id': z.number().int(),
      value: fieldType,
      'value-required': z.boolean(),
    }),
  ]),
);
const field: z.ZodType<IcebergField> = z.lazy(() =>
  z.object({
    id: z.number().int(),
    name: z.string(),
    required: z.boolean(),
    type: fieldType,
    doc: z.string().optional(),
  }),
);
const schemaSchema = z.object({
  type: z.literal('struct'),
  'schema-id': z.number().int(),
  'identifier-field-ids': z.array(z.number().int()).optional(),
  fields: z.array(field),
});
/**
 * Snapshot ids are 64-bit: Spark/Athena (Java) pick random 63-bit ones, which JSON.parse can
 * only approximate. Reading needs ids just to be equal where the file's are (the same digits
 * round the same way), so an unsafe integer is accepted here; `hasInexactSnapshotIds` makes
 * writers refuse such a table instead of writing rounded ids back.
 */
const snapshotId = z.number().refine(Number.isInteger, 'expected an integer snapshot id');
const snapshotSchema = z.object({
  'snapshot-id': snapshotId,
  'parent-snapshot-id': snapshotId.optional(),
  'sequence-number': z.number().int(),
  'timestamp-ms': z.number().int(),
  'manifest-list': z.string(),
  summary: z.looseObject({ operation: z.enum(['append', 'overwrite', 'replace', 'delete']) }),
  'schema-id': z.number().int(),
});
const metadataSchema = z.object({
  'format-version': z.literal(2),
  'table-uuid': z.string(),
  location: z.string(),
  'last-sequence-number': z.number().int(),
  'last-updated-ms': z.number().int(),
  'last-column-id': z.number().int(),
  schemas: z.array(schemaSchema).min(1),
  'current-schema-id': z.number().int(),
  'partition-specs': z
    .array(
      z.object({
        'spec-id': z.number().int(),
        fields: z.array(
          z.object({
            'source-id': z.number().int(),
            'field-id': z.number().int(),
            name: z.string(),
            transform: z.enum(['identity', 'year', 'month', 'day', 'hour']),
          }),
        ),
      }),
    )
    .min(1),
  'default-spec-id': z.number().int(),
  'last-partition-id': z.number().int(),
  properties: z.record(z.string(), z.string()).default({}),
  'current-snapshot-id': snapshotId
    .nullable()
    .default(NO_SNAPSHOT)
    .transform((v) => v ?? NO_SNAPSHOT),
  snapshots: z.array(snapshotSchema).default([]),
  'snapshot-log': z
    .array(z.object({ 'snapshot-id': snapshotId, 'timestamp-ms': z.number().int() }))
    .default([]),
  'metadata-log': z
    .array(z.object({ 'metadata-file': z.string(), 'timestamp-ms': z.number().int() }))
    .default([]),
  'sort-orders': z
    .array(
      z.object({
        'order-id': z.number().int(),
        fields: z.array(
          z.object({
            transform: z.literal('identity'),
            'source-id': z.number().int(),
            direction: z.enum(['asc', 'desc']),
            'null-order': z.enum(['nulls-first', 'nulls-last']),
          }),
        ),
      }),
    )
    .min(1),
  'default-sort-order-id': z.number().int(),
  refs: z
    .record(
      z.string(),
      z.object({
        'snapshot-id': snapshotId,
        type: z.enum(['branch', 'tag']),
        'max-ref-age-ms': z.number().int().optional(),
        'max-snapshot-age-ms': z.number().int().optional(),
        'min-snapshots-to-keep': z.number().int().optional(),
      }),
    )
    .default({}),
  statistics: z.array(z.unknown()).default([]),
  'partition-statistics': z.array(z.unknown()).default([]),
});

/**
 * Parses and checks a table metadata JSON document. Cross-references (current schema, spec,
 * snapshot) are checked too, so a reader never works from a file that only half makes sense.
 */
export function parseTableMetadata(text: string, file: string): TableMetadata {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err: unknown) {
    throw new IcebergMetadataError(
      file,
      `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
      {
        cause: err,
      },
    );
  }
  const parsed = metadataSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid';
    throw new IcebergMetadataError(file, `not valid Iceberg v2 table metadata (${where})`);
  }
  const m = parsed.data as TableMetadata;
  if (!m.schemas.some((s) => s['schema-id'] === m['current-schema-id'])) {
    throw new IcebergMetadataError(file, `current-schema-id ${m['current-schema-id']} is not in schemas`);
  }
  if (!m['partition-specs'].some((s) => s['spec-id'] === m['default-spec-id'])) {
    throw new IcebergMetadataError(file, `default-spec-id ${m['default-spec-id']} is not in partition-specs`);
  }
  if (
    m['current-snapshot-id'] !== NO_SNAPSHOT &&
    !m.snapshots.some((s) => s['snapshot-id'] === m['current-snapshot-id'])
  ) {
    throw new IcebergMetadataError(
      file,
      `current-snapshot-id ${m['current-snapshot-id']} is not in snapshots`,
    );
  }
  return m;
}

/** Serializes metadata the way it is stored (stable key order, 2-space indent). */
/** True if a snapshot id of the table is beyond 2^53 (written by a Java engine, e.g. Spark). */
export function hasInexactSnapshotIds(m: TableMetadata): boolean {
  return (
    !Number.isSafeInteger(m['current-snapshot-id']) ||
    m.snapshots.some(
      (s) =>
        !Number.isSafeInteger(s['snapshot-id']) ||
        (s['parent-snapshot-id'] !== undefined && !Number.isSafeInteger(s['parent-snapshot-id'])),
    )
  );
}

export function serializeTableMetadata(m: TableMetadata): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}

/** The schema with the given id (current one by default). */
export function schemaById(m: TableMetadata, id = m['current-schema-id']): IcebergSchema {
  const s = m.schemas.find((x) => x['schema-id'] === id);
  if (!s) throw new IcebergMetadataError(m.location, `schema ${id} not found`);
  return s;
}

/** The partition spec with the given id (default one by default). */
export function specById(m: TableMetadata, id = m['default-spec-id']): PartitionSpec {
  const s = m['partition-specs'].find((x) => x['spec-id'] === id);
  if (!s) throw new IcebergMetadataError(m.location, `partition spec ${id} not found`);
  return s;
}

/** The current snapshot, or undefined for a table that has never been written. */
export function currentSnapshot(m: TableMetadata): Snapshot | undefined {
  return m['current-snapshot-id'] === NO_SNAPSHOT
    ? undefined
    : m.snapshots.find((s) => s['snapshot-id'] === m['current-snapshot-id']);
}
