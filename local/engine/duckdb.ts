/**
 * Local implementation of the query-engine port: embedded DuckDB over the local Iceberg lake.
 *
 * - Every catalog table is a view `namespace.table` over its current Iceberg snapshot (created
 *   on open when missing, refreshed before each statement that reads it, so commits of other
 *   processes are seen).
 * - `athena/*.sql` (Trino) runs through the dialect shim (`shim.ts`).
 * - Writes become Iceberg commits: INSERT runs into a staging table whose rows are appended as
 *   one snapshot; MERGE / DELETE / UPDATE run on a staged copy of the table and the partitions
 *   that changed are rewritten copy-on-write (whole table when unpartitioned). A statement that
 *   changes nothing commits nothing, so re-running the ETL leaves the tables as they are.
 * - `OPTIMIZE t REWRITE DATA USING BIN_PACK` compacts small files, `VACUUM t` expires old
 *   snapshots (Athena's maintenance statements, mapped to the local library).
 * - Only catalog tables can be referenced; file readers and other schemas are refused.
 */
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type DuckDBConnection, DuckDBInstance, StatementType } from '@duckdb/node-api';
import {
  getTable,
  localTableSpec,
  qualifiedName,
  TABLES,
  type TableSpec,
} from '../../lambdas/shared/catalog/index.ts';
import {
  analyzeStatement,
  bindNamed,
  ForbiddenSqlError,
  type ParamValue,
  replaceTarget,
  type StatementInfo,
  toDuckdbNamed,
  tokenize,
} from '../../lambdas/shared/catalog/sql.ts';
import {
  type CommitResult,
  createDuckdbView,
  IcebergError,
  IcebergMetadataError,
  type IcebergTable,
  LocalIcebergCatalog,
  type OverwriteScope,
  type PartitionValue,
  TableAlreadyExistsError,
  toLocalPath,
} from '../iceberg/index.ts';
import { type TransformName, transformResultType, transformSql } from '../iceberg/transforms.ts';
import { partitionValueFromText } from '../iceberg/values.ts';
import { SHIM_SETUP_SQL, trinoToDuckdb } from './shim.ts';
import { isSqlFileArgument, readSqlStatements } from './sql-files.ts';
import type { ColumnInfo, ExecuteOptions, Params, QueryEngine, Row, StatementResult } from './types.ts';

export interface DuckdbEngineOptions {
  /** Iceberg warehouse directory (`<lake>/warehouse`). */
  readonly warehouseDir: string;
  /** DuckDB memory limit. @default '3GB' */
  readonly memoryLimit?: string;
  /** DuckDB threads. @default 2 */
  readonly threads?: number;
  /** Spill directory for large sorts/joins. @default `<warehouseDir>/../.duckdb-tmp` */
  readonly tempDir?: string;
  /** Create missing catalog tables on open. @default true */
  readonly createTables?: boolean;
}

export const DUCKDB_ENGINE_DEFAULTS = { memoryLimit: '3GB', threads: 2 } as const;

/** What one write statement committed. */
export interface WriteOutcome {
  readonly table: string;
  readonly commit?: CommitResult;
  readonly rows: number;
  /** Time spent computing the statement's rows (staging), before writing and committing. */
  readonly statementMs?: number;
}

/**
 * A table whose files are on disk but cannot be read as an Iceberg table (metadata missing or
 * corrupt). Only statements that read this table fail with it; `file` names what is broken.
 */
export class LakeTableDamagedError extends Error {
  readonly file: string | undefined;
  constructor(
    readonly table: string,
    detail: string,
    options: { file?: string; cause?: unknown } = {},
  ) {
    super(`lake table ${table} is damaged: ${detail}`, { cause: options.cause });
    this.name = 'LakeTableDamagedError';
    this.file = options.file;
  }
}

/** `shoplake query` got a statement that is not a read. */
export class ReadOnlyQueryError extends Error {
  constructor(detail: string) {
    super(
      `shoplake query is read-only (SELECT, WITH, VALUES, SHOW, DESCRIBE, EXPLAIN): ${detail}; writes run through \`shoplake etl\``,
    );
    this.name = 'ReadOnlyQueryError';
  }
}

