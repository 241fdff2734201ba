/**
 * `shoplake ingest FILE` (or `-` for standard input): replays a file through the same path as live traffic — the ingest
 * handler (requests of ≤ 500 events / 1 MB), Kinesis, the stream consumer — and accounts for
 * every record: received = accepted + duplicates + rejected (checked in code).
 *
 * Formats:
 *  - `events` (default): newline-delimited JSON, one event per line; a line that is not JSON is
 *    sent as its raw text, so the handler rejects and quarantines it (`invalid_json`);
 *  - `online-retail`: the UCI Online Retail CSV (see `local/generator/online-retail.ts` for how
 *    invoice lines become purchase events, cancellations included);
 *  - `access-log[:combined|nginx|apigw]`: web-server / API Gateway access logs (plain or gzip)
 *    straight into bronze.access_logs (no Kinesis: on AWS they reach the lake through their own
 *    Firehose); see `local/access-log/ingest.ts` and docs/access-logs.md.
 */
import { accessSync, constants, createReadStream, readFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { pathToFileURL } from 'node:url';
import { type Command, Option } from 'commander';
import { FileObjectStore } from '../../../lambdas/shared/object-store.ts';
import {
  type AccessLogIngestSummary,
  ingestAccessLogFile,
  localAccessLogSalt,
} from '../../access-log/ingest.ts';
import { lakeDirOf, openLocalEngine } from '../../engine/open.ts';
import { mapOnlineRetail, UCI_ATTRIBUTION } from '../../generator/online-retail.ts';
import type { ReplaySummary } from '../../runtime/replay.ts';
import { replayThroughRuntime, withRuntime } from '../../runtime/session.ts';
import { withStateDirClaim } from '../../runtime/state-dir.ts';
import { fmt, type Reporter, reporter } from '../output.ts';
import { type ProgressBar, withProgressBar } from '../progress.ts';

/** One NDJSON line as a payload: parsed JSON, the raw line when it is not JSON, nothing when blank. */
function linePayload(raw: string): { payload: unknown } | undefined {
  const line = raw.replace(/\r$/, '');
  if (line.trim() === '') return undefined;
  try {
    return { payload: JSON.parse(line) as unknown };
  } catch {
    return { payload: line };
  }
}

/** Lines of an NDJSON file as payloads: parsed JSON, or the raw line when it is not JSON. */
export function* ndjsonPayloads(text: string): IterableIterator<unknown> {
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const p = linePayload(text.slice(start, end));
    start = end + 1;
    if (p) yield p.payload;
  }
}

/**
 * The same payloads as `ndjsonPayloads`, read from a stream as it arrives (a file, or standard
 * input for `ingest -`), so memory stays flat whatever the input size and a pipe is ingested
 * while its producer is still writing. `open` runs on the first read, so nothing is opened
 * when the command fails before sending.
 */
export async function* ndjsonStreamPayloads(
  open: () => AsyncIterable<string | Buffer>,
): AsyncIterableIterator<unknown> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of open()) {
    const text = rest + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let end = text.indexOf('\n'); end >= 0; end = text.indexOf('\n', start)) {
      const p = linePayload(text.slice(start, end));
      start = end + 1;
      if (p) yield p.payload;
    }
    rest = text.slice(start);
  }
  const p = linePayload(rest + decoder.end());
  if (p) yield p.payload;
}

/** Non-blank lines of a file, for the progress bar's total (read once more, in chunks). */
async function countLines(file: string): Promise<number> {
  let lines = 0;
  let blank = true;
  for await (const chunk of createReadStream(file)) {
    for (const byte of chunk as Buffer) {
      if (byte === 10) {
        if (!blank) lines += 1;
        blank = true;
      } else if (byte !== 13 && byte !== 32 && byte !== 9) blank = false;
    }
  }
  return blank ? lines : lines + 1;
}

/** `-` is standard input, as for cat, jq or the aws CLI. */
export const STDIN_FILE = '-';

function readAll(file: string): string {
  return file === STDIN_FILE ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
}

interface LineAccounting {
  csv_records: number;
  invoices: number;
  events: number;
  isolated_lines: number;
  lines_in_events_passed_ingest: number;
  lines_in_events_rejected_at_ingest: number;
}

