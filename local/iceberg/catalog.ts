/**
 * The local Iceberg catalog: a warehouse directory where table `ns.name` lives in
 * `<warehouse>/<ns>.db/<name>/` (the layout pyiceberg's SQL catalog and Hive use), its current
 * metadata being the highest `metadata/v<N>.metadata.json` (`version-hint.text` points at it).
 * The directory layout is the catalog: no database, and every reader (pyiceberg
 * `StaticTable.from_metadata`, icebird, DuckDB through `duckdbScanSql`) finds tables from it.
 */
import { randomUUID } from 'node:crypto';
import { link, mkdir, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  IcebergMetadataError,
  IcebergValidationError,
  NoSuchTableError,
  TableAlreadyExistsError,
} from './errors.ts';
import {
  NO_SNAPSHOT,
  type PartitionField,
  type SortField,
  serializeTableMetadata,
  type TableMetadata,
} from './metadata.ts';
import { type ColumnSpec, findField, type IcebergSchema, toIcebergFields } from './schema.ts';
import { IcebergTable, latestVersion, metadataFile, readMetadataFile } from './table.ts';
import { checkTransform, type TransformName } from './transforms.ts';
import { toFileUri } from './writer.ts';

/** What a table is made of, as the table catalog declares it. */
export interface TableSpec {
  columns: ColumnSpec[];
  partitionBy?: { sourceColumn: string; transform: TransformName; name?: string }[];
  sortBy?: { column: string; direction: 'asc' | 'desc'; nulls?: 'first' | 'last' }[];
  properties?: Record<string, string>;
  /** Table directory; defaults to `<warehouse>/<ns>.db/<name>`. */
  location?: string;
}

const NAME = /^[a-z_][a-z0-9_]{0,127}$/;

/** Splits and checks `namespace.table` (lower-case identifiers: they become directory names). */
export function parseIdent(ident: string): { namespace: string; name: string } {
  const parts = ident.split('.');
  const [namespace, name] = parts;
  if (parts.length !== 2 || !namespace || !name || !NAME.test(namespace) || !NAME.test(name)) {
    throw new IcebergValidationError(
      `invalid table name ${JSON.stringify(ident)}: expected namespace.table (a-z, 0-9, _)`,
    );
  }
  return { namespace, name };
}

/** Default partition field name, as Spark and pyiceberg name them. */
function partitionFieldName(column: string, transform: TransformName): string {
  return transform === 'identity' ? column : `${column}_${transform}`;
}

/** The Iceberg metadata of a new, empty table (version 1). */
export function newTableMetadata(spec: TableSpec, location: string, now = Date.now()): TableMetadata {
  if (spec.columns.length === 0) throw new IcebergValidationError('a table needs at least one column');
  const maxTop = Math.max(...spec.columns.map((c) => c.id));
  const { fields, lastColumnId } = toIcebergFields(spec.columns, maxTop + 1);
  const schema: IcebergSchema = { type: 'struct', 'schema-id': 0, fields };
  const partitionFields: PartitionField[] = (spec.partitionBy ?? []).map((p, i) => {
    const source = findField(fields, p.sourceColumn);
    if (!source) throw new IcebergValidationError(`partition column ${p.sourceColumn} is not in the schema`);
    checkTransform(p.transform, source.type, source.name);
    return {
      'source-id': source.id,
      'field-id': 1000 + i,
      name: p.name ?? partitionFieldName(source.name, p.transform),
      transform: p.transform,
    };
  });
  const names = new Set<string>();
  for (const p of partitionFields) {
    if (names.has(p.name)) throw new IcebergValidationError(`duplicate partition field ${p.name}`);
    if (p.transform !== 'identity' && findField(fields, p.name)) {
      throw new IcebergValidationError(`partition field name ${p.name} collides with a column`);
    }
    names.add(p.name);
  }
  const sortFields: SortField[] = (spec.sortBy ?? []).map((s) => {
    const source = findField(fields, s.column);
    if (!source || typeof source.type !== 'string') {
      throw new IcebergValidationError(`sort column ${s.column} is not a primitive column of the schema`);
    }
    return {
      transform: 'identity',
      'source-id': source.id,
      direction: s.direction,
      'null-order':
        (s.nulls ?? (s.direction === 'asc' ? 'first' : 'last')) === 'first' ? 'nulls-first' : 'nulls-last',
    };
  });
  return {
    'format-version': 2,
    'table-uuid': randomUUID(),
    location,
    'last-sequence-number': 0,
    'last-updated-ms': now,
    'last-column-id': lastColumnId,
    schemas: [schema],
    'current-schema-id': 0,
    'partition-specs': [{ 'spec-id': 0, fields: partitionFields }],
    'default-spec-id': 0,
    'last-partition-id': partitionFields.length > 0 ? 999 + partitionFields.length : 999,
    properties: {
      'write.format.default': 'parquet',
      'write.parquet.compression-codec': 'snappy',
      ...spec.properties,
    },
    'current-snapshot-id': NO_SNAPSHOT,
    snapshots: [],
    'snapshot-log': [],
    'metadata-log': [],
    'sort-orders': [
      { 'order-id': 0, fields: [] },
      ...(sortFields.length > 0 ? [{ 'order-id': 1, fields: sortFields }] : []),
    ],
    'default-sort-order-id': sortFields.length > 0 ? 1 : 0,
    refs: {},
    statistics: [],
    'partition-statistics': [],
  };
}