/** Turns an error loading a table into `LakeTableDamagedError`; other errors pass through. */
function damaged(ident: string, error: unknown): unknown {
  if (error instanceof LakeTableDamagedError) return error;
  if (error instanceof IcebergError) {
    return new LakeTableDamagedError(ident, error.message, {
      ...(error instanceof IcebergMetadataError ? { file: error.file } : {}),
      cause: error,
    });
  }
  return error;
}

/** What `describeTables` reports per catalog table. */
export interface TableDescription {
  table: string;
  status: 'ok' | 'damaged';
  snapshotId: number | null;
  rows: number | null;
  files: number | null;
  description: string;
  /** Why the table cannot be read (status `damaged`). */
  error?: string;
}

const STAGE = '__shoplake_stage';
const CHANGED = '__shoplake_changed';

/** Converts a DuckDB JS value to plain JSON-friendly JS by column type. */
function plainValue(type: string, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v instanceof Date) return type === 'DATE' ? v.toISOString().slice(0, 10) : v.toISOString();
  if (type.startsWith('MAP(') && Array.isArray(v)) {
    const out: Record<string, unknown> = {};
    for (const e of v as { key: unknown; value: unknown }[]) out[String(e.key)] = plainValue('', e.value);
    return out;
  }
  if (Array.isArray(v)) return v.map((x) => plainValue('', x));
  if (typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) out[k] = plainValue('', x);
    return out;
  }
  return v;
}

export class DuckdbEngine implements QueryEngine {
  readonly kind = 'duckdb' as const;
  readonly catalog: LocalIcebergCatalog;
  /** The engine's DuckDB connection (shim installed, catalog views defined). */
  readonly connection: DuckDBConnection;
  private readonly instance: DuckDBInstance;
  private readonly tables = new Map<string, IcebergTable>();
  private readonly viewVersion = new Map<string, number>();
  /** Catalog tables that could not be loaded: statements reading them fail, the others run. */
  private readonly damaged = new Map<string, LakeTableDamagedError>();
  private createTables = true;
  private queue: Promise<unknown> = Promise.resolve();
  /** Commits made by this engine, in order (for run summaries and benchmarks). */
  readonly commits: WriteOutcome[] = [];

  private constructor(instance: DuckDBInstance, connection: DuckDBConnection, catalog: LocalIcebergCatalog) {
    this.instance = instance;
    this.connection = connection;
    this.catalog = catalog;
  }

  /** Opens the engine on a warehouse: creates missing tables, defines the views, installs the shim. */
  static async open(options: DuckdbEngineOptions): Promise<DuckdbEngine> {
    mkdirSync(options.warehouseDir, { recursive: true });
    const tempDir = options.tempDir ?? `${options.warehouseDir.replace(/\/+$/, '')}/../.duckdb-tmp`;
    const instance = await DuckDBInstance.create(':memory:', {
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      memory_limit: options.memoryLimit ?? DUCKDB_ENGINE_DEFAULTS.memoryLimit,
      threads: String(options.threads ?? DUCKDB_ENGINE_DEFAULTS.threads),
      temp_directory: tempDir,
    });
    const connection = await instance.connect();
    const engine = new DuckdbEngine(instance, connection, new LocalIcebergCatalog(options.warehouseDir));
    engine.createTables = options.createTables ?? true;
    try {
      for (const s of SHIM_SETUP_SQL) await connection.run(s);
      for (const ns of new Set(TABLES.map((t) => t.namespace)))
        await connection.run(`CREATE SCHEMA IF NOT EXISTS ${ns}`);
      for (const t of TABLES) await engine.attach(t, options.createTables ?? true);
    } catch (error: unknown) {
      connection.closeSync();
      instance.closeSync();
      throw error;
    }
    return engine;
  }