export interface IngestCommandSummary extends ReplaySummary {
  file: string;
  format: 'events' | 'online-retail';
  elapsed_ms: number;
  events_per_second: number;
  quarantine_uri: string;
  on_failure_file: string;
  online_retail?: LineAccounting & { attribution: string };
}

/** `--format` values of access logs: `access-log` detects the line format per line. */
export const ACCESS_LOG_FORMAT_CHOICES = [
  'access-log',
  'access-log:combined',
  'access-log:nginx',
  'access-log:apigw',
] as const;

/** Ingests an access log into a state dir's lake (claims the state dir, opens the engine). */
export async function ingestAccessLogOnStateDir(
  stateDir: string,
  file: string,
  format: string,
): Promise<AccessLogIngestSummary> {
  const sub = format.split(':')[1];
  const lineFormat = sub === 'combined' || sub === 'nginx' || sub === 'apigw' ? sub : 'auto';
  return withStateDirClaim(stateDir, 'ingest', async () => {
    const engine = await openLocalEngine(stateDir);
    try {
      const lakeDir = lakeDirOf(stateDir);
      return await ingestAccessLogFile(engine, lakeDir, file, {
        format: lineFormat,
        salt: localAccessLogSalt(stateDir),
        quarantine: new FileObjectStore(pathToFileURL(`${lakeDir}/`).href),
      });
    } finally {
      await engine.close();
    }
  });
}

function describeAccessLog(s: AccessLogIngestSummary): string {
  const lines = [
    `${s.file}: ${fmt(s.received)} lines received → ${fmt(s.accepted)} accepted, ${fmt(s.duplicates)} duplicates, ${fmt(s.rejected)} rejected (${fmt(s.lines_per_second)} lines/s)`,
  ];
  for (const [reason, n] of Object.entries(s.rejected_by_reason).sort((a, b) => b[1] - a[1])) {
    lines.push(`  rejected ${reason}: ${fmt(n)}`);
  }
  if (s.rejected > 0)
    lines.push(`  rejected lines (with line numbers) are in ${s.quarantine_keys.join(', ')}`);
  if (s.first_request_time) lines.push(`  requests from ${s.first_request_time} to ${s.last_request_time}`);
  return lines.join('\n');
}

function progress(report: Reporter, total: number | undefined, bar: ProgressBar | undefined) {
  let last = 0;
  return (t: { received: number; accepted: number; rejected: number }) => {
    if (bar) bar.update(t.received, total);
    else if (t.received - last >= 5_000) {
      last = t.received;
      report.progress(
        `  ingest: ${fmt(t.received)}${total ? ` / ${fmt(total)}` : ''} sent (${fmt(t.accepted)} accepted, ${fmt(t.rejected)} rejected)`,
      );
    }
  };
}

