/**
 * CLI output conventions shared by every command: human progress on stderr (so stdout stays
 * clean for `--json`), one JSON document on stdout when `--json` is given.
 */
export interface Reporter {
  /** A progress line on stderr (suppressed by `--quiet`). */
  progress(message: string): void;
  /** The command's result: JSON on stdout with `--json`, otherwise the human rendering. */
  result(summary: unknown, human: () => string): void;
}

export function reporter(options: { json?: boolean; quiet?: boolean }): Reporter {
  return {
    progress(message) {
      if (!options.quiet) process.stderr.write(`${message}\n`);
    },
    result(summary, human) {
      if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
      else process.stdout.write(`${human()}\n`);
    },
  };
}

/** Formats a rate or count for people: 12,345. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
