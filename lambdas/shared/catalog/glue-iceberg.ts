/**
 * Glue `CreateTable` `OpenTableFormatInput.IcebergInput.IcebergTableInput` generated from the
 * table catalog: the Iceberg schema with the catalog's field ids, the partition spec (day /
 * month / identity … transforms), the write (sort) order and the table properties.
 *
 * Why: a Glue Iceberg table created from `TableInput` columns alone is unpartitioned and gets
 * Glue-assigned field ids, so the lake on AWS would differ from the catalog (and from the local
 * lake, which is created from the same `icebergSchema` / `icebergPartitionSpec` /
 * `icebergSortOrder`). CloudFormation's `AWS::Glue::Table` accepts this input (and CDK's
 * `CfnTable.IcebergTableInputProperty`), so the tables are created partitioned and sorted.
 *
 * Field types: CloudFormation types `IcebergStructField.Type` as a string (the Glue API as a
 * JSON value). Primitive types are the Iceberg type names; nested types (list / map / struct)
 * are the Iceberg spec's JSON type object, JSON-encoded, with the nested field ids of
 * `icebergSchema()`.
 */
import { tableLocation } from './glue.ts';
import { type IcebergTypeJson, icebergPartitionSpec, icebergSchema, icebergSortOrder } from './iceberg.ts';
import type { TableSpec } from './types.ts';

/** Shape of `CfnTable.IcebergTableInputProperty` in CloudFormation's PascalCase. */
export interface GlueIcebergTableInput {
  Location: string;
  Schema: {
    SchemaId: number;
    Type: 'struct';
    Fields: { Id: number; Name: string; Type: string; Required: boolean; Doc?: string }[];
  };
  PartitionSpec: {
    SpecId: number;
    Fields: { SourceId: number; FieldId: number; Name: string; Transform: string }[];
  };
  WriteOrder: {
    OrderId: number;
    Fields: { SourceId: number; Transform: string; Direction: string; NullOrder: string }[];
  };
  Properties: Record<string, string>;
}

/**
 * Table properties that are not stored as properties: `format-version` is the IcebergInput's
 * `Version`, not a property (Iceberg reserves it).
 */
export const RESERVED_ICEBERG_PROPERTIES: ReadonlySet<string> = new Set(['format-version']);

/** Glue's length limit on `IcebergStructField.Doc`. */
const MAX_DOC_CHARS = 255;

/** The `Type` string of one field: a primitive name, or the JSON of a nested Iceberg type. */
export function glueIcebergFieldType(type: IcebergTypeJson): string {
  return typeof type === 'string' ? type : JSON.stringify(type);
}

/** Glue IcebergTableInput of one catalog table (schema, partition spec, write order, properties). */
export function glueIcebergTableInput(
  table: TableSpec,
  options: { warehouseUri: string },
): GlueIcebergTableInput {
  const schema = icebergSchema(table);
  const spec = icebergPartitionSpec(table);
  const order = icebergSortOrder(table);
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(table.properties)) {
    if (!RESERVED_ICEBERG_PROPERTIES.has(k)) properties[k] = v;
  }
  properties.comment = table.description;
  return {
    Location: tableLocation(table, options.warehouseUri),
    Schema: {
      SchemaId: schema['schema-id'],
      Type: 'struct',
      Fields: schema.fields.map((f) => {
        const field = { Id: f.id, Name: f.name, Type: glueIcebergFieldType(f.type), Required: f.required };
        return f.doc ? { ...field, Doc: f.doc.slice(0, MAX_DOC_CHARS) } : field;
      }),
    },
    PartitionSpec: {
      SpecId: spec['spec-id'],
      Fields: spec.fields.map((p) => ({
        SourceId: p['source-id'],
        FieldId: p['field-id'],
        Name: p.name,
        Transform: p.transform,
      })),
    },
    WriteOrder: {
      OrderId: order['order-id'],
      Fields: order.fields.map((s) => ({
        SourceId: s['source-id'],
        Transform: s.transform,
        Direction: s.direction,
        NullOrder: s['null-order'],
      })),
    },
    Properties: properties,
  };
}
