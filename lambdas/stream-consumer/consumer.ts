/**
 * Stream consumer logic: Kinesis records → validated events → deduplicated → real-time
 * features (window counters, recent items) in the features table; rejected records → quarantine.
 *
 * Kinesis semantics drive the shape: Lambda retries a shard from the LOWEST sequence number
 * reported in `batchItemFailures`, and everything before it is checkpointed. So:
 *  - bad records are never "failures": they are quarantined with their reason and counted;
 *  - if a write fails, the earliest record whose effects may be incomplete is reported, and
 *    the retry is made harmless by idempotent writes (see `features/apply.ts`);
 *  - the counts returned cover only records before the reported one (those are final), so a
 *    runtime summing results across invocations and retries counts every record exactly once.
 *
 * Order of work: decode/validate (Powertools BatchProcessor) → dedup check → window counters →
 * recent items → dedup markers → quarantine file. Quarantine goes last so a retried batch does
 * not quarantine the same record twice; its object name is derived from the records, so even a
 * replay of an identical batch overwrites rather than duplicates.
 */
import { createHash } from 'node:crypto';
import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type {
  Context,
  KinesisStreamBatchResponse,
  KinesisStreamEvent,
  KinesisStreamRecord,
} from 'aws-lambda';
import { parseEvent, type RejectReason, type ShopEvent } from '../shared/event-schema.ts';
import { DEFAULT_WINDOW_SLICES, type FeatureRecord } from '../shared/features/aggregate.ts';
import {
  applyRecentItems,
  applyWindowAggregates,
  DEFAULT_DEDUP_TTL_DAYS,
  findDuplicates,
  writeDedupMarkers,
} from '../shared/features/apply.ts';
import { padSequence } from '../shared/features/feature-keys.ts';
import { DEFAULT_RECENT_ITEMS_CAP } from '../shared/features/recent.ts';
import type { FeatureStore } from '../shared/features/store.ts';
import type { ObjectStore } from '../shared/object-store.ts';
import { type QuarantineEntry, writeQuarantine } from '../shared/quarantine.ts';

/** Powertools Logger (or anything with the same methods). */
export type ConsumerLogger = Pick<Logger, 'info' | 'warn' | 'error'>;

export interface ConsumerDeps {
  readonly store: FeatureStore;
  readonly quarantine: ObjectStore;
  readonly now: () => number;
  /** Length of recent-items lists. @default DEFAULT_RECENT_ITEMS_CAP (20) */
  readonly recentItemsCap?: number;
  /** Lifetime of dedup markers. @default DEFAULT_DEDUP_TTL_DAYS (7) */
  readonly dedupTtlDays?: number;
  /** Items the product counters of a window item are spread over (`TREND_SLICES`). @default 1 */
  readonly windowSlices?: number;
  /**
   * Called with every batch's committed counts (after processing, before the response):
   * the local runtime sums them for the CLI's accounting; on AWS the metrics carry them.
   */
  readonly onBatchResult?: (result: ConsumerBatchResult) => void;
  readonly logger?: ConsumerLogger;
  /** Powertools Metrics (CloudWatch EMF); the Lambda entry point passes one, local runs need not. */
  readonly metrics?: Pick<Metrics, 'addMetric' | 'publishStoredMetrics'>;
}

/** Reasons the consumer adds to the event contract's `RejectReason`s. */
export type ConsumerRejectReason = RejectReason | 'invalid_encoding' | 'invalid_key';

export interface ConsumerBatchResult {
  /** Records in the batch. */
  readonly records: number;
  /** Committed records applied to the features (first occurrences; replays of themselves included). */
  accepted: number;
  /** Committed records dropped because their event_id was already applied. */
  duplicates: number;
  /** Committed records quarantined. */
  rejected: number;
  rejected_by_reason: Partial<Record<ConsumerRejectReason, number>>;
  /** Accepted records that had already been applied by an earlier attempt (retry/replay). */
  replayed: number;
  /**
   * Sequence number to report in `batchItemFailures`; records from it on are not counted
   * above and will be retried by Lambda (or by the local poller).
   */
  failedSequenceNumber?: string;
  /** Message of the error that stopped the batch, when `failedSequenceNumber` is set. */
  error?: string;
  /** DynamoDB write requests this call made (PutItem/UpdateItem/BatchWriteItem calls). */
  writeRequests: number;
}

type Classified =
  | { readonly kind: 'accepted'; readonly event: ShopEvent }
  | {
      readonly kind: 'rejected';
      readonly reason: ConsumerRejectReason;
      readonly detail: string;
      readonly raw: string;
    };

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes and validates one record. Never throws: every record gets a classification. */
async function classifyRecord(record: KinesisStreamRecord, now: () => number): Promise<Classified> {
  let text: string;
  const data = record.kinesis?.data;
  if (typeof data !== 'string') {
    return { kind: 'rejected', reason: 'invalid_encoding', detail: 'record has no data', raw: '' };
  }
  try {
    text = UTF8.decode(Buffer.from(data, 'base64'));
  } catch {
    return { kind: 'rejected', reason: 'invalid_encoding', detail: 'record data is not UTF-8', raw: data };
  }
  const parsed = parseEvent(text, { now });
  if (!parsed.ok) return { kind: 'rejected', reason: parsed.reason, detail: parsed.detail, raw: text };
  return { kind: 'accepted', event: parsed.event };
}

