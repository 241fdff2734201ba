/**
 * Lambda handler of the ETL state machine's PrepareRun task (AWS). Locally the ASL runner
 * calls `prepareRun` with the same input. Env: `GLUE_DATABASE_PREFIX` (optional, default
 * `shoplake_`): the stage's Glue database prefix, for the maintenance table names;
 * `ETL_SOURCES` (required): the stage's batch sources as JSON flags (`{"oltp":true,"marketing":false}`).
 */
import { DEFAULT_DATABASE_PREFIX } from '../shared/catalog/index.ts';
import { optionalEnv, requireEnv } from '../shared/env.ts';
import { ETL_SOURCES_ENV, parseSourceFlags } from '../shared/extract-sources.ts';
import { type EtlRunContext, parseRunInput, prepareRun } from './prepare-run.ts';

const databasePrefix = optionalEnv('GLUE_DATABASE_PREFIX') ?? DEFAULT_DATABASE_PREFIX;
const sources = parseSourceFlags(requireEnv(ETL_SOURCES_ENV));

export async function handler(event: { input?: unknown; executionName?: string }): Promise<EtlRunContext> {
  const input = parseRunInput(event.input);
  return prepareRun(event.executionName ? { ...input, executionName: event.executionName } : input, {
    databasePrefix,
    sources,
  });
}
