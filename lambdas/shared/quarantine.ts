/**
 * Quarantine: where rejected input is kept, with its reason, so an operator can inspect and
 * replay it. Nothing a client sends is dropped silently: a record is accepted, a duplicate, or
 * written here.
 *
 * Layout (relative to `QUARANTINE_URI`, the lake root, e.g. `s3://lake/` or `file:///…/lake/`):
 *   `quarantine/source=<ingest|consumer>/dt=YYYY-MM-DD/<name>.jsonl`
 * one NDJSON line per rejected record: `{received_at, source, reason, detail, raw, …context}`.
 * `dt` is the day the record was received (not its event time, which may be missing or bogus).
 */
import { randomUUID } from 'node:crypto';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { pathSegment } from './keys.ts';
import type { ObjectStore } from './object-store.ts';

/** `access-log`: access-log lines the parser rejected (local ingest; docs/access-logs.md). */
export type QuarantineSource = 'ingest' | 'consumer' | 'access-log';

/** One rejected record as the caller knows it. */
export interface QuarantineEntry {
  /** Stable machine-readable reason (a `RejectReason` or an envelope error code). */
  readonly reason: string;
  readonly detail: string;
  /** What was received: the raw text or the JSON value, unchanged. */
  readonly raw: unknown;
  /** Where it came from (request index, shard and sequence number…). */
  readonly context?: Readonly<Record<string, string | number>>;
}

/** One NDJSON line of a quarantine object. */
export interface QuarantineLine {
  received_at: string;
  source: QuarantineSource;
  reason: string;
  detail: string;
  raw: unknown;
  [context: string]: unknown;
}

/** Object key of a quarantine file; `name` defaults to a random UUID. */
export function quarantineKey(
  source: QuarantineSource,
  receivedAtMs: number,
  name: string = randomUUID(),
): string {
  const dt = new Date(receivedAtMs).toISOString().slice(0, 10);
  return `${LAKE_PREFIXES.quarantine}source=${pathSegment('source', source)}/dt=${pathSegment('dt', dt)}/${pathSegment('name', name)}.jsonl`;
}

/**
 * Writes rejected records as one NDJSON object. Returns its key, or undefined when there was
 * nothing to write. A deterministic `name` makes a replayed batch overwrite its own file
 * instead of adding a copy. Throws if the store fails: callers must not report success then.
 */
export async function writeQuarantine(
  store: ObjectStore,
  source: QuarantineSource,
  entries: readonly QuarantineEntry[],
  options: { now: () => number; name?: string },
): Promise<string | undefined> {
  if (entries.length === 0) return undefined;
  const receivedAtMs = options.now();
  const receivedAt = new Date(receivedAtMs).toISOString();
  const lines = entries.map((e) => {
    const line: QuarantineLine = {
      ...e.context,
      received_at: receivedAt,
      source,
      reason: e.reason,
      detail: e.detail,
      raw: e.raw,
    };
    return JSON.stringify(line);
  });
  const objectKey = quarantineKey(source, receivedAtMs, options.name);
  await store.put(objectKey, `${lines.join('\n')}\n`, { contentType: 'application/x-ndjson' });
  return objectKey;
}

export class InvalidQuarantineLineError extends Error {
  constructor(readonly line: string) {
    super(`not a quarantine line: ${line.slice(0, 120)}`);
    this.name = 'InvalidQuarantineLineError';
  }
}

function isQuarantineLine(value: unknown): value is QuarantineLine {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.received_at === 'string' &&
    (v.source === 'ingest' || v.source === 'consumer' || v.source === 'access-log') &&
    typeof v.reason === 'string' &&
    typeof v.detail === 'string' &&
    'raw' in v
  );
}

/** Parses a quarantine object back into lines (tests, CLI summaries); throws on foreign content. */
export function parseQuarantineObject(body: string): QuarantineLine[] {
  return body
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const value: unknown = JSON.parse(l);
      if (!isQuarantineLine(value)) throw new InvalidQuarantineLineError(l);
      return value;
    });
}
