/**
 * Ingest API logic: `POST /events` with `{"events":[…]}` → per-event validation → Kinesis
 * PutRecords (PartitionKey = session_id, so a session's events stay ordered on one shard and
 * its duplicates meet the consumer's dedup on the same shard).
 *
 * Answers:
 *  - 400 for a bad envelope (body not JSON, no `events` array, empty, > 500 events, > 1 MB),
 *    for JSON nested deeper than `LIMITS.maxJsonDepth` (32) and for text that is not valid
 *    Unicode (lone UTF-16 surrogates, raw or escaped; invalid UTF-8 in a base64 body). These
 *    are checked on the text BEFORE `JSON.parse` or anything recursive, so no input can
 *    overflow the stack. The raw body is quarantined with the reason, so nothing sent is lost;
 *  - 200 with a per-event status otherwise (`accepted` / `rejected` with reason / `failed`
 *    when Kinesis kept refusing the record after retries — the client may resend those;
 *    the consumer drops duplicates by event_id, so resending is always safe);
 *  - 503 when no event could be written to the stream at all (all valid events failed), or
 *    when the quarantine is unavailable (nothing was put to the stream then).
 *
 * Only the records Kinesis reports as failed are retried, with jittered exponential backoff.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
} from '@aws-sdk/client-kinesis';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { isPlainObject, LIMITS, parseEvent, type ShopEvent } from '../shared/event-schema.ts';
import { inspectJsonText } from '../shared/json-guard.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { type QuarantineEntry, writeQuarantine } from '../shared/quarantine.ts';
import { retryPending } from '../shared/retry.ts';

/** The slice of the Kinesis client ingest needs (a `KinesisClient` satisfies it). */
export interface KinesisPutRecords {
  send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput>;
}

/** Powertools Logger (or anything with the same methods). */
export type IngestLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface IngestDeps {
  readonly kinesis: KinesisPutRecords;
  readonly streamName: string;
  readonly quarantine: ObjectStore;
  readonly now: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  /** Attempts per record, first one included. @default PUT_RECORDS_MAX_ATTEMPTS (6) */
  readonly maxAttempts?: number;
  readonly logger?: IngestLogger;
  /** Powertools Metrics (CloudWatch EMF); the Lambda entry point passes one, local runs need not. */
  readonly metrics?: Pick<Metrics, 'addMetric' | 'publishStoredMetrics'>;
}

/** Kinesis PutRecords limits. */
export const PUT_RECORDS_LIMITS = { maxRecords: 500, maxBytes: 5 * 1024 * 1024 } as const;
export const PUT_RECORDS_MAX_ATTEMPTS = 6;
export const PUT_RECORDS_BACKOFF_BASE_MS = 50;
export const PUT_RECORDS_BACKOFF_CAP_MS = 2_000;

export type EnvelopeError =
  | 'invalid_body'
  | 'invalid_json'
  | 'invalid_envelope'
  | 'too_many_events'
  | 'request_too_large'
  | 'json_too_deep'
  | 'invalid_unicode';

export interface EventResult {
  index: number;
  event_id?: string;
  status: 'accepted' | 'rejected' | 'failed';
  reason?: string;
  detail?: string;
}

export interface IngestResponse {
  accepted: number;
  rejected: number;
  failed: number;
  results: EventResult[];
}

export interface IngestErrorResponse {
  error: EnvelopeError | 'quarantine_unavailable';
  message: string;
}

