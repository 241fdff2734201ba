/**
 * Replays events through the real ingest handler, as a client of `POST /events` would, and
 * accounts for every one of them once the consumer has drained:
 *
 *   received = accepted + duplicates + rejected
 *
 * where rejected = refused by the ingest API (quarantined by it) + rejected by the consumer
 * (quarantined by it) + records that exhausted the consumer's retries (in the on-failure file).
 * The identity is checked in code: a mismatch is a bug somewhere and fails loudly.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { IngestHandler } from '../../lambdas/ingest/ingest.ts';
import { isPlainObject, LIMITS } from '../../lambdas/shared/event-schema.ts';
import { retryPending } from '../../lambdas/shared/retry.ts';
import type { ConsumerTotals } from './handlers.ts';
import { proxyEventFor } from './http-server.ts';
import type { EmbeddedRuntime } from './runtime.ts';

export interface IngestTally {
  received: number;
  requests: number;
  accepted: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  /** Sends repeated because Kinesis kept failing some records (`failed` answers). */
  resent: number;
}

export interface ReplayOptions {
  readonly ingest: IngestHandler;
  /** Events per request (≤ 500). @default 500 */
  readonly batchSize?: number;
  /** Called after every request with the running tally. */
  readonly onProgress?: (tally: IngestTally) => void;
  /** Called with each payload's ingest outcome (index in the input order). */
  readonly onResult?: (index: number, status: 'accepted' | 'rejected', reason?: string) => void;
  /** How often a `failed` (stream unavailable) event is re-sent. @default 5 */
  readonly maxResends?: number;
}

export class IngestAccountingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IngestAccountingError';
  }
}

const REQUEST_HEADERS = ['Content-Type', 'application/json', 'User-Agent', 'shoplake-cli'] as const;

function proxyEvent(body: string): APIGatewayProxyEvent {
  return proxyEventFor('POST', '/events', body, REQUEST_HEADERS);
}

/**
 * Sends payloads (event objects, or raw strings for lines that were not JSON) in requests of at
 * most `batchSize` events and 1 MB, and tallies the per-event answers.
 */
export async function sendThroughIngest(
  payloads: Iterable<unknown> | AsyncIterable<unknown>,
  options: ReplayOptions,
): Promise<IngestTally> {
  const batchSize = Math.min(options.batchSize ?? LIMITS.maxEventsPerRequest, LIMITS.maxEventsPerRequest);
  const maxResends = options.maxResends ?? 5;
  const tally: IngestTally = {
    received: 0,
    requests: 0,
    accepted: 0,
    rejected: 0,
    rejected_by_reason: {},
    resent: 0,
  };
  const reject = (index: number, reason: string) => {
    tally.rejected += 1;
    tally.rejected_by_reason[reason] = (tally.rejected_by_reason[reason] ?? 0) + 1;
    options.onResult?.(index, 'rejected', reason);
  };

  let batch: { index: number; json: string }[] = [];
  let bytes = 0;
  const envelopeBytes = '{"events":[]}'.length;

  type Item = { index: number; json: string };
  /** One request; returns the events to send again (Kinesis could not take them: `failed`). */
  const sendOnce = async (items: readonly Item[]): Promise<Item[]> => {
    tally.requests += 1;
    const res = await options.ingest(proxyEvent(`{"events":[${items.map((i) => i.json).join(',')}]}`));
    let body: unknown;
    try {
      body = JSON.parse(res.body);
    } catch {
      throw new IngestAccountingError(`ingest answered ${res.statusCode} with a non-JSON body`);
    }
    if (!isPlainObject(body))
      throw new IngestAccountingError(`ingest answered ${res.statusCode} with ${res.body}`);
    if (res.statusCode === 400 && typeof body.error === 'string') {
      // The whole request was refused (and quarantined by the handler): each event is rejected.
      for (const item of items) reject(item.index, body.error);
      return [];
    }
    const results = body.results;
    if (!Array.isArray(results) || results.length !== items.length) {
      throw new IngestAccountingError(
        `ingest answered ${res.statusCode} without one result per event: ${res.body.slice(0, 300)}`,
      );
    }
    const retry: Item[] = [];
    results.forEach((r: unknown, i) => {
      const item = items[i] as Item;
      const status = isPlainObject(r) ? r.status : undefined;
      if (status === 'accepted') {
        tally.accepted += 1;
        options.onResult?.(item.index, 'accepted');
      } else if (status === 'rejected') {
        reject(item.index, isPlainObject(r) && typeof r.reason === 'string' ? r.reason : 'unknown');
      } else {
        retry.push(item);
      }
    });
    return retry;
  };

  const send = async (items: readonly Item[]): Promise<void> => {
    if (items.length === 0) return;
    const { left, attempts } = await retryPending(
      items,
      { maxAttempts: maxResends + 1, baseMs: 100, capMs: 2_000, jitter: 'none' },
      async (pending, attempt) => {
        if (attempt > 1) tally.resent += pending.length;
        return sendOnce(pending);
      },
    );
    if (left.length > 0) {
      throw new IngestAccountingError(
        `${left.length} events could not be written to the stream after ${attempts} sends`,
      );
    }
  };

  const flush = async () => {
    const items = batch;
    batch = [];
    bytes = 0;
    await send(items);
    options.onProgress?.(tally);
  };

  for await (const payload of payloads) {
    const index = tally.received;
    tally.received += 1;
    const json = JSON.stringify(payload) ?? 'null';
    const size = Buffer.byteLength(json) + 1;
    if (
      batch.length > 0 &&
      (batch.length >= batchSize || bytes + size + envelopeBytes > LIMITS.maxRequestBytes)
    ) {
      await flush();
    }
    batch.push({ index, json });
    bytes += size;
  }
  await flush();
  return tally;
}

