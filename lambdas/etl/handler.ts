/**
 * Lambda handler of the ETL state machine's PrepareRun task (AWS). Locally the ASL runner
 * calls `prepareRun` with the same input. Env: `GLUE_DATABASE_PREFIX` (optional, default
 * `shoplake_`): the stage's Glue database prefix, for the maintenance table names.
 */
import { DEFAULT_DATABASE_PREFIX } from '../shared/catalog/index.ts';
import { optionalEnv } from '../shared/env.ts';
import { type EtlRunContext, parseRunInput, prepareRun } from './prepare-run.ts';

const databasePrefix = optionalEnv('GLUE_DATABASE_PREFIX') ?? DEFAULT_DATABASE_PREFIX;

export async function handler(event: { input?: unknown; executionName?: string }): Promise<EtlRunContext> {
  const input = parseRunInput(event.input);
  return prepareRun(event.executionName ? { ...input, executionName: event.executionName } : input, {
    databasePrefix,
  });
}
