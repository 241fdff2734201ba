/**
 * Iceberg table-metadata shapes (spec JSON: schema, partition spec, sort order) generated from
 * the catalog. The local Iceberg library creates tables from these, and they are the same
 * shapes any Iceberg implementation reads, so the local lake matches what Glue/Athena create.
 */
import type { IcebergType } from '../event-schema.ts';
import type { TableSpec } from './types.ts';

export type IcebergTypeJson =
  | string
  | { type: 'struct'; fields: IcebergFieldJson[] }
  | { type: 'list'; 'element-id': number; element: IcebergTypeJson; 'element-required': boolean }
  | {
      type: 'map';
      'key-id': number;
      key: IcebergTypeJson;
      'value-id': number;
      value: IcebergTypeJson;
      'value-required': boolean;
    };

export interface IcebergFieldJson {
  id: number;
  name: string;
  required: boolean;
  type: IcebergTypeJson;
  doc?: string;
}

export interface IcebergSchemaJson {
  type: 'struct';
  'schema-id': number;
  fields: IcebergFieldJson[];
  'identifier-field-ids'?: number[];
}

export interface IcebergPartitionSpecJson {
  'spec-id': number;
  fields: { 'source-id': number; 'field-id': number; name: string; transform: string }[];
}

export interface IcebergSortOrderJson {
  'order-id': number;
  fields: { 'source-id': number; transform: string; direction: 'asc' | 'desc'; 'null-order': string }[];
}

/** Partition field ids start here (Iceberg convention). */
export const PARTITION_FIELD_ID_BASE = 1000;

/**
 * The Iceberg schema of a table. Nested fields (list elements, map keys/values, struct
 * members) get ids above the highest top-level id, in declaration order — the same ids the
 * local Iceberg library assigns (`toIcebergFields`), so Glue and the local lake agree.
 */
export function icebergSchema(table: TableSpec, schemaId = 0): IcebergSchemaJson {
  let next = Math.max(0, ...table.columns.map((c) => c.id)) + 1;
  const nestedId = () => next++;
  const convert = (t: IcebergType): IcebergTypeJson => {
    if (typeof t === 'string') {
      // Iceberg's canonical spelling (what Java's DecimalType prints and the local library writes).
      const decimal = /^decimal\((\d+),\s*(\d+)\)$/.exec(t);
      return decimal ? `decimal(${decimal[1]}, ${decimal[2]})` : t;
    }
    if (t.type === 'list') {
      const id = nestedId();
      return { type: 'list', 'element-id': id, element: convert(t.element), 'element-required': false };
    }
    if (t.type === 'map') {
      const keyId = nestedId();
      const valueId = nestedId();
      return {
        type: 'map',
        'key-id': keyId,
        key: convert(t.key),
        'value-id': valueId,
        value: convert(t.value),
        'value-required': false,
      };
    }
    const ids = t.fields.map(() => nestedId());
    return {
      type: 'struct',
      fields: t.fields.map((f, i) => ({
        id: ids[i] ?? nestedId(),
        name: f.name,
        required: f.required,
        type: convert(f.type),
      })),
    };
  };
  return {
    type: 'struct',
    'schema-id': schemaId,
    fields: table.columns.map((c) => {
      const field: IcebergFieldJson = { id: c.id, name: c.name, required: c.required, type: convert(c.type) };
      if (c.doc) field.doc = c.doc;
      return field;
    }),
  };
}

function columnId(table: TableSpec, name: string): number {
  const c = table.columns.find((col) => col.name === name);
  if (!c) throw new Error(`${table.namespace}.${table.name}: no column ${name}`);
  return c.id;
}

/** The Iceberg partition spec (spec id 0) of a table. */
export function icebergPartitionSpec(table: TableSpec): IcebergPartitionSpecJson {
  return {
    'spec-id': 0,
    fields: table.partitionSpec.map((p, i) => ({
      'source-id': columnId(table, p.column),
      'field-id': PARTITION_FIELD_ID_BASE + i,
      name: p.name,
      transform: p.transform,
    })),
  };
}

/** The Iceberg sort order of a table (order id 0 = unsorted when it has none). */
export function icebergSortOrder(table: TableSpec): IcebergSortOrderJson {
  if (table.sortOrder.length === 0) return { 'order-id': 0, fields: [] };
  return {
    'order-id': 1,
    fields: table.sortOrder.map((s) => ({
      'source-id': columnId(table, s.column),
      transform: 'identity',
      direction: s.direction,
      'null-order': s.nullOrder,
    })),
  };
}