export interface IngestOutcome {
  statusCode: number;
  body: IngestResponse | IngestErrorResponse;
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

interface Pending {
  readonly index: number;
  readonly event: ShopEvent;
  readonly entry: PutRecordsRequestEntry;
  readonly bytes: number;
}

/** Splits entries into PutRecords calls within 500 records and 5 MB. */
function chunkEntries(pending: readonly Pending[]): Pending[][] {
  const chunks: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  for (const p of pending) {
    if (
      current.length > 0 &&
      (current.length >= PUT_RECORDS_LIMITS.maxRecords || bytes + p.bytes > PUT_RECORDS_LIMITS.maxBytes)
    ) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(p);
    bytes += p.bytes;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Puts records to the stream, retrying only those Kinesis reports as failed (per-record
 * ErrorCode) or all of a call that threw, up to `maxAttempts`. Returns the indexes that were
 * written and, for those that were not, the last error seen.
 */
export async function putWithRetries(
  pending: readonly Pending[],
  deps: IngestDeps,
): Promise<{ written: Set<number>; failed: Map<number, string> }> {
  const written = new Set<number>();
  const lastError = new Map<number, string>();
  const { left } = await retryPending(
    pending,
    {
      maxAttempts: deps.maxAttempts ?? PUT_RECORDS_MAX_ATTEMPTS,
      baseMs: PUT_RECORDS_BACKOFF_BASE_MS,
      capMs: PUT_RECORDS_BACKOFF_CAP_MS,
    },
    async (todo) => {
      const retry: Pending[] = [];
      for (const chunk of chunkEntries(todo)) {
        try {
          const res = await deps.kinesis.send(
            new PutRecordsCommand({ StreamName: deps.streamName, Records: chunk.map((p) => p.entry) }),
          );
          const results = res.Records ?? [];
          chunk.forEach((p, i) => {
            const r = results[i];
            if (r && !r.ErrorCode && r.SequenceNumber) {
              written.add(p.index);
            } else {
              lastError.set(p.index, r?.ErrorCode ? `${r.ErrorCode}: ${r.ErrorMessage ?? ''}` : 'no result');
              retry.push(p);
            }
          });
        } catch (error: unknown) {
          for (const p of chunk) lastError.set(p.index, errorMessage(error));
          retry.push(...chunk);
        }
      }
      return retry;
    },
    { ...(deps.sleep ? { sleep: deps.sleep } : {}), ...(deps.random ? { random: deps.random } : {}) },
  );
  const failed = new Map<number, string>();
  for (const p of left) failed.set(p.index, lastError.get(p.index) ?? 'not attempted');
  return { written, failed };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The request body as text; a base64 body that is not UTF-8 keeps its raw form for the quarantine. */
function decodeBody(
  event: Pick<APIGatewayProxyEvent, 'body' | 'isBase64Encoded'>,
): string | null | { notUtf8: string } {
  if (event.body === null || event.body === undefined) return null;
  if (!event.isBase64Encoded) return event.body;
  try {
    return utf8.decode(Buffer.from(event.body, 'base64'));
  } catch {
    return { notUtf8: event.body };
  }
}

/**
 * Validates one request and writes its valid events to the stream. Separated from the
 * API Gateway mapping so the CLI, tests and benchmarks can call it with plain bodies.
 */
export async function ingestBody(
  input: string | null | { notUtf8: string },
  deps: IngestDeps,
): Promise<IngestOutcome> {
  const body = typeof input === 'object' && input !== null ? null : input;
  const envelopeError = async (error: EnvelopeError, message: string): Promise<IngestOutcome> => {
    try {
      await writeQuarantine(
        deps.quarantine,
        'ingest',
        [
          typeof input === 'object' && input !== null
            ? { reason: error, detail: message, raw: input.notUtf8, context: { encoding: 'base64' } }
            : { reason: error, detail: message, raw: body ?? '' },
        ],
        {
          now: deps.now,
        },
      );
    } catch (qError: unknown) {
      // The client is told the request was refused; the body is still theirs to fix.
      deps.logger?.error('could not quarantine refused request', {
        error: errorMessage(qError),
        reason: error,
      });
    }
    return { statusCode: 400, body: { error, message } };
  };

  if (typeof input === 'object' && input !== null) {
    return envelopeError('invalid_unicode', 'request body is not valid UTF-8');
  }
  if (body === null || body.length === 0) return envelopeError('invalid_body', 'request body is empty');
  const bytes = Buffer.byteLength(body, 'utf8');
  if (bytes > LIMITS.maxRequestBytes) {
    return envelopeError(
      'request_too_large',
      `request body is ${bytes} bytes; the limit is ${LIMITS.maxRequestBytes}`,
    );
  }
  // Before JSON.parse and anything recursive: nesting depth and Unicode well-formedness.
  const problem = inspectJsonText(body, LIMITS.maxJsonDepth);
  if (problem) return envelopeError(problem.reason, problem.detail);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body) as unknown;
  } catch {
    return envelopeError('invalid_json', 'request body is not valid JSON');
  }
  if (!isPlainObject(parsed) || !Array.isArray(parsed.events)) {
    return envelopeError('invalid_envelope', 'request body must be {"events": [ ... ]}');
  }
  const events: unknown[] = parsed.events;
  if (events.length === 0) return envelopeError('invalid_envelope', 'events must hold at least one event');
  if (events.length > LIMITS.maxEventsPerRequest) {
    return envelopeError(
      'too_many_events',
      `${events.length} events in one request; the limit is ${LIMITS.maxEventsPerRequest}`,
    );
  }

  const results: EventResult[] = [];
  const rejected: QuarantineEntry[] = [];
  const pending: Pending[] = [];
  events.forEach((raw, index) => {
    const r = parseEvent(raw, { now: deps.now });
    if (!r.ok) {
      results[index] = r.event_id
        ? { index, event_id: r.event_id, status: 'rejected', reason: r.reason, detail: r.detail }
        : { index, status: 'rejected', reason: r.reason, detail: r.detail };
      rejected.push({ reason: r.reason, detail: r.detail, raw, context: { index } });
      return;
    }
    const data = Buffer.from(JSON.stringify(r.event), 'utf8');
    pending.push({
      index,
      event: r.event,
      entry: { PartitionKey: r.event.session_id, Data: data },
      bytes: data.length + Buffer.byteLength(r.event.session_id, 'utf8'),
    });
  });

  // Quarantine first: if it is down, refuse the request before anything reaches the stream,
  // so the client's retry neither loses rejects nor double-writes accepted events.
  if (rejected.length > 0) {
    try {
      await writeQuarantine(deps.quarantine, 'ingest', rejected, { now: deps.now, name: randomUUID() });
    } catch (error: unknown) {
      deps.logger?.error('quarantine unavailable; refusing request', { error: errorMessage(error) });
      return {
        statusCode: 503,
        body: {
          error: 'quarantine_unavailable',
          message: 'rejected events could not be stored; retry later',
        },
      };
    }
  }

  const { written, failed } =
    pending.length > 0
      ? await putWithRetries(pending, deps)
      : { written: new Set<number>(), failed: new Map<number, string>() };
  for (const p of pending) {
    if (written.has(p.index)) {
      results[p.index] = { index: p.index, event_id: p.event.event_id, status: 'accepted' };
    } else {
      results[p.index] = {
        index: p.index,
        event_id: p.event.event_id,
        status: 'failed',
        reason: 'stream_unavailable',
        detail: failed.get(p.index) ?? 'not written',
      };
    }
  }
  const response: IngestResponse = {
    accepted: written.size,
    rejected: rejected.length,
    failed: pending.length - written.size,
    results,
  };
  if (response.failed > 0) {
    deps.logger?.warn('records still failing after retries', {
      failed: response.failed,
      accepted: response.accepted,
    });
  }
  const statusCode = response.failed > 0 && response.accepted === 0 ? 503 : 200;
  return { statusCode, body: response };
}

export type IngestHandler = (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>;

/** The API Gateway (REST, proxy integration) handler as a function of its dependencies. */
export function createIngestHandler(deps: IngestDeps): IngestHandler {
  return async (event) => {
    const outcome = await ingestBody(decodeBody(event), deps);
    if ('accepted' in outcome.body) {
      deps.logger?.info('ingest request', {
        accepted: outcome.body.accepted,
        rejected: outcome.body.rejected,
        failed: outcome.body.failed,
      });
      if (deps.metrics) {
        deps.metrics.addMetric('EventsAccepted', MetricUnit.Count, outcome.body.accepted);
        deps.metrics.addMetric('EventsRejected', MetricUnit.Count, outcome.body.rejected);
        deps.metrics.addMetric('EventsFailed', MetricUnit.Count, outcome.body.failed);
        deps.metrics.publishStoredMetrics();
      }
    } else {
      deps.logger?.warn('ingest request refused', { error: outcome.body.error });
    }
    return {
      statusCode: outcome.statusCode,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(outcome.body),
    };
  };
}
