/**
 * Repository paths the CDK app loads files from (handlers, ASL, SQL). Resolved from this file so
 * `cdk synth`, the tests and `synthesizeApp` work from any working directory.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LAMBDAS_DIR = join(REPO_ROOT, 'lambdas');
export const STEP_FUNCTIONS_DIR = join(REPO_ROOT, 'step-functions');
export const ATHENA_DIR = join(REPO_ROOT, 'athena');
export const LOCK_FILE = join(REPO_ROOT, 'package-lock.json');

/** A handler module the stacks were asked to deploy does not exist in `lambdas/`. */
export class MissingHandlerError extends Error {
  constructor(readonly entry: string) {
    super(`Lambda handler ${entry} does not exist under lambdas/; add it or remove it from the stack wiring`);
    this.name = 'MissingHandlerError';
  }
}

/** Absolute path of a handler module (`ingest/handler.ts` → `<repo>/lambdas/ingest/handler.ts`). */
export function handlerEntry(relative: string): string {
  const path = join(LAMBDAS_DIR, relative);
  if (!existsSync(path)) throw new MissingHandlerError(relative);
  return path;
}