export function register(program: Command): void {
  program
    .command('ingest')
    .description('replay a file through ingest → Kinesis → consumer on the local runtime')
    .argument(
      '<file>',
      'NDJSON events, the UCI online-retail CSV (--format online-retail), or an access log, plain or gzip (--format access-log); - reads standard input (events, online-retail)',
    )
    .addOption(
      new Option('--format <format>', 'input format (access-log alone detects the line format)')
        .choices(['events', 'online-retail', ...ACCESS_LOG_FORMAT_CHOICES])
        .default('events'),
    )
    .option('--json', 'print the summary as JSON on stdout')
    .option('--quiet', 'no progress output on stderr')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{
        format: 'events' | 'online-retail' | (typeof ACCESS_LOG_FORMAT_CHOICES)[number];
        json?: boolean;
        quiet?: boolean;
        stateDir: string;
      }>();
      const report = reporter({ json: opts.json, quiet: opts.quiet });
      // A missing or unreadable file fails before the runtime starts.
      if (file !== STDIN_FILE) accessSync(file, constants.R_OK);
      if (opts.format.startsWith('access-log')) {
        if (file === STDIN_FILE)
          throw new Error('--format access-log reads a file (plain or gzip), not standard input');
        const summary = await ingestAccessLogOnStateDir(opts.stateDir, file, opts.format);
        report.result(summary, () => describeAccessLog(summary));
        return;
      }
      if (opts.format !== 'events' && opts.format !== 'online-retail') return;
      const format = opts.format;
      let payloads: Iterable<unknown> | AsyncIterable<unknown>;
      let total: number | undefined;
      let accounting: LineAccounting | undefined;
      let eventLines: (readonly number[])[] = [];
      if (opts.format === 'online-retail') {
        // The CSV mapping groups invoice lines into events: it needs the whole input.
        const mapping = mapOnlineRetail(readAll(file));
        report.progress(
          `mapped ${fmt(mapping.csvRecords)} invoice lines → ${fmt(mapping.records.length)} purchase events (${fmt(mapping.invoices)} invoices, ${fmt(mapping.isolatedLines)} lines isolated for rejection)`,
        );
        payloads = mapping.records.map((r) => r.payload);
        eventLines = mapping.records.map((r) => r.lines);
        total = mapping.records.length;
        accounting = {
          csv_records: mapping.csvRecords,
          invoices: mapping.invoices,
          events: mapping.records.length,
          isolated_lines: mapping.isolatedLines,
          lines_in_events_passed_ingest: 0,
          lines_in_events_rejected_at_ingest: 0,
        };
      } else {
        payloads = ndjsonStreamPayloads(() => (file === STDIN_FILE ? process.stdin : createReadStream(file)));
      }

      // A bar with counts, rate and ETA on a terminal (local/cli/progress.ts); plain lines otherwise.
      const withBar = withProgressBar(report, { label: 'ingest', unit: 'events', ...opts });
      const bar = withBar.bar;
      if (bar) {
        if (total === undefined && file !== STDIN_FILE) total = await countLines(file);
        // The bar starts with the first event read, so its rate and ETA are the sending's.
        const inner = payloads;
        payloads = (async function* () {
          bar.update(0, total);
          yield* inner;
        })();
      }
      const summary = await withRuntime(
        { stateDir: opts.stateDir, report: withBar.report },
        async ({ runtime }) => {
          const replay = await replayThroughRuntime(runtime, withBar.report, payloads, {
            onProgress: progress(report, total, withBar.bar),
            onResult: (index, status) => {
              if (!accounting) return;
              const n = eventLines[index]?.length ?? 0;
              if (status === 'accepted') accounting.lines_in_events_passed_ingest += n;
              else accounting.lines_in_events_rejected_at_ingest += n;
            },
          });
          if (
            accounting &&
            accounting.lines_in_events_passed_ingest + accounting.lines_in_events_rejected_at_ingest !==
              accounting.csv_records
          ) {
            throw new Error('online-retail line accounting does not add up');
          }
          const out: IngestCommandSummary = {
            file,
            format,
            ...replay,
            quarantine_uri: runtime.env.QUARANTINE_URI ?? '',
            on_failure_file: runtime.onFailureFile,
            ...(accounting ? { online_retail: { ...accounting, attribution: UCI_ATTRIBUTION } } : {}),
          };
          return out;
        },
      ).finally(() => withBar.bar?.stop());

      report.result(summary, () => {
        const lines = [
          `${summary.file === STDIN_FILE ? 'stdin' : summary.file}: ${fmt(summary.received)} received → ${fmt(summary.accepted)} accepted, ${fmt(summary.duplicates)} duplicates, ${fmt(summary.rejected)} rejected (${fmt(summary.events_per_second)} events/s)`,
        ];
        for (const [reason, n] of Object.entries(summary.rejected_by_reason).sort((a, b) => b[1] - a[1])) {
          lines.push(`  rejected ${reason}: ${fmt(n)}`);
        }
        if (summary.rejected > 0)
          lines.push(`  rejected records are in ${summary.quarantine_uri}quarantine/`);
        if (summary.online_retail) {
          const o = summary.online_retail;
          lines.push(
            `  CSV: ${fmt(o.csv_records)} invoice lines in ${fmt(o.events)} events; ${fmt(o.lines_in_events_passed_ingest)} lines passed ingest, ${fmt(o.lines_in_events_rejected_at_ingest)} rejected`,
            `  ${o.attribution}`,
          );
        }
        return lines.join('\n');
      });
    });
}