  /** Attaches a table; a damaged one is remembered (and reported when read), not fatal. */
  private async attach(spec: TableSpec, create: boolean): Promise<void> {
    const ident = qualifiedName(spec);
    try {
      await this.attachOrThrow(spec, ident, create);
      this.damaged.delete(ident);
    } catch (error: unknown) {
      const e = damaged(ident, error);
      if (!(e instanceof LakeTableDamagedError)) throw e;
      this.tables.delete(ident);
      this.damaged.set(ident, e);
    }
  }

  private async attachOrThrow(spec: TableSpec, ident: string, create: boolean): Promise<void> {
    let table: IcebergTable;
    const exists = await this.catalog.tableExists(ident);
    if (!exists) {
      const dataDir = join(this.catalog.tableDir(ident), 'data');
      if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
        throw new LakeTableDamagedError(
          ident,
          `${dataDir} holds data files but the table has no metadata (metadata/v<N>.metadata.json missing); not recreating it over existing data — restore the metadata directory`,
          { file: join(this.catalog.tableDir(ident), 'metadata') },
        );
      }
    }
    if (create && !exists) {
      try {
        table = await this.catalog.createTable(ident, localTableSpec(spec));
      } catch (error: unknown) {
        if (!(error instanceof TableAlreadyExistsError)) throw error;
        table = await this.catalog.loadTable(ident);
      }
    } else {
      table = await this.catalog.loadTable(ident);
    }
    const recorded = toLocalPath(table.metadata.location);
    if (recorded !== table.tableDir) {
      throw new LakeTableDamagedError(
        ident,
        `its metadata names ${recorded} but the table is at ${table.tableDir} (was the state directory moved? run \`shoplake relocate\`)`,
        { file: table.metadataLocation },
      );
    }
    this.tables.set(ident, table);
    await this.defineView(ident, table);
  }

  private async defineView(ident: string, table: IcebergTable): Promise<void> {
    await createDuckdbView(this.connection, ident, table);
    this.viewVersion.set(ident, table.version);
  }

  /** The attached table of a catalog name, as last read (no refresh). */
  private attached(ident: string): { name: string; table: IcebergTable } {
    const name = qualifiedName(getTable(ident));
    const broken = this.damaged.get(name);
    if (broken) throw broken;
    const table = this.tables.get(name);
    if (!table) throw new Error(`table ${name} is not attached`);
    return { name, table };
  }

  /** The Iceberg table behind a catalog name (refreshed to its latest commit). */
  async table(ident: string): Promise<IcebergTable> {
    const name = qualifiedName(getTable(ident));
    // A damaged table may have been repaired since: look again before failing the statement.
    if (this.damaged.has(name)) await this.attach(getTable(ident), this.createTables);
    const { table: t } = this.attached(ident);
    try {
      await t.refresh();
    } catch (error: unknown) {
      const e = damaged(name, error);
      if (e instanceof LakeTableDamagedError) this.damaged.set(name, e);
      throw e;
    }
    if (this.viewVersion.get(name) !== t.version) await this.defineView(name, t);
    return t;
  }

  /** Catalog tables that cannot be read right now, with the reason. */
  damagedTables(): LakeTableDamagedError[] {
    return [...this.damaged.values()];
  }

  /** Runs `fn` after every earlier call finished: statements share staging tables. */
  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  async execute<T = Row>(sqlOrFile: string, options: ExecuteOptions = {}): Promise<StatementResult<T>> {
    if (isSqlFileArgument(sqlOrFile)) {
      const results = await this.runFile(sqlOrFile, options.params);
      const last = results[results.length - 1];
      if (!last) throw new Error(`${sqlOrFile}: no statement`);
      return last as StatementResult<T>;
    }
    return this.serialize(() => this.executeStatement<T>(sqlOrFile, options.params ?? {}));
  }

  async query<T = Row>(sql: string, params: Params = {}): Promise<T[]> {
    return (await this.execute<T>(sql, { params })).rows;
  }

  async runFile(file: string, params: Params = {}): Promise<StatementResult[]> {
    const out: StatementResult[] = [];
    for (const statement of readSqlStatements(file)) out.push(await this.execute(statement, { params }));
    return out;
  }

  /**
   * Runs a statement with positional `?` parameters (what the Step Functions Athena task
   * passes as ExecutionParameters), so the local runner executes the exact task input.
   */
  async executePositional(sql: string, values: readonly ParamValue[]): Promise<StatementResult> {
    let i = 0;
    const params: Record<string, ParamValue> = {};
    const tokens = tokenize(sql).filter((t) => t.type === 'param');
    let named = '';
    let at = 0;
    for (const t of tokens) {
      if (t.text !== '?') continue;
      const name = `p${i}`;
      if (i >= values.length)
        throw new ForbiddenSqlError(`statement has more ? placeholders than parameters`);
      params[name] = values[i] ?? null;
      named += `${sql.slice(at, t.start)}:${name}`;
      at = t.end;
      i++;
    }
    named += sql.slice(at);
    if (i !== values.length)
      throw new ForbiddenSqlError(`${values.length} parameters given for ${i} placeholders`);
    return this.execute(named, { params });
  }

  async close(): Promise<void> {
    await this.queue.catch(() => undefined);
    this.connection.closeSync();
    this.instance.closeSync();
  }

  /**
   * Current snapshot, row and file counts of every catalog table; a table that cannot be read
   * is listed with status `damaged` and the reason, and the others as usual.
   */
  async describeTables(): Promise<TableDescription[]> {
    const out: TableDescription[] = [];
    for (const spec of TABLES) {
      const ident = qualifiedName(spec);
      let t: IcebergTable;
      try {
        t = await this.table(ident);
      } catch (error: unknown) {
        if (!(error instanceof LakeTableDamagedError)) throw error;
        out.push({
          table: ident,
          status: 'damaged',
          snapshotId: null,
          rows: null,
          files: null,
          description: spec.description,
          error: error.message,
        });
        continue;
      }
      const s = t.currentSnapshot();
      out.push({
        table: ident,
        status: 'ok',
        snapshotId: s ? s['snapshot-id'] : null,
        rows: t.recordCount(),
        files: s ? Number(s.summary['total-data-files'] ?? (await t.planFiles()).length) : 0,
        description: spec.description,
      });
    }
    return out;
  }

  /**
   * Runs one read-only statement (what `shoplake query` accepts): SELECT / WITH / VALUES,
   * EXPLAIN of one, SHOW TABLES / SHOW SCHEMAS / SHOW COLUMNS FROM t, DESCRIBE t. The kind is
   * checked twice: by the catalog's statement analysis and by DuckDB's own parser (one
   * statement, prepared statement type SELECT or EXPLAIN), so a write can never slip through.
   */
  async readOnlyQuery<T = Row>(sql: string, params: Params = {}): Promise<StatementResult<T>> {
    return this.serialize(() => this.readOnlyStatement<T>(sql, params));
  }

  private async readOnlyStatement<T>(sql: string, params: Params): Promise<StatementResult<T>> {
    const started = performance.now();
    const tokens = tokenize(sql);
    const words = tokens.slice(0, 3).map((t) => t.text.toLowerCase());
    const result = (columns: ColumnInfo[], rows: Row[]): StatementResult<T> => ({
      kind: 'select',
      columns,
      rows: rows as T[],
      elapsedMs: performance.now() - started,
    });
    if (words[0] === 'show' && (words[1] === 'tables' || words[1] === 'schemas')) {
      const only =
        words[1] === 'tables' && (words[2] === 'from' || words[2] === 'in') ? tokens[3]?.text : undefined;
      if (words[1] === 'schemas') {
        const names = [...new Set(TABLES.map((t) => t.namespace))].sort();
        return result(
          [{ name: 'Schema', type: 'VARCHAR' }],
          names.map((n) => ({ Schema: n })),
        );
      }
      const rows = TABLES.filter((t) => !only || t.namespace === only.toLowerCase())
        .map((t) => ({ Table: qualifiedName(t) }))
        .sort((x, y) => x.Table.localeCompare(y.Table));
      return result([{ name: 'Table', type: 'VARCHAR' }], rows);
    }
    let describe: string | undefined;
    if (words[0] === 'describe' || words[0] === 'desc')
      describe = tokens
        .slice(1)
        .map((t) => t.text)
        .join('');
    if (words[0] === 'show' && words[1] === 'columns' && (words[2] === 'from' || words[2] === 'in'))
      describe = tokens
        .slice(3)
        .map((t) => t.text)
        .join('');
    if (describe !== undefined) {
      const ident = qualifiedName(getTable(describe.replace(/;$/, '')));
      await this.table(ident);
      const { columns, rows } = await this.run(`DESCRIBE ${ident}`, {});
      return result(columns, rows);
    }
    const explain = words[0] === 'explain';
    const body = explain ? sql.slice(tokens[words[1] === 'analyze' ? 1 : 0]?.end ?? 0) : sql;
    const info = analyzeStatement(body);
    if (info.kind !== 'select') {
      throw new ReadOnlyQueryError(
        info.kind === 'other'
          ? `unsupported statement ${JSON.stringify(sql.trim().split(/\s+/).slice(0, 2).join(' '))}`
          : `${info.kind.toUpperCase()} refused`,
      );
    }
    for (const t of info.tables) await this.table(t);
    const bound = bindNamed(body, params);
    const translated = trinoToDuckdb(toDuckdbNamed(sql));
    const extracted = await this.connection.extractStatements(translated);
    if (extracted.count !== 1) throw new ReadOnlyQueryError(`expected one statement, got ${extracted.count}`);
    const prepared = await extracted.prepare(0);
    const type = prepared.statementType;
    prepared.destroySync();
    if (type !== StatementType.SELECT && type !== StatementType.EXPLAIN)
      throw new ReadOnlyQueryError(`${StatementType[type] ?? type} refused`);
    const { columns, rows } = await this.run(sql, bound);
    return result(columns, rows);
  }

  // -------------------------------------------------------------------------------------------

  private async run(
    sql: string,
    params: Record<string, ParamValue>,
  ): Promise<{ columns: ColumnInfo[]; rows: Row[] }> {
    const prepared = trinoToDuckdb(toDuckdbNamed(sql));
    const reader =
      Object.keys(params).length > 0
        ? await this.connection.runAndReadAll(prepared, params as Record<string, never>)
        : await this.connection.runAndReadAll(prepared);
    const names = reader.columnNames();
    const types = reader.columnTypes().map((t) => t.toString());
    const columns = names.map((name, i) => ({ name, type: types[i] ?? '' }));
    const rows = reader.getRowObjectsJS().map((r) => {
      const row: Row = {};
      columns.forEach((c) => {
        row[c.name] = plainValue(c.type, (r as Record<string, unknown>)[c.name]);
      });
      return row;
    });
    return { columns, rows };
  }

  private async executeStatement<T>(sql: string, params: Params): Promise<StatementResult<T>> {
    const started = performance.now();
    const info = analyzeStatement(sql);
    for (const t of info.tables) await this.table(t);
    const bound = bindNamed(sql, params);
    const base = { kind: info.kind, ...(info.target ? { target: info.target } : {}) };
    switch (info.kind) {
      case 'select': {
        const { columns, rows } = await this.run(sql, bound);
        return { ...base, columns, rows: rows as T[], elapsedMs: performance.now() - started };
      }
      case 'insert': {
        const out = await this.insert(sql, info, bound);
        return { ...base, ...out, columns: [], rows: [], elapsedMs: performance.now() - started };
      }
      case 'merge':
      case 'delete':
      case 'update': {
        const out = await this.rewrite(sql, info, bound);
        return { ...base, ...out, columns: [], rows: [], elapsedMs: performance.now() - started };
      }
      case 'ddl': {
        const out = await this.maintenance(sql);
        return {
          kind: 'ddl',
          target: out.table,
          columns: [],
          rows: [],
          affectedRows: out.rows,
          ...(out.commit ? { snapshotId: out.commit.snapshotId } : {}),
          elapsedMs: performance.now() - started,
        };
      }
      default:
        throw new ForbiddenSqlError(
          'only SELECT, INSERT, MERGE, DELETE, UPDATE, OPTIMIZE and VACUUM run on the lake; tables come from the catalog',
        );
    }
  }

  /** The target of a write, as `executeStatement` just refreshed it (with its view). */
  private targetTable(info: StatementInfo): { ident: string; table: IcebergTable } {
    if (!info.target) throw new ForbiddenSqlError('write statement without a target table');
    const { name, table } = this.attached(info.target);
    return { ident: name, table };
  }

  private async insert(
    sql: string,
    info: StatementInfo,
    params: Record<string, ParamValue>,
  ): Promise<{ affectedRows: number; snapshotId?: number }> {
    const { ident, table } = this.targetTable(info);
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE ${STAGE} AS SELECT * FROM ${ident} LIMIT 0`);
    try {
      const t0 = performance.now();
      await this.run(replaceTarget(sql, info, STAGE), params);
      const statementMs = performance.now() - t0;
      const count = await this.count(`SELECT count(*) AS n FROM ${STAGE}`);
      if (count === 0) return { affectedRows: 0 };
      const commit = await table.appendQuery(this.connection, `SELECT * FROM ${STAGE}`);
      this.commits.push({ table: ident, commit, rows: count, statementMs });
      await this.defineView(ident, table);
      return { affectedRows: count, snapshotId: commit.snapshotId };
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${STAGE}`);
    }
  }

  private async count(sql: string): Promise<number> {
    const r = await this.connection.runAndReadAll(sql);
    return Number(r.getRows()[0]?.[0] ?? 0);
  }

  /**
   * MERGE / DELETE / UPDATE: run on a staged copy, then rewrite the partitions whose rows
   * changed (rows added or removed, compared as whole rows).
   */
  private async rewrite(
    sql: string,
    info: StatementInfo,
    params: Record<string, ParamValue>,
  ): Promise<{ affectedRows: number; snapshotId?: number }> {
    const { ident, table } = this.targetTable(info);
    // The snapshot the staged copy is read from: the commit must replace exactly that, so a
    // concurrent commit in between makes it fail (CommitConflictError) instead of being lost.
    const readSnapshot = table.metadata['current-snapshot-id'];
    await this.connection.run(`CREATE OR REPLACE TEMP TABLE ${STAGE} AS SELECT * FROM ${ident}`);
    try {
      await this.run(replaceTarget(sql, info, STAGE), params);
      const spec = table.spec();
      const schema = table.schema();
      const partExprs = spec.fields.map((f) => {
        const source = schema.fields.find((x) => x.id === f['source-id']);
        if (!source || typeof source.type !== 'string') throw new Error(`${ident}: bad partition source`);
        const transform = f.transform as TransformName;
        return {
          name: f.name,
          sql: transformSql(transform, source.type, source.name),
          resultType: transformResultType(transform, source.type),
        };
      });
      const diff = `(SELECT * FROM ${STAGE} EXCEPT ALL SELECT * FROM ${ident}) UNION ALL (SELECT * FROM ${ident} EXCEPT ALL SELECT * FROM ${STAGE})`;
      if (partExprs.length === 0) {
        const changed = await this.count(`SELECT count(*) FROM (${diff})`);
        if (changed === 0) return { affectedRows: 0 };
        const commit = await this.overwrite(table, `SELECT * FROM ${STAGE}`, { whole: true }, readSnapshot);
        this.commits.push({ table: ident, commit, rows: changed });
        await this.defineView(ident, table);
        return { affectedRows: changed, snapshotId: commit.snapshotId };
      }
      const keyCols = partExprs.map((p, i) => `CAST(${p.sql} AS VARCHAR) AS p${i}`).join(', ');
      await this.connection.run(
        `CREATE OR REPLACE TEMP TABLE ${CHANGED} AS SELECT ${keyCols}, count(*) AS n FROM (${diff}) GROUP BY ALL`,
      );
      try {
        const changedRows = await this.connection.runAndReadAll(`SELECT * FROM ${CHANGED}`);
        const tuples = changedRows.getRowObjectsJS() as Record<string, unknown>[];
        if (tuples.length === 0) return { affectedRows: 0 };
        const affectedRows = tuples.reduce((s, r) => s + Number(r.n ?? 0), 0);
        const alsoReplace: Record<string, PartitionValue>[] = tuples.map((r) => {
          const tuple: Record<string, PartitionValue> = {};
          partExprs.forEach((p, i) => {
            const text = r[`p${i}`];
            tuple[p.name] = partitionValueFromText(
              p.resultType,
              text === null || text === undefined ? null : String(text),
            );
          });
          return tuple;
        });
        const match = partExprs
          .map((p, i) => `c.p${i} IS NOT DISTINCT FROM CAST(${p.sql} AS VARCHAR)`)
          .join(' AND ');
        const commit = await this.overwrite(
          table,
          `SELECT * FROM ${STAGE} WHERE EXISTS (SELECT 1 FROM ${CHANGED} c WHERE ${match})`,
          { partitions: 'affected', alsoReplace },
          readSnapshot,
        );
        this.commits.push({ table: ident, commit, rows: affectedRows });
        await this.defineView(ident, table);
        return { affectedRows, snapshotId: commit.snapshotId };
      } finally {
        await this.connection.run(`DROP TABLE IF EXISTS ${CHANGED}`);
      }
    } finally {
      await this.connection.run(`DROP TABLE IF EXISTS ${STAGE}`);
    }
  }

  /** Copy-on-write overwrite validated against the snapshot the new rows were computed from. */
  private async overwrite(
    table: IcebergTable,
    selectSql: string,
    scope: OverwriteScope,
    readSnapshot: number,
  ): Promise<CommitResult> {
    const files = await table.writeQuery(this.connection, selectSql);
    try {
      return await table.overwriteFiles(files, scope, readSnapshot);
    } catch (error: unknown) {
      await Promise.all(files.map((f) => rm(toLocalPath(f.filePath), { force: true })));
      throw error;
    }
  }

  /** OPTIMIZE … REWRITE DATA USING BIN_PACK → compaction; VACUUM → snapshot expiry. */
  private async maintenance(sql: string): Promise<WriteOutcome> {
    const tokens = tokenize(sql).map((t) => t.text);
    const words = tokens.map((t) => t.toLowerCase());
    if (words[0] !== 'optimize' && words[0] !== 'vacuum') {
      throw new ForbiddenSqlError(
        'DDL is not run on the lake: tables come from the catalog (only OPTIMIZE … REWRITE DATA USING BIN_PACK and VACUUM are supported)',
      );
    }
    const ident = `${words[1] ?? ''}${words[2] ?? ''}${words[3] ?? ''}`;
    const spec = getTable(ident);
    // Refreshed with its view by `executeStatement` (OPTIMIZE / VACUUM name their table).
    const { name, table } = this.attached(ident);
    if (words[0] === 'optimize' && words.slice(4).join(' ') === 'rewrite data using bin_pack') {
      const commit = await table.compact(this.connection, {
        targetFileBytes: Number(spec.properties['write.target-file-size-bytes'] ?? 128 * 1024 * 1024),
      });
      await this.defineView(name, table);
      const out = { table: name, commit, rows: commit.deletedFiles };
      if (commit.operation !== 'noop') this.commits.push(out);
      return out;
    }
    if (words[0] === 'vacuum' && words.length === 4) {
      const maxAge = Number(spec.properties['history.expire.max-snapshot-age-ms'] ?? 7 * 86_400_000);
      const keep = Number(spec.properties['history.expire.min-snapshots-to-keep'] ?? 5);
      const commit = await table.expireSnapshots({ olderThanMs: Date.now() - maxAge, retainLast: keep });
      await this.defineView(name, table);
      const out = { table: name, commit, rows: commit.deletedPaths.length };
      if (commit.operation !== 'noop') this.commits.push(out);
      return out;
    }
    throw new ForbiddenSqlError(
      'DDL is not run on the lake: tables come from the catalog (only OPTIMIZE … REWRITE DATA USING BIN_PACK and VACUUM are supported)',
    );
  }
}