/** The accounting of a replay once the consumer drained. */
export interface ReplaySummary {
  received: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  ingest: IngestTally;
  /** Consumer outcomes of this replay; `records` = committed records (each counted once). */
  consumer: {
    records: number;
    accepted: number;
    duplicates: number;
    rejected: number;
    replayed: number;
    to_on_failure: number;
    write_requests: number;
  };
}

/** Snapshot of the consumer counters, to diff before/after a replay. */
export function consumerSnapshot(runtime: EmbeddedRuntime): { totals: ConsumerTotals; onFailure: number } {
  const t = runtime.consumerTotals;
  if (!t) throw new Error('the runtime was started without consumer totals (consumer: "local" is needed)');
  return {
    totals: { ...t, rejected_by_reason: { ...t.rejected_by_reason } },
    onFailure: runtime.consumerMapping?.stats.recordsToOnFailure ?? 0,
  };
}

/**
 * Combines the ingest tally with the consumer's outcomes since `before` and checks that
 * every received event is counted exactly once.
 */
export function summarizeReplay(
  runtime: EmbeddedRuntime,
  ingest: IngestTally,
  before: ReturnType<typeof consumerSnapshot>,
): ReplaySummary {
  const after = consumerSnapshot(runtime);
  const d = (k: 'accepted' | 'duplicates' | 'rejected' | 'replayed' | 'writeRequests') =>
    after.totals[k] - before.totals[k];
  const toOnFailure = after.onFailure - before.onFailure;
  const byReason: Record<string, number> = { ...ingest.rejected_by_reason };
  for (const [reason, n] of Object.entries(after.totals.rejected_by_reason)) {
    const delta = n - (before.totals.rejected_by_reason[reason] ?? 0);
    if (delta > 0) byReason[reason] = (byReason[reason] ?? 0) + delta;
  }
  if (toOnFailure > 0) byReason.retries_exhausted = (byReason.retries_exhausted ?? 0) + toOnFailure;
  const summary: ReplaySummary = {
    received: ingest.received,
    accepted: d('accepted'),
    duplicates: d('duplicates'),
    rejected: ingest.rejected + d('rejected') + toOnFailure,
    rejected_by_reason: byReason,
    ingest,
    consumer: {
      records: d('accepted') + d('duplicates') + d('rejected'),
      accepted: d('accepted'),
      duplicates: d('duplicates'),
      rejected: d('rejected'),
      replayed: d('replayed'),
      to_on_failure: toOnFailure,
      write_requests: d('writeRequests'),
    },
  };
  const reasonTotal = Object.values(byReason).reduce((a, b) => a + b, 0);
  if (
    summary.received !== summary.accepted + summary.duplicates + summary.rejected ||
    reasonTotal !== summary.rejected
  ) {
    throw new IngestAccountingError(
      `counts do not add up: received ${summary.received} ≠ accepted ${summary.accepted} + duplicates ${summary.duplicates} + rejected ${summary.rejected} (ingest accepted ${ingest.accepted}, consumer committed ${summary.consumer.records}, on-failure ${toOnFailure})`,
    );
  }
  return summary;
}
