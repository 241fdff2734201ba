/**
 * The local Iceberg table spec (shape of `local/iceberg`'s `TableSpec`) of a catalog table:
 * how the local lake creates the same tables Glue holds on AWS.
 */
import type { IcebergType } from '../event-schema.ts';
import type { TableSpec } from './types.ts';

export interface LocalIcebergTableSpec {
  columns: { id: number; name: string; type: IcebergType; required: boolean; doc?: string }[];
  partitionBy: {
    sourceColumn: string;
    transform: 'identity' | 'year' | 'month' | 'day' | 'hour';
    name: string;
  }[];
  sortBy: { column: string; direction: 'asc' | 'desc'; nulls: 'first' | 'last' }[];
  properties: Record<string, string>;
}

export class UnsupportedLocalTransformError extends Error {
  constructor(table: string, transform: string) {
    super(`${table}: partition transform ${transform} is not supported by the local Iceberg library`);
    this.name = 'UnsupportedLocalTransformError';
  }
}

/** Converts a catalog table to the local Iceberg library's table spec. */
export function localTableSpec(table: TableSpec): LocalIcebergTableSpec {
  return {
    columns: table.columns.map((c) => ({ ...c })),
    partitionBy: table.partitionSpec.map((p) => {
      if (!['identity', 'year', 'month', 'day', 'hour'].includes(p.transform)) {
        throw new UnsupportedLocalTransformError(`${table.namespace}.${table.name}`, p.transform);
      }
      return {
        sourceColumn: p.column,
        transform: p.transform as 'identity' | 'year' | 'month' | 'day' | 'hour',
        name: p.name,
      };
    }),
    sortBy: table.sortOrder.map((s) => ({
      column: s.column,
      direction: s.direction,
      nulls: s.nullOrder === 'nulls-first' ? 'first' : 'last',
    })),
    properties: { ...table.properties },
  };
}
