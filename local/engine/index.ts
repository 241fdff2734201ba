/**
 * The query-engine port and its two implementations: import from here.
 *
 *   const engine = await openLocalEngine(stateDir);            // DuckDB over the local lake
 *   const rows = await engine.query('SELECT … FROM gold.monthly_kpis WHERE month >= CAST(:m AS date)', { m: '2026-01-01' });
 *   await engine.runFile('athena/reco_cooccurrence.sql', { model_version: 'v3' });
 *   const athena = new AthenaEngine({ client: athenaClient(), workgroup, databasePrefix });
 */
export {
  AthenaEngine,
  type AthenaEngineOptions,
  AthenaQueryFailedError,
  AthenaQueryTimeoutError,
} from './athena.ts';
export {
  DuckdbEngine,
  type DuckdbEngineOptions,
  LakeTableDamagedError,
  ReadOnlyQueryError,
  type TableDescription,
  type WriteOutcome,
} from './duckdb.ts';
export { lakeDirOf, openLocalEngine } from './open.ts';
export { SHIM_SETUP_SQL, trinoToDuckdb } from './shim.ts';
export { REPO_ROOT, SQL_DIR, SqlFileError } from './sql-files.ts';
export type {
  ColumnInfo,
  ExecuteOptions,
  Params,
  ParamValue,
  QueryEngine,
  Row,
  StatementResult,
} from './types.ts';
