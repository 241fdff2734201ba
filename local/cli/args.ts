/**
 * Argument parsers shared by the CLI commands: they run while commander parses, before any
 * command starts the local runtime, and fail with a usage error (exit code 2).
 */
import { InvalidArgumentError } from 'commander';

/** Exit codes of `shoplake` (documented in `--help` and the README). */
export const EXIT_CODES = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** The ETL's blocking data-quality gate failed: gold was not updated (local/sfn/etl-runner.ts). */
  dataQualityGate: 65,
  /** The state directory is held by another live shoplake process (local/runtime/state-dir.ts). */
  stateDirInUse: 75,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0   success
  1   failure
  2   usage error (unknown option, invalid argument)
  65  data-quality gate failed: the ETL stopped before gold (etl, demo)
  75  state directory in use by another shoplake process
With --json, a failure also prints {"error": {"code", "message", "exit_code", ...}} on stdout.`;

/** A real calendar date `YYYY-MM-DD` (2026-13-45 and 2026-02-30 are refused). */
export function isoDateArg(name: string) {
  return (value: string): string => {
    const millis = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Number.NaN;
    const ok = Number.isFinite(millis) && new Date(millis).toISOString().slice(0, 10) === value;
    if (!ok)
      throw new InvalidArgumentError(
        `${name} must be a calendar date YYYY-MM-DD, got ${JSON.stringify(value)}`,
      );
    return value;
  };
}
