/**
 * State machines are ASL files in `step-functions/`; this module finds them, lists the
 * `${Key}` definition substitutions each one uses. Task Lambdas are named explicitly in
 * `infra/definitions/task-functions.ts`. The processing stack resolves every key or fails
 * synthesis naming the unknown ones, so a new placeholder cannot deploy unresolved.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { STEP_FUNCTIONS_DIR } from './paths.ts';

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
