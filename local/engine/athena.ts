/**
 * Athena implementation of the query-engine port (AWS): StartQueryExecution in a workgroup
 * with execution parameters, polling with exponential backoff, paged GetQueryResults, typed
 * errors. The same `athena/*.sql` files the local DuckDB engine runs; logical table names
 * (`silver.events`) are mapped to the stage's Glue databases (`shoplake_silver.events`).
 */
import {
  type AthenaClient,
  GetQueryResultsCommand,
  type GetQueryResultsCommandOutput,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
  waitForAthenaQuery,
} from '../../lambdas/shared/athena-query.ts';
import { DEFAULT_DATABASE_PREFIX } from '../../lambdas/shared/catalog/index.ts';
import {
  analyzeStatement,
  athenaLiteral,
  bindNamed,
  qualifyNamespaces,
  toPositional,
} from '../../lambdas/shared/catalog/sql.ts';
import { isSqlFileArgument, readSqlStatements } from './sql-files.ts';
import type { ColumnInfo, ExecuteOptions, Params, QueryEngine, Row, StatementResult } from './types.ts';

/** The subset of the Athena client the engine uses (a fake in unit tests). */
export type AthenaSend = Pick<AthenaClient, 'send'>;

export interface AthenaEngineOptions {
  readonly client: AthenaSend;
  readonly workgroup: string;
  /** Glue database prefix of the stage. @default DEFAULT_DATABASE_PREFIX ('shoplake_') */
  readonly databasePrefix?: string;
  /** Data catalog. @default 'AwsDataCatalog' */
  readonly catalog?: string;
  /** First poll delay. @default 250 */
  readonly pollInitialMs?: number;
  /** Poll delay cap. @default 5_000 */
  readonly pollMaxMs?: number;
  /** Give up (and report the execution id) after this long. @default 1_800_000 (30 min) */
  readonly timeoutMs?: number;
  /** Rows per GetQueryResults page. @default 1_000 */
  readonly pageSize?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

export const ATHENA_ENGINE_DEFAULTS = {
  catalog: 'AwsDataCatalog',
  pollInitialMs: 250,
  pollMaxMs: 5_000,
  timeoutMs: 30 * 60 * 1000,
  pageSize: 1_000,
} as const;

export { AthenaQueryFailedError, AthenaQueryTimeoutError };

const NUMERIC = new Set([
  'tinyint',
  'smallint',
  'integer',
  'int',
  'bigint',
  'double',
  'float',
  'real',
  'decimal',
]);

/** Converts an Athena cell (always text) to a JS value by its column type. */
export function athenaValue(type: string, text: string | undefined): unknown {
  if (text === undefined) return null;
  const base = type.toLowerCase().replace(/\(.*$/, '');
  if (NUMERIC.has(base)) return Number(text);
  if (base === 'boolean') return text === 'true';
  return text;
}

/** A statement prepared for Athena: physical names, positional parameters, literal values. */
export function prepareAthenaStatement(
  sql: string,
  params: Params | undefined,
  databasePrefix: string,
): { queryString: string; executionParameters: string[] | undefined } {
  analyzeStatement(sql); // rejects tables outside the catalog before anything is sent
  const bound = bindNamed(sql, params);
  const positional = toPositional(qualifyNamespaces(sql, databasePrefix));
  const values = positional.names.map((n) => athenaLiteral(bound[n] ?? null));
  return { queryString: positional.sql, executionParameters: values.length > 0 ? values : undefined };
}

export class AthenaEngine implements QueryEngine {
  readonly kind = 'athena' as const;
  private readonly o: Required<Omit<AthenaEngineOptions, 'client'>> & { client: AthenaSend };

  constructor(options: AthenaEngineOptions) {
    this.o = {
      databasePrefix: DEFAULT_DATABASE_PREFIX,
      catalog: ATHENA_ENGINE_DEFAULTS.catalog,
      pollInitialMs: ATHENA_ENGINE_DEFAULTS.pollInitialMs,
      pollMaxMs: ATHENA_ENGINE_DEFAULTS.pollMaxMs,
      timeoutMs: ATHENA_ENGINE_DEFAULTS.timeoutMs,
      pageSize: ATHENA_ENGINE_DEFAULTS.pageSize,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      now: Date.now,
      ...options,
    };
  }

  async execute<T = Row>(sqlOrFile: string, options: ExecuteOptions = {}): Promise<StatementResult<T>> {
    if (isSqlFileArgument(sqlOrFile)) {
      const results = await this.runFile(sqlOrFile, options.params);
      const last = results[results.length - 1];
      if (!last) throw new Error(`${sqlOrFile}: no statement`);
      return last as StatementResult<T>;
    }
    return this.executeStatement<T>(sqlOrFile, options.params);
  }

  async query<T = Row>(sql: string, params?: Params): Promise<T[]> {
    return (await this.execute<T>(sql, { params: params ?? {} })).rows;
  }

  async runFile(file: string, params?: Params): Promise<StatementResult[]> {
    const out: StatementResult[] = [];
    for (const statement of readSqlStatements(file)) out.push(await this.executeStatement(statement, params));
    return out;
  }

  async close(): Promise<void> {}

  private async executeStatement<T>(sql: string, params: Params | undefined): Promise<StatementResult<T>> {
    const started = this.o.now();
    const info = analyzeStatement(sql);
    const prepared = prepareAthenaStatement(sql, params, this.o.databasePrefix);
    const start = await this.o.client.send(
      new StartQueryExecutionCommand({
        QueryString: prepared.queryString,
        WorkGroup: this.o.workgroup,
        QueryExecutionContext: { Catalog: this.o.catalog },
        ...(prepared.executionParameters ? { ExecutionParameters: prepared.executionParameters } : {}),
      }),
    );
    const id = start.QueryExecutionId;
    if (!id) throw new AthenaQueryFailedError('(none)', 'NOT_STARTED', 'StartQueryExecution returned no id');
    await this.waitFor(id);
    const { columns, rows } = info.kind === 'select' ? await this.fetchAll<T>(id) : { columns: [], rows: [] };
    const result: StatementResult<T> = {
      kind: info.kind,
      columns,
      rows,
      queryExecutionId: id,
      elapsedMs: this.o.now() - started,
    };
    return info.target ? { ...result, target: info.target } : result;
  }

  /** Polls until the query leaves QUEUED/RUNNING, backing off exponentially to `pollMaxMs`. */
  private waitFor(id: string): Promise<void> {
    return waitForAthenaQuery(this.o.client, id, this.o);
  }

  private async fetchAll<T>(id: string): Promise<{ columns: ColumnInfo[]; rows: T[] }> {
    const rows: T[] = [];
    let columns: ColumnInfo[] = [];
    let token: string | undefined;
    let first = true;
    do {
      const page: GetQueryResultsCommandOutput = await this.o.client.send(
        new GetQueryResultsCommand({ QueryExecutionId: id, MaxResults: this.o.pageSize, NextToken: token }),
      );
      if (first) {
        columns = (page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? []).map((c) => ({
          name: c.Name ?? '',
          type: c.Type ?? 'varchar',
        }));
      }
      const pageRows = page.ResultSet?.Rows ?? [];
      pageRows.forEach((r, i) => {
        const cells = r.Data ?? [];
        // The first row of the first page of a SELECT repeats the column names.
        if (first && i === 0 && cells.every((c, j) => c.VarCharValue === columns[j]?.name)) return;
        const row: Row = {};
        columns.forEach((c, j) => {
          row[c.name] = athenaValue(c.type, cells[j]?.VarCharValue);
        });
        rows.push(row as T);
      });
      first = false;
      token = page.NextToken;
    } while (token);
    return { columns, rows };
  }
}
