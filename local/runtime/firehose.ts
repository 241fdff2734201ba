/**
 * Local stand-in for the Kinesis Data Firehose delivery stream: a second, independent consumer
 * of the events stream that lands the raw records as NDJSON files partitioned by event date,
 *   <lake>/landing/events/event_date=YYYY-MM-DD/part-<n>.jsonl
 * Records that are not JSON objects with a usable `event_time` go to
 *   <lake>/errors/firehose/part-<n>.jsonl   (with the error and the base64 record)
 * This is the landing sink the lakehouse loads into the Iceberg bronze table.
 *
 * Delivery is at-least-once, like Firehose: each polled batch is appended before the poller
 * checkpoints it, so a crash can repeat records but never lose them (silver deduplicates by
 * event_id). Part files roll over by size and by age.
 */
import { appendFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KinesisStreamEvent } from 'aws-lambda';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';

export interface LocalFirehoseOptions {
  /** Lake root (`<stateDir>/lake`). */
  readonly lakeDir: string;
  /** Roll a part file once it reaches this size. @default 32 MiB */
  readonly maxPartBytes?: number;
  /** Roll a part file once it is this old. @default 300_000 (5 minutes, like a Firehose buffer) */
  readonly maxPartAgeMs?: number;
}

export interface FirehoseStats {
  delivered: number;
  errors: number;
  bytes: number;
  files: number;
}

interface OpenPart {
  path: string;
  bytes: number;
  openedAt: number;
}

const DATE = /^(\d{4}-\d{2}-\d{2})T/;

/** Date partition (UTC) of a record, or an error message. */
export function eventDateOf(data: string): { date: string; line: string } | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(data);
  } catch {
    return { error: 'record is not valid JSON' };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { error: 'record is not a JSON object' };
  }
  const time = (parsed as Record<string, unknown>).event_time;
  const millis = typeof time === 'string' ? Date.parse(time) : Number.NaN;
  if (!Number.isFinite(millis)) return { error: 'record has no valid event_time' };
  const date = DATE.exec(new Date(millis).toISOString())?.[1];
  if (!date) return { error: 'event_time out of range' };
  // One record per line: re-serialise if the producer's JSON had raw newlines in it.
  return { date, line: data.includes('\n') ? JSON.stringify(parsed) : data };
}

export class LocalFirehose {
  readonly stats: FirehoseStats = { delivered: 0, errors: 0, bytes: 0, files: 0 };
  private readonly parts = new Map<string, OpenPart>();
  private readonly maxPartBytes: number;
  private readonly maxPartAgeMs: number;
  readonly landingDir: string;
  readonly errorsDir: string;

  constructor(options: LocalFirehoseOptions) {
    this.landingDir = join(options.lakeDir, LAKE_PREFIXES.landingEvents);
    this.errorsDir = join(options.lakeDir, LAKE_PREFIXES.firehoseErrors);
    this.maxPartBytes = options.maxPartBytes ?? 32 * 1024 * 1024;
    this.maxPartAgeMs = options.maxPartAgeMs ?? 300_000;
  }

  /** Kinesis-event handler, invoked by a `KinesisEventSourceMapping` of its own. */
  readonly handle = async (event: KinesisStreamEvent): Promise<undefined> => {
    const byDir = new Map<string, string[]>();
    const add = (dir: string, line: string) => {
      let lines = byDir.get(dir);
      if (!lines) {
        lines = [];
        byDir.set(dir, lines);
      }
      lines.push(line);
    };
    for (const record of event.Records) {
      const data = Buffer.from(record.kinesis.data, 'base64').toString('utf8');
      const result = eventDateOf(data);
      if ('error' in result) {
        this.stats.errors += 1;
        add(
          this.errorsDir,
          JSON.stringify({
            errorMessage: result.error,
            sequenceNumber: record.kinesis.sequenceNumber,
            partitionKey: record.kinesis.partitionKey,
            approximateArrivalTimestamp: record.kinesis.approximateArrivalTimestamp,
            rawData: record.kinesis.data,
          }),
        );
      } else {
        this.stats.delivered += 1;
        add(join(this.landingDir, `event_date=${result.date}`), result.line);
      }
    }
    for (const [dir, lines] of byDir) this.append(dir, `${lines.join('\n')}\n`);
    return undefined;
  };

  private append(dir: string, text: string): void {
    const now = Date.now();
    let part = this.parts.get(dir);
    if (!part || part.bytes >= this.maxPartBytes || now - part.openedAt >= this.maxPartAgeMs) {
      mkdirSync(dir, { recursive: true });
      part = { path: join(dir, nextPartName(dir)), bytes: 0, openedAt: now };
      this.parts.set(dir, part);
      this.stats.files += 1;
    }
    appendFileSync(part.path, text);
    const bytes = Buffer.byteLength(text);
    part.bytes += bytes;
    this.stats.bytes += bytes;
  }
}

/** `part-00007.jsonl` after the highest existing part (files of earlier runs are never appended to). */
function nextPartName(dir: string): string {
  let max = 0;
  for (const name of readdirSync(dir)) {
    const m = /^part-(\d+)\.jsonl$/.exec(name);
    if (m && statSync(join(dir, name)).isFile()) max = Math.max(max, Number(m[1]));
  }
  return `part-${String(max + 1).padStart(5, '0')}.jsonl`;
}
