/**
 * Progress bars for long commands (ingest, etl): counts, rate and ETA, drawn by `cli-progress`
 * on stderr — only when stderr is a terminal. Piped or redirected output, `--json`, `--quiet`,
 * CI (`CI` set) and `TERM=dumb` get no bar: the plain progress lines of `Reporter` stay the
 * only output, so logs and scripts see exactly what they saw before. No colour is used.
 */
import cliProgress from 'cli-progress';
import type { Reporter } from './output.ts';

// A CommonJS module: its named exports are only reachable through the default export under ESM.
const { Format, MultiBar } = cliProgress;

export interface ProgressBar {
  /** Sets the current count (and the total, when it becomes known); `step` names the current item. */
  update(value: number, total?: number, step?: string): void;
  /** Prints a line above the bar (progress messages while the bar runs). */
  log(message: string): void;
  /** Leaves the final bar on its line and moves to the next. */
  stop(): void;
}

export interface ProgressBarOptions {
  readonly label: string;
  /** What is counted: `events`, `steps`. */
  readonly unit: string;
  /** Unknown (standard input): the bar shows count and rate without ETA. */
  readonly total?: number;
  readonly json?: boolean;
  readonly quiet?: boolean;
  /** @default process.stderr */
  readonly stream?: NodeJS.WriteStream;
  /** @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/** Whether a bar may be drawn: a terminal, and nobody asked for machine-readable or quiet output. */
export function progressBarsEnabled(options: Omit<ProgressBarOptions, 'label' | 'unit' | 'total'>): boolean {
  const stream = options.stream ?? process.stderr;
  const env = options.env ?? process.env;
  if (options.json || options.quiet) return false;
  if (!stream.isTTY) return false;
  if (env.CI !== undefined && env.CI !== '' && env.CI !== 'false') return false;
  return env.TERM !== 'dumb';
}

/** A bar, or `undefined` when bars are off (callers then print plain lines as before). */
export function progressBar(options: ProgressBarOptions): ProgressBar | undefined {
  if (!progressBarsEnabled(options)) return undefined;
  const known = `${options.label} [{bar}] {percentage}% | {value}/{total} ${options.unit} | {rate}/s | ETA {eta_formatted} {step}`;
  const unknown = `${options.label} {value} ${options.unit} | {rate}/s | {duration_formatted} {step}`;
  const bars = new MultiBar({
    stream: options.stream ?? process.stderr,
    // The total may become known after the start (a file's line count): pick the format per render.
    format: (o, params, payload) =>
      Format.Formatter(
        { ...o, format: params.total > 0 && params.value > 0 ? known : unknown },
        params,
        payload,
      ),
    hideCursor: true,
    etaBuffer: 50,
    fps: 5,
  });
  const startedAt = Date.now();
  /** Items per second up to the last update (frozen while nothing moves, so it does not decay). */
  const rate = (value: number) => {
    const seconds = (Date.now() - startedAt) / 1000;
    return seconds > 0.05 ? Math.round(value / seconds).toLocaleString('en-US') : '-';
  };
  const bar = bars.create(options.total ?? 0, 0, { step: '', rate: '-' });
  let stopped = false;
  return {
    update(value, total, step) {
      if (stopped) return;
      if (total !== undefined && total > 0) bar.setTotal(total);
      bar.update(value, { step: step ?? '', rate: rate(value) });
    },
    log(message) {
      if (stopped) process.stderr.write(`${message}\n`);
      else bars.log(`${message}\n`);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      bars.stop();
    },
  };
}

/**
 * A reporter whose progress lines go above the bar while one runs; `bar` is created on the
 * first `update` (so lines printed before the work starts stay plain) and never when bars are off.
 */
export function withProgressBar(
  report: Reporter,
  options: ProgressBarOptions,
): { report: Reporter; bar: ProgressBar | undefined } {
  if (!progressBarsEnabled(options)) return { report, bar: undefined };
  let current: ProgressBar | undefined;
  let made = false;
  const ensure = () => {
    if (!made) {
      made = true;
      current = progressBar(options);
    }
    return current;
  };
  const bar: ProgressBar = {
    update: (value, total, step) => {
      ensure()?.update(value, total, step);
    },
    log: (message) => (current ? current.log(message) : report.progress(message)),
    stop: () => current?.stop(),
  };
  return { report: { ...report, progress: (m) => bar.log(m) }, bar };
}
