/**
 * Iceberg schemas: the table-catalog column model (`IcebergType` from the event contract plus a
 * few primitives), the Iceberg JSON schema form (spec "Schemas and Data Types", with field ids on
 * every nested field), and the DuckDB / Avro mappings derived from it.
 */
import type { IcebergType } from '../../lambdas/shared/event-schema.ts';
import { IcebergValidationError } from './errors.ts';

/** Primitive types beyond the event contract's, needed by lake tables (additive). */
export type ExtraPrimitive = 'timestamp' | 'float' | 'binary' | `decimal(${number},${number})`;

/** A column type as the table catalog writes it. */
export type ColumnType = IcebergType | ExtraPrimitive;

/** One top-level column of a table spec: the field id is stable and chosen by the catalog. */
export interface ColumnSpec {
  id: number;
  name: string;
  type: ColumnType;
  required: boolean;
  doc?: string;
}

/** Iceberg JSON schema types (spec appendix C), with ids on list elements / map keys, values. */
export type IcebergJsonType =
  | string
  | IcebergStructType
  | {
      type: 'list';
      'element-id': number;
      element: IcebergJsonType;
      'element-required': boolean;
    }
  | {
      type: 'map';
      'key-id': number;
      key: IcebergJsonType;
      'value-id': number;
      value: IcebergJsonType;
      'value-required': boolean;
    };

export interface IcebergStructType {
  type: 'struct';
  fields: IcebergField[];
}

export interface IcebergField {
  id: number;
  name: string;
  required: boolean;
  type: IcebergJsonType;
  doc?: string;
}

export interface IcebergSchema {
  type: 'struct';
  'schema-id': number;
  'identifier-field-ids'?: number[];
  fields: IcebergField[];
}

const PRIMITIVES = new Set([
  'string',
  'int',
  'long',
  'double',
  'float',
  'boolean',
  'timestamptz',
  'timestamp',
  'date',
  'binary',
]);
const DECIMAL = /^decimal\((\d+),\s*(\d+)\)$/;

/** True for a primitive Iceberg type name (`decimal(p,s)` included). */
export function isPrimitive(type: IcebergJsonType): type is string {
  return typeof type === 'string';
}

