/**
 * State machines are ASL files in `step-functions/`; this module finds them, lists the
 * `${Key}` definition substitutions each one uses, and names the task-Lambda modules next to
 * them (`lambdas/etl/*.ts`, `lambdas/training/*.ts`). The processing stack resolves every key
 * or fails synthesis naming the unknown ones, so a new placeholder cannot deploy unresolved.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { LAMBDAS_DIR, STEP_FUNCTIONS_DIR } from './paths.ts';

export interface StateMachineFile {
  /** File name stem: `etl` for `etl.asl.json`. */
  readonly name: string;
  readonly path: string;
  /** The ASL document as written (placeholders unresolved). */
  readonly text: string;
  /** Substitution keys used in the file, sorted, without `${}`. */
  readonly substitutions: readonly string[];
}

/** Every `step-functions/*.asl.json`, sorted by name. */
export function stateMachineFiles(dir: string = STEP_FUNCTIONS_DIR): StateMachineFile[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.asl.json'))
    .sort()
    .map((file) => {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      return { name: basename(file, '.asl.json'), path, text, substitutions: substitutionKeys(text) };
    });
}

/** `${Key}` placeholders of an ASL document (Step Functions definitionSubstitutions syntax). */
export function substitutionKeys(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z0-9_]+)\}/g)].map((m) => m[1] ?? ''))].sort();
}

export interface TaskHandlerFile {
  /** `etl` or `training`. */
  readonly group: string;
  /** Module path relative to `lambdas/`, e.g. `training/publish.ts`. */
  readonly entry: string;
  /** PascalCase name from the file stem: `publish-model.ts` → `PublishModel`. */
  readonly pascalName: string;
}

/** Task-Lambda modules of a group (`lambdas/<group>/*.ts` exporting a handler, tests excluded). */
export function taskHandlerFiles(group: string, dir: string = LAMBDAS_DIR): TaskHandlerFile[] {
  const groupDir = join(dir, group);
  if (!existsSync(groupDir)) return [];
  return readdirSync(groupDir)
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !f.endsWith('.d.ts'))
    .filter((f) =>
      /export\s+(const|async\s+function|function)\s+handler\b/.test(readFileSync(join(groupDir, f), 'utf8')),
    )
    .sort()
    .map((f) => ({ group, entry: `${group}/${f}`, pascalName: pascalCase(basename(f, '.ts')) }));
}

/**
 * `top-k_lists` → `TopKLists`, `gold/monthly-kpis` → `GoldMonthlyKpis`: construct ids from file,
 * table and namespace names (used by every stack).
 */
export function pascalCase(text: string): string {
  return text
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p.length > 0)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');
}
