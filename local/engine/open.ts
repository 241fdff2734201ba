/**
 * Opens the local DuckDB engine on a state directory's lake (`<stateDir>/lake/warehouse`):
 * the one way the CLI, the demo and other engineers' code get an engine for the local lake.
 */
import { join } from 'node:path';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { DuckdbEngine, type DuckdbEngineOptions } from './duckdb.ts';

/** `<stateDir>/lake`. */
export function lakeDirOf(stateDir: string): string {
  return join(stateDir, 'lake');
}

/** Opens the engine on `<stateDir>/lake/warehouse` (creating missing catalog tables). */
export function openLocalEngine(
  stateDir: string,
  options: Omit<DuckdbEngineOptions, 'warehouseDir'> = {},
): Promise<DuckdbEngine> {
  return DuckdbEngine.open({ ...options, warehouseDir: join(lakeDirOf(stateDir), LAKE_PREFIXES.warehouse) });
}
