/**
 * Types of the lake table catalog: one description per table, from which the Glue table
 * inputs (CDK), the Athena DDL and the local Iceberg table specs are generated.
 */
import type { IcebergType } from '../event-schema.ts';

export type { IcebergType } from '../event-schema.ts';

/** Medallion layers plus operational and machine-learning tables; each is a Glue database. */
export const NAMESPACES = ['bronze', 'silver', 'gold', 'ops', 'ml'] as const;
export type Namespace = (typeof NAMESPACES)[number];

export interface ColumnSpec {
  /** Iceberg field id: stable for the life of the table, never reused. */
  readonly id: number;
  readonly name: string;
  readonly type: IcebergType;
  readonly required: boolean;
  readonly doc?: string;
}

/** Iceberg partition transforms used by shoplake (`bucket[N]`/`truncate[W]` also allowed). */
export type PartitionTransform =
  | 'identity'
  | 'year'
  | 'month'
  | 'day'
  | 'hour'
  | `bucket[${number}]`
  | `truncate[${number}]`;

export interface PartitionFieldSpec {
  readonly column: string;
  readonly transform: PartitionTransform;
  /** Partition field name, e.g. `event_time_day`. */
  readonly name: string;
}

export interface SortFieldSpec {
  readonly column: string;
  readonly direction: 'asc' | 'desc';
  readonly nullOrder: 'nulls-first' | 'nulls-last';
}

export interface TableSpec {
  readonly namespace: Namespace;
  readonly name: string;
  readonly description: string;
  readonly columns: readonly ColumnSpec[];
  readonly partitionSpec: readonly PartitionFieldSpec[];
  readonly sortOrder: readonly SortFieldSpec[];
  /** Iceberg table properties (write format, target file size, retention…). */
  readonly properties: Readonly<Record<string, string>>;
  /** Columns that identify a row (documentation and uniqueness checks; Iceberg has no PK). */
  readonly key?: readonly string[];
}
