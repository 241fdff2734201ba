/**
 * Errors as scripts see them. With `--json`, a failed command prints one JSON document on
 * stdout, `{"error": {"code", "message", "exit_code", ...details}}`, as well as the message on
 * stderr: a script reading stdout always gets JSON. `code` is a stable snake_case identifier;
 * the details are the error's own primitive fields and its `cliDetails()` (snake_case keys).
 */
import { CommanderError } from 'commander';
import { EXIT_CODES } from './args.ts';

export interface CliErrorBody {
  readonly code: string;
  readonly message: string;
  readonly exit_code: number;
  readonly [detail: string]: unknown;
}

/** Errors may describe themselves for `--json` (code and details); see `errorBody`. */
export interface DescribedError {
  readonly exitCode?: number;
  /** Stable snake_case code. @default derived from the class name */
  readonly cliCode?: string;
  /** Machine-readable details, snake_case keys. */
  cliDetails?(): Record<string, unknown>;
}

/**
 * The exit code for an error: errors that scripts must tell apart carry their own `exitCode`
 * (StateDirInUseError 75, a failed data-quality gate 65); everything else is 1.
 */
export function exitCodeOf(error: unknown): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_CODES.usage;
  const code = typeof error === 'object' && error !== null ? (error as DescribedError).exitCode : undefined;
  return typeof code === 'number' && Number.isInteger(code) && code > 0 ? code : EXIT_CODES.failure;
}

/** `StateDirInUseError` → `state_dir_in_use`; a plain `Error` → `failure`. */
function codeFromName(name: string): string {
  const base = name.replace(/Error$/, '');
  if (base === '') return 'failure';
  return base
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase();
}

/** An error's own primitive fields (`UnknownTableError.table`), keys in snake_case. */
function ownFields(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (key === 'name' || key === 'message' || key === 'stack' || key === 'code' || key === 'exitCode')
      continue;
    if (['string', 'number', 'boolean'].includes(typeof value))
      out[key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()] = value;
  }
  return out;
}

/** The `--json` body of an error. */
export function errorBody(error: unknown): CliErrorBody {
  const exit_code = exitCodeOf(error);
  if (error instanceof CommanderError) {
    return {
      code: 'usage_error',
      message: error.message.replace(/^error: /, ''),
      exit_code,
      commander_code: error.code,
    };
  }
  if (!(error instanceof Error)) return { code: 'failure', message: String(error), exit_code };
  const described = error as Error & DescribedError & { code?: unknown };
  const details = typeof described.cliDetails === 'function' ? described.cliDetails() : {};
  const fields: Record<string, unknown> = {
    ...ownFields(error),
    ...details,
    // Node's system errors (ENOENT, EACCES…) keep their code as a detail.
    ...(typeof described.code === 'string' ? { system_code: described.code } : {}),
  };
  for (const reserved of ['code', 'message', 'exit_code']) delete fields[reserved];
  return {
    code: described.cliCode ?? codeFromName(error.name),
    message: error.message,
    exit_code,
    ...fields,
  };
}

/** True when the command line asks for JSON output (`--json` before any `--`). */
export function jsonRequested(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}