/** A warehouse of Iceberg tables on the local file system. */
export class LocalIcebergCatalog {
  readonly warehouseDir: string;

  constructor(warehouseDir: string) {
    this.warehouseDir = path.resolve(warehouseDir);
  }

  /** Directory of a table (whether or not it exists). */
  tableDir(ident: string): string {
    const { namespace, name } = parseIdent(ident);
    return path.join(this.warehouseDir, `${namespace}.db`, name);
  }

  /**
   * Creates an empty table (metadata version 1). Exactly one of several concurrent creators
   * wins; the others get `TableAlreadyExistsError`.
   */
  async createTable(ident: string, spec: TableSpec): Promise<IcebergTable> {
    const dir = spec.location ? path.resolve(spec.location) : this.tableDir(ident);
    if (await this.tableExists(ident)) throw new TableAlreadyExistsError(ident);
    const metadata = newTableMetadata(spec, toFileUri(dir));
    const metadataDir = path.join(dir, 'metadata');
    await mkdir(metadataDir, { recursive: true });
    await mkdir(path.join(dir, 'data'), { recursive: true });
    const tmp = path.join(metadataDir, `.tmp-${randomUUID()}.metadata.json`);
    await writeFile(tmp, serializeTableMetadata(metadata));
    try {
      await link(tmp, metadataFile(metadataDir, 1));
    } catch (err: unknown) {
      if (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'EEXIST') {
        throw new TableAlreadyExistsError(ident);
      }
      throw err;
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
    await writeFile(path.join(metadataDir, 'version-hint.text'), '1');
    return new IcebergTable(ident, dir, 1, metadata);
  }

  /** Loads the latest committed version of a table. */
  async loadTable(ident: string): Promise<IcebergTable> {
    const dir = this.tableDir(ident);
    const metadataDir = path.join(dir, 'metadata');
    if (!(await isDirectory(metadataDir))) throw new NoSuchTableError(ident);
    const version = await latestVersion(metadataDir);
    if (version === undefined)
      throw new IcebergMetadataError(metadataDir, 'table directory has no metadata files');
    const metadata = await readMetadataFile(metadataFile(metadataDir, version));
    return new IcebergTable(ident, dir, version, metadata);
  }

  /** True if the table has committed metadata. */
  async tableExists(ident: string): Promise<boolean> {
    const metadataDir = path.join(this.tableDir(ident), 'metadata');
    if (!(await isDirectory(metadataDir))) return false;
    try {
      return (await readdir(metadataDir)).some((n) => /^v\d+\.metadata\.json$/.test(n));
    } catch {
      return false;
    }
  }

  /** Namespaces that have a directory in the warehouse. */
  async listNamespaces(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.warehouseDir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.db') && NAME.test(n.slice(0, -3)))
      .map((n) => n.slice(0, -3))
      .sort();
  }

  /** Tables (`ns.name`) of one namespace or of all. */
  async listTables(namespace?: string): Promise<string[]> {
    const namespaces = namespace ? [namespace] : await this.listNamespaces();
    const out: string[] = [];
    for (const ns of namespaces) {
      let names: string[];
      try {
        names = await readdir(path.join(this.warehouseDir, `${ns}.db`));
      } catch {
        continue;
      }
      for (const n of names.sort()) {
        if (NAME.test(n) && (await this.tableExists(`${ns}.${n}`))) out.push(`${ns}.${n}`);
      }
    }
    return out;
  }

  /**
   * Drops a table. With `purge` its directory (data and metadata) is deleted; without, it is
   * moved aside to `<ns>.db/.dropped-<name>-<time>` so the data can still be recovered.
   */
  async dropTable(ident: string, opts: { purge?: boolean } = {}): Promise<void> {
    if (!(await this.tableExists(ident))) throw new NoSuchTableError(ident);
    const dir = this.tableDir(ident);
    if (opts.purge) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    const { name } = parseIdent(ident);
    await rename(dir, path.join(path.dirname(dir), `.dropped-${name}-${Date.now()}`));
  }
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}