/** Shard id from the record's eventID (`shardId-000000000000:<sequence number>`). */
export function shardIdOf(record: KinesisStreamRecord): string {
  const id = typeof record.eventID === 'string' ? record.eventID.split(':')[0] : undefined;
  return id && id.length > 0 ? id : 'unknown-shard';
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

interface Slot {
  readonly index: number;
  readonly record: KinesisStreamRecord;
  readonly sequenceNumber: string;
  outcome: 'accepted' | 'duplicate' | 'rejected' | 'pending';
  replayed: boolean;
  reject?: { reason: ConsumerRejectReason; detail: string; raw: string };
  feature?: FeatureRecord;
}

/**
 * Processes one Kinesis batch (one shard, sequence order, as Lambda delivers it) and returns
 * counts plus the sequence number to report as failed, if any. Never throws.
 */
export async function processKinesisBatch(
  records: readonly KinesisStreamRecord[],
  deps: ConsumerDeps,
): Promise<ConsumerBatchResult> {
  const writesBefore = deps.store.stats.writeRequests;
  const slots: Slot[] = records.map((record, index) => ({
    index,
    record,
    sequenceNumber: String(record.kinesis?.sequenceNumber ?? ''),
    outcome: 'pending',
    replayed: false,
  }));

  // Decode + validate every record with Powertools' batch processor. The record handler
  // never throws for bad input; a 'fail' would be a bug and is reported as a failed record.
  const classified = new Map<KinesisStreamRecord, Classified>();
  const processor = new BatchProcessor(EventType.KinesisDataStreams);
  processor.register([...records], async (r: KinesisStreamRecord) => {
    classified.set(r, await classifyRecord(r, deps.now));
  });
  let failedIndex: number | undefined;
  let failure: string | undefined;
  const fail = (index: number, error: unknown) => {
    if (failedIndex === undefined || index < failedIndex) failedIndex = index;
    failure ??= errorMessage(error);
  };
  let processed: Awaited<ReturnType<typeof processor.process>> = [];
  try {
    processed = await processor.process();
  } catch (error: unknown) {
    // Not a bad record (those are classified): an unexpected fault. Retry the whole batch.
    fail(0, error);
  }

  processed.forEach((entry, i) => {
    const slot = slots[i];
    if (!slot) return;
    const [status, result] = entry;
    if (status !== 'success') {
      fail(i, new Error(String(result)));
      return;
    }
    const c = classified.get(slot.record);
    if (!c) {
      fail(i, new Error('record was not classified'));
      return;
    }
    if (c.kind === 'rejected') {
      slot.outcome = 'rejected';
      slot.reject = { reason: c.reason, detail: c.detail, raw: c.raw };
      return;
    }
    let seq: string;
    try {
      seq = padSequence(slot.sequenceNumber);
    } catch (error: unknown) {
      slot.outcome = 'rejected';
      slot.reject = { reason: 'invalid_key', detail: errorMessage(error), raw: JSON.stringify(c.event) };
      return;
    }
    slot.feature = { event: c.event, shardId: shardIdOf(slot.record), seq };
  });

  const candidates = slots.filter((s) => s.feature && failedIndex === undefined);
  const bySeq = new Map<FeatureRecord, Slot>();
  for (const s of candidates) if (s.feature) bySeq.set(s.feature, s);

  if (failedIndex === undefined && candidates.length > 0) {
    try {
      const dedup = await findDuplicates(
        deps.store,
        candidates.flatMap((s) => (s.feature ? [s.feature] : [])),
      );
      for (const r of dedup.duplicates) {
        const s = bySeq.get(r);
        if (s) s.outcome = 'duplicate';
      }
      const toApply = [...dedup.fresh, ...dedup.replayed];
      for (const r of dedup.replayed) {
        const s = bySeq.get(r);
        if (s) s.replayed = true;
      }
      await applyWindowAggregates(deps.store, toApply, deps.windowSlices ?? DEFAULT_WINDOW_SLICES);
      await applyRecentItems(deps.store, toApply, deps.recentItemsCap ?? DEFAULT_RECENT_ITEMS_CAP);
      await writeDedupMarkers(deps.store, dedup.fresh, {
        now: deps.now,
        ttlDays: deps.dedupTtlDays ?? DEFAULT_DEDUP_TTL_DAYS,
      });
      for (const r of toApply) {
        const s = bySeq.get(r);
        if (s) s.outcome = 'accepted';
      }
    } catch (error: unknown) {
      // Effects of every not-yet-settled record may be partial: retry from the earliest one.
      // Records before it (duplicates, rejected — quarantined below) are settled.
      const earliest = slots.find((s) => s.outcome === 'pending' && s.feature);
      fail(earliest?.index ?? 0, error);
    }
  }

  // Quarantine the rejected records that precede any failure point (the rest will be retried).
  const toQuarantine = slots.filter(
    (s) => s.outcome === 'rejected' && (failedIndex === undefined || s.index < failedIndex),
  );
  if (toQuarantine.length > 0) {
    try {
      await writeQuarantine(
        deps.quarantine,
        'consumer',
        toQuarantine.map(
          (s): QuarantineEntry => ({
            reason: s.reject?.reason ?? 'invalid_field',
            detail: s.reject?.detail ?? '',
            raw: s.reject?.raw ?? '',
            context: {
              shard_id: shardIdOf(s.record),
              sequence_number: s.sequenceNumber,
              partition_key: String(s.record.kinesis?.partitionKey ?? ''),
            },
          }),
        ),
        { now: deps.now, name: quarantineName(toQuarantine) },
      );
    } catch (error: unknown) {
      const first = toQuarantine[0];
      fail(first ? first.index : 0, error);
    }
  }

  const committed = slots.filter((s) => failedIndex === undefined || s.index < failedIndex);
  const result: ConsumerBatchResult = {
    records: records.length,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    rejected_by_reason: {},
    replayed: 0,
    writeRequests: deps.store.stats.writeRequests - writesBefore,
  };
  for (const s of committed) {
    if (s.outcome === 'accepted') {
      result.accepted += 1;
      if (s.replayed) result.replayed += 1;
    } else if (s.outcome === 'duplicate') {
      result.duplicates += 1;
    } else if (s.outcome === 'rejected') {
      result.rejected += 1;
      const reason = s.reject?.reason ?? 'invalid_field';
      result.rejected_by_reason[reason] = (result.rejected_by_reason[reason] ?? 0) + 1;
    }
  }
  if (failedIndex !== undefined) {
    const failedSlot = slots[failedIndex];
    result.failedSequenceNumber = failedSlot?.sequenceNumber;
    result.error = failure;
    deps.logger?.error('feature update failed; reporting batch item failure', {
      failedSequenceNumber: result.failedSequenceNumber,
      error: failure,
    });
  }
  return result;
}

/** Deterministic quarantine object name for a set of records (shard + sequence range hash). */
function quarantineName(slots: readonly Slot[]): string {
  const first = slots[0];
  const last = slots[slots.length - 1];
  const shard = first ? shardIdOf(first.record) : 'unknown-shard';
  const digest = createHash('sha256')
    .update(slots.map((s) => `${shardIdOf(s.record)}:${s.sequenceNumber}`).join(','))
    .digest('hex')
    .slice(0, 32);
  const safeShard = /^[A-Za-z0-9._-]{1,64}$/.test(shard) ? shard : 'shard';
  // Only digits of the sequence numbers: a malformed one must not make the name invalid.
  const tail = (slot: Slot | undefined) => slot?.sequenceNumber.replace(/\D/g, '').slice(-20) || '0';
  return `${safeShard}-${tail(first)}-${tail(last)}-${digest}`;
}

export type ConsumerHandler = (
  event: KinesisStreamEvent,
  context?: Context,
) => Promise<KinesisStreamBatchResponse>;

/**
 * The Lambda handler as a function of its dependencies, so the local runtime and tests pass
 * their own store/quarantine/clock. Returns a partial batch response: at most one item, the
 * earliest record whose effects may be incomplete (Kinesis checkpoints everything before it).
 */
export function createConsumerHandler(deps: ConsumerDeps): ConsumerHandler {
  return async (event) => {
    const result = await processKinesisBatch(event.Records ?? [], deps);
    deps.onBatchResult?.(result);
    deps.logger?.info('batch processed', {
      records: result.records,
      accepted: result.accepted,
      duplicates: result.duplicates,
      rejected: result.rejected,
      rejected_by_reason: result.rejected_by_reason,
      replayed: result.replayed,
      write_requests: result.writeRequests,
      failed_sequence_number: result.failedSequenceNumber,
    });
    if (deps.metrics) {
      deps.metrics.addMetric('RecordsAccepted', MetricUnit.Count, result.accepted);
      deps.metrics.addMetric('RecordsDuplicate', MetricUnit.Count, result.duplicates);
      deps.metrics.addMetric('RecordsRejected', MetricUnit.Count, result.rejected);
      deps.metrics.addMetric('FeatureWriteRequests', MetricUnit.Count, result.writeRequests);
      deps.metrics.addMetric('BatchFailures', MetricUnit.Count, result.failedSequenceNumber ? 1 : 0);
      deps.metrics.publishStoredMetrics();
    }
    return {
      batchItemFailures: result.failedSequenceNumber ? [{ itemIdentifier: result.failedSequenceNumber }] : [],
    };
  };
}
