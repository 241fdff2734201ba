/**
 * The query-engine port: one interface over Athena (AWS) and DuckDB (local), so the ETL, the
 * CLI and the recommender's training run the same `athena/*.sql` files on either.
 *
 * Parameter convention (both engines): SQL uses named `:name` placeholders and values are
 * passed as `{ params: { name: value } }` (strings, numbers or null; cast in SQL, e.g.
 * `CAST(:run_date AS date)`). Athena receives them as positional `?` execution parameters,
 * DuckDB as prepared-statement parameters: values are never spliced into SQL text.
 */
import type { Params, StatementKind } from '../../lambdas/shared/catalog/sql.ts';

export type { Params, ParamValue } from '../../lambdas/shared/catalog/sql.ts';

export type Row = Record<string, unknown>;

export interface ColumnInfo {
  readonly name: string;
  /** Engine type name (DuckDB or Athena spelling). */
  readonly type: string;
}

export interface StatementResult<T = Row> {
  readonly kind: StatementKind;
  /** Table written by INSERT / MERGE / DELETE / UPDATE. */
  readonly target?: string;
  readonly columns: readonly ColumnInfo[];
  readonly rows: T[];
  /** Rows written (INSERT/MERGE/DELETE/UPDATE) when the engine reports it. */
  readonly affectedRows?: number;
  /** Iceberg snapshot committed by a write (local engine). */
  readonly snapshotId?: number | string;
  /** Athena query execution id. */
  readonly queryExecutionId?: string;
  readonly elapsedMs: number;
}

export interface ExecuteOptions {
  readonly params?: Params;
}

export interface QueryEngine {
  readonly kind: 'duckdb' | 'athena';
  /**
   * Runs one statement, or every statement of a file when `sqlOrFile` is a path ending in
   * `.sql` (relative paths resolve against the repository root), in order; returns the last
   * statement's result.
   */
  execute<T = Row>(sqlOrFile: string, options?: ExecuteOptions): Promise<StatementResult<T>>;
  /** Runs a query and returns its rows. */
  query<T = Row>(sql: string, params?: Params): Promise<T[]>;
  /** Runs every statement of an SQL file in order; returns one result per statement. */
  runFile(file: string, params?: Params): Promise<StatementResult[]>;
  close(): Promise<void>;
}