function checkPrimitive(type: string): string {
  const m = DECIMAL.exec(type);
  if (m) return `decimal(${m[1]}, ${m[2]})`;
  if (!PRIMITIVES.has(type)) throw new IcebergValidationError(`unsupported Iceberg type ${type}`);
  return type;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Converts the catalog's columns to an Iceberg schema. Top-level ids are the catalog's; nested
 * fields (list elements, map keys/values, struct fields) get fresh ids above `firstNestedId`,
 * in declaration order, so the same spec always yields the same ids.
 */
export function toIcebergFields(
  columns: readonly ColumnSpec[],
  firstNestedId: number,
): { fields: IcebergField[]; lastColumnId: number } {
  let next = firstNestedId;
  const seen = new Set<number>();
  const names = new Set<string>();
  const convert = (t: ColumnType): IcebergJsonType => {
    if (typeof t === 'string') return checkPrimitive(t);
    if (t.type === 'list') {
      const elementId = next++;
      return {
        type: 'list',
        'element-id': elementId,
        element: convert(t.element),
        'element-required': false,
      };
    }
    if (t.type === 'map') {
      const keyId = next++;
      const valueId = next++;
      return {
        type: 'map',
        'key-id': keyId,
        key: convert(t.key),
        'value-id': valueId,
        value: convert(t.value),
        'value-required': false,
      };
    }
    const ids = t.fields.map(() => next++);
    return {
      type: 'struct',
      fields: t.fields.map((f, i) => {
        if (!IDENT.test(f.name)) throw new IcebergValidationError(`invalid struct field name ${f.name}`);
        return { id: ids[i] ?? 0, name: f.name, required: f.required, type: convert(f.type) };
      }),
    };
  };
  const fields: IcebergField[] = [];
  for (const c of columns) {
    if (!Number.isInteger(c.id) || c.id <= 0)
      throw new IcebergValidationError(`column ${c.name}: invalid field id ${c.id}`);
    if (seen.has(c.id)) throw new IcebergValidationError(`duplicate field id ${c.id}`);
    if (!IDENT.test(c.name))
      throw new IcebergValidationError(`invalid column name ${JSON.stringify(c.name)}`);
    if (names.has(c.name.toLowerCase())) throw new IcebergValidationError(`duplicate column ${c.name}`);
    seen.add(c.id);
    names.add(c.name.toLowerCase());
  }
  next = Math.max(firstNestedId, ...columns.map((c) => c.id + 1));
  for (const c of columns) {
    const field: IcebergField = { id: c.id, name: c.name, required: c.required, type: convert(c.type) };
    if (c.doc) field.doc = c.doc;
    fields.push(field);
  }
  return { fields, lastColumnId: Math.max(0, ...allFieldIds(fields)) };
}

/** Every field id of a schema, nested ones included. */
export function allFieldIds(fields: readonly IcebergField[]): number[] {
  const out: number[] = [];
  const visit = (t: IcebergJsonType): void => {
    if (typeof t === 'string') return;
    if (t.type === 'struct') {
      for (const f of t.fields) {
        out.push(f.id);
        visit(f.type);
      }
    } else if (t.type === 'list') {
      out.push(t['element-id']);
      visit(t.element);
    } else {
      out.push(t['key-id'], t['value-id']);
      visit(t.key);
      visit(t.value);
    }
  };
  visit({ type: 'struct', fields: [...fields] });
  return out;
}

/** Quotes a SQL identifier for DuckDB. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Quotes a SQL string literal. */
export function quoteLiteral(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * The DuckDB type that holds an Iceberg type (timestamptz → TIMESTAMPTZ, microseconds, UTC):
 * of a schema field, or of a catalog column type (nested ids play no part in it).
 */
export function duckdbType(type: IcebergJsonType | ColumnType): string {
  if (typeof type === 'string') {
    const m = DECIMAL.exec(type);
    if (m) return `DECIMAL(${m[1]}, ${m[2]})`;
    switch (type) {
      case 'string':
        return 'VARCHAR';
      case 'int':
        return 'INTEGER';
      case 'long':
        return 'BIGINT';
      case 'double':
        return 'DOUBLE';
      case 'float':
        return 'FLOAT';
      case 'boolean':
        return 'BOOLEAN';
      case 'timestamptz':
        return 'TIMESTAMPTZ';
      case 'timestamp':
        return 'TIMESTAMP';
      case 'date':
        return 'DATE';
      case 'binary':
        return 'BLOB';
      default:
        throw new IcebergValidationError(`unsupported Iceberg type ${type}`);
    }
  }
  if (type.type === 'list') return `${duckdbType(type.element)}[]`;
  if (type.type === 'map') return `MAP(${duckdbType(type.key)}, ${duckdbType(type.value)})`;
  return `STRUCT(${type.fields.map((f) => `${quoteIdent(f.name)} ${duckdbType(f.type)}`).join(', ')})`;
}

/**
 * The `FIELD_IDS` option of DuckDB's Parquet `COPY`: a struct literal naming each column's id,
 * with `__duckdb_field_id` plus `element` / `key` / `value` / struct-field entries for nested
 * types, so readers resolve columns by Iceberg field id (not by name).
 */
export function duckdbFieldIds(fields: readonly IcebergField[]): string {
  const nested = (t: IcebergJsonType, id: number): string => {
    if (typeof t === 'string') return String(id);
    if (t.type === 'list')
      return `{__duckdb_field_id: ${id}, element: ${nested(t.element, t['element-id'])}}`;
    if (t.type === 'map') {
      return `{__duckdb_field_id: ${id}, key: ${nested(t.key, t['key-id'])}, value: ${nested(t.value, t['value-id'])}}`;
    }
    const inner = t.fields.map((f) => `${quoteIdent(f.name)}: ${nested(f.type, f.id)}`).join(', ');
    return `{__duckdb_field_id: ${id}${inner ? `, ${inner}` : ''}}`;
  };
  return `{${fields.map((f) => `${quoteIdent(f.name)}: ${nested(f.type, f.id)}`).join(', ')}}`;
}

/** Finds a top-level field by name (case-insensitive, as SQL resolves names). */
export function findField(fields: readonly IcebergField[], name: string): IcebergField | undefined {
  return (
    fields.find((f) => f.name === name) ?? fields.find((f) => f.name.toLowerCase() === name.toLowerCase())
  );
}
