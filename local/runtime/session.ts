/**
 * Life cycle of a runtime inside a CLI command: start with progress output, drain with
 * progress, stop cleanly on Ctrl-C (SIGINT/SIGTERM) so emulator state on disk stays consistent.
 */
import type { Reporter } from '../cli/output.ts';
import { fmt } from '../cli/output.ts';
import { localIngest } from './handlers.ts';
import {
  consumerSnapshot,
  type ReplayOptions,
  type ReplaySummary,
  sendThroughIngest,
  summarizeReplay,
} from './replay.ts';
import { type EmbeddedRuntime, type StartLocalRuntimeOptions, startLocalRuntime } from './runtime.ts';

export class InterruptedError extends Error {
  constructor(signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}

export interface RuntimeSession {
  readonly runtime: EmbeddedRuntime;
  /** Waits for Ctrl-C (SIGINT/SIGTERM) as a normal end, e.g. while serving. */
  untilSignal(): Promise<NodeJS.Signals>;
}

/**
 * Runs `fn` with a started runtime and always stops it. A signal while `fn` is working (not
 * waiting in `untilSignal`) stops the runtime and rejects with `InterruptedError`.
 */
export async function withRuntime<T>(
  options: StartLocalRuntimeOptions & { report: Reporter },
  fn: (session: RuntimeSession) => Promise<T>,
): Promise<T> {
  const { report, ...startOptions } = options;
  const runtime = await startLocalRuntime({ ...startOptions, log: (m) => report.progress(m) });
  let expectingSignal = false;
  let resolveSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    resolveSignal = resolve;
  });
  const interrupted = signalled.then((signal) => {
    if (expectingSignal) return new Promise<never>(() => undefined);
    throw new InterruptedError(signal);
  });
  const handler = (signal: NodeJS.Signals) => resolveSignal(signal);
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  const session: RuntimeSession = {
    runtime,
    untilSignal() {
      expectingSignal = true;
      return signalled;
    },
  };
  try {
    return await Promise.race([fn(session), interrupted]);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
    report.progress('stopping local runtime…');
    await runtime.stop();
  }
}

/** Drains the consumers, printing progress every few seconds. */
export async function drainWithProgress(
  runtime: EmbeddedRuntime,
  report: Reporter,
  expected: number,
  timeoutMs = 600_000,
): Promise<void> {
  const stats = runtime.consumerMapping?.stats;
  const timer = setInterval(() => {
    if (stats) report.progress(`  consumer: ${fmt(stats.recordsProcessed)} records processed so far…`);
  }, 3_000);
  try {
    await runtime.drain({ timeoutMs });
  } finally {
    clearInterval(timer);
  }
  if (stats) report.progress(`  consumer: drained (${fmt(expected)} records sent)`);
}

/**
 * Streams payloads through the real ingest handler into the runtime and waits for the
 * consumer. Records left in the stream by earlier runs are consumed first, so they are not
 * counted; then every sent event is accounted for (`summarizeReplay`). Used by
 * `shoplake ingest` and the demo's ingest stage.
 */
export async function replayThroughRuntime(
  runtime: EmbeddedRuntime,
  report: Reporter,
  payloads: Iterable<unknown> | AsyncIterable<unknown>,
  options: Omit<ReplayOptions, 'ingest'> = {},
): Promise<ReplaySummary & { elapsed_ms: number; events_per_second: number }> {
  await runtime.drain({ timeoutMs: 600_000 });
  const before = consumerSnapshot(runtime);
  const started = Date.now();
  const tally = await sendThroughIngest(payloads, { ...options, ingest: localIngest(runtime.env) });
  report.progress(`  ingest: ${fmt(tally.received)} sent; waiting for the consumer…`);
  await drainWithProgress(runtime, report, tally.accepted);
  const elapsed = Date.now() - started;
  const summary = summarizeReplay(runtime, tally, before);
  return {
    ...summary,
    elapsed_ms: elapsed,
    events_per_second: Math.round((summary.received / Math.max(1, elapsed)) * 1000),
  };
}
