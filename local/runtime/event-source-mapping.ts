/**
 * Local Kinesis event-source mapping: what AWS Lambda's poller does for a Kinesis trigger,
 * against any Kinesis endpoint (emulator, LocalStack, AWS).
 *
 * Why: the stream consumer must run locally as the exact handler that runs on AWS, fed with
 * real Kinesis-shaped events and the same delivery semantics — per-shard ordering, batch size,
 * retries, bisect on error, partial batch responses (restart from the lowest failed sequence
 * number), and an on-failure destination for records that exhaust their retries. Nothing is
 * dropped silently: a record is either processed or written to the on-failure file.
 */

import {
  appendFileSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  type GetRecordsCommandOutput,
  GetShardIteratorCommand,
  type KinesisClient,
  type _Record as KinesisRecord,
} from '@aws-sdk/client-kinesis';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { CONSUMER_EVENT_SOURCE } from '../../infra/definitions/resources.ts';
import { backoffDelay } from '../../lambdas/shared/retry.ts';

/** The settings of `CONSUMER_EVENT_SOURCE` the poller honours. */
export interface EventSourceConfig {
  readonly batchSize: number;
  /** How long to gather records before invoking with a batch that is not full. */
  readonly maxBatchingWindowSeconds: number;
  readonly bisectBatchOnError: boolean;
  readonly maxRetryAttempts: number;
  readonly maxRecordAgeSeconds: number;
  readonly reportBatchItemFailures: boolean;
}

/** A Lambda handler for Kinesis events (returns partial batch failures, or nothing). */
export type KinesisInvoke = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse | undefined>;

export interface EventSourceMappingOptions {
  /** Name used in logs, the checkpoint file and the on-failure destination. */
  readonly name: string;
  readonly kinesis: KinesisClient;
  readonly streamName: string;
  readonly invoke: KinesisInvoke;
  readonly config?: EventSourceConfig;
  readonly region?: string;
  /** Where records that exhaust their retries go (NDJSON, one invocation record per line). */
  readonly onFailureFile: string;
  /** Persist per-shard checkpoints here so a restart resumes after the last processed record. */
  readonly checkpointFile?: string;
  /** Delay between polls of an idle shard. @default 100 */
  readonly idlePollMs?: number;
  /** Base delay of the retry back-off. @default 20 */
  readonly retryBaseDelayMs?: number;
  /** Called when a stored checkpoint is not valid for the stream and polling restarts at TRIM_HORIZON. */
  readonly onCheckpointReset?: (shardId: string, checkpoint: string, reason: string) => void;
  /** Called after each invocation, for metrics. */
  readonly onInvocation?: (info: InvocationInfo) => void;
}

export interface InvocationInfo {
  readonly shardId: string;
  readonly records: number;
  readonly failed: boolean;
  readonly failedFrom?: string;
  readonly error?: string;
}

export interface EventSourceMappingStats {
  invocations: number;
  failedInvocations: number;
  recordsDelivered: number;
  recordsProcessed: number;
  recordsToOnFailure: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface ShardState {
  readonly shardId: string;
  checkpoint: string | undefined;
  /** Time (ms) of the last poll that found the shard empty with nothing in flight. */
  caughtUpAt: number;
  iterator: string | undefined;
  /** When `iterator` was handed out (it expires after 5 minutes). */
  iteratorAt: number;
  error: unknown;
}

/** Re-open an unused iterator from the checkpoint after this long (they expire at 5 minutes). */
const ITERATOR_REFRESH_MS = 240_000;

/** Polls every shard of a stream and invokes a handler with Kinesis-shaped events. */
export class KinesisEventSourceMapping {
  readonly stats: EventSourceMappingStats = {
    invocations: 0,
    failedInvocations: 0,
    recordsDelivered: 0,
    recordsProcessed: 0,
    recordsToOnFailure: 0,
  };
  private readonly config: EventSourceConfig;
  private readonly region: string;
  private shards: ShardState[] = [];
  private streamArn = '';
  private running = false;
  private loops: Promise<void>[] = [];
  private wake: (() => void)[] = [];
  /** While a drain waits, partial batches are invoked at once instead of waiting out the window. */
  private draining = 0;

  constructor(private readonly options: EventSourceMappingOptions) {
    this.config = options.config ?? CONSUMER_EVENT_SOURCE;
    this.region = options.region ?? 'us-east-1';
  }

  /** Discovers the shards and starts one poll loop per shard (parallelization factor 1). */
  async start(): Promise<void> {
    if (this.running) return;
    const described = await this.options.kinesis.send(
      new DescribeStreamCommand({ StreamName: this.options.streamName }),
    );
    const description = described.StreamDescription;
    if (!description) throw new Error(`stream ${this.options.streamName} not found`);
    this.streamArn =
      description.StreamARN ??
      `arn:aws:kinesis:${this.region}:000000000000:stream/${this.options.streamName}`;
    const checkpoints = this.loadCheckpoints();
    this.shards = (description.Shards ?? []).map((s) => ({
      shardId: s.ShardId ?? '',
      checkpoint: checkpoints[s.ShardId ?? ''],
      caughtUpAt: 0,
      iterator: undefined,
      iteratorAt: 0,
      error: undefined,
    }));
    this.running = true;
    this.loops = this.shards.map((shard) => this.pollLoop(shard));
  }

  /**
   * Resolves once every shard has been seen empty after this call with no batch in flight,
   * i.e. every record put before `drain()` was called has been processed (or sent to the
   * on-failure destination).
   */
  async drain(options: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 120_000;
    const since = Date.now();
    const deadline = since + timeoutMs;
    this.draining += 1;
    for (const wake of this.wake.splice(0)) wake();
    try {
      await this.waitCaughtUp(since, deadline, timeoutMs);
    } finally {
      this.draining -= 1;
    }
  }

  private async waitCaughtUp(since: number, deadline: number, timeoutMs: number): Promise<void> {
    while (!this.shards.every((s) => s.caughtUpAt > since)) {
      const failed = this.shards.find((s) => s.error !== undefined);
      if (failed)
        throw new Error(
          `${this.options.name}: shard ${failed.shardId} poller failed: ${String(failed.error)}`,
        );
      if (!this.running) throw new Error(`${this.options.name}: event-source mapping is not running`);
      if (Date.now() > deadline) {
        throw new Error(`${this.options.name}: drain did not finish within ${timeoutMs} ms`);
      }
      await sleep(10);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.wake.splice(0)) wake();
    await Promise.allSettled(this.loops);
  }

  private async idle(ms: number): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.wake = this.wake.filter((w) => w !== done);
        resolve();
      }, ms);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.wake.push(done);
    });
  }

  private async pollLoop(shard: ShardState): Promise<void> {
    const idlePollMs = this.options.idlePollMs ?? 100;
    let consecutiveErrors = 0;
    while (this.running) {
      try {
        const startedAt = Date.now();
        const records = await this.fetchBatch(shard);
        if (records.length === 0) {
          shard.caughtUpAt = startedAt;
          await this.idle(idlePollMs);
          continue;
        }
        await this.deliver(shard, records);
        consecutiveErrors = 0;
      } catch (error: unknown) {
        // Transient API errors (throttling, expired iterator): re-open the iterator and retry.
        consecutiveErrors += 1;
        shard.iterator = undefined;
        if (consecutiveErrors > 20) {
          shard.error = error instanceof Error ? error.message : String(error);
          return;
        }
        await this.idle(Math.min(1_000, 50 * consecutiveErrors));
      }
    }
  }

  /**
   * Reads up to batchSize records. Like Lambda, a batch that is not full is held open for up to
   * `maxBatchingWindowSeconds` from its first record, so bursts become few large invocations
   * (fewer, larger feature writes) instead of many small ones.
   */
  private async fetchBatch(shard: ShardState): Promise<KinesisRecord[]> {
    const out: KinesisRecord[] = [];
    const windowMs = this.config.maxBatchingWindowSeconds * 1000;
    let firstAt = 0;
    // An iterator that has not moved for a while is re-opened from the checkpoint before it
    // expires (Kinesis and kinesalite: 5 minutes). Between batches, checkpoint = position.
    if (shard.iterator && Date.now() - shard.iteratorAt > ITERATOR_REFRESH_MS) shard.iterator = undefined;
    while (out.length < this.config.batchSize && this.running) {
      if (!shard.iterator) {
        const it = await this.openIterator(shard);
        shard.iterator = it.ShardIterator;
        shard.iteratorAt = Date.now();
        if (!shard.iterator) return out;
      }
      let res: GetRecordsCommandOutput;
      try {
        res = await this.options.kinesis.send(
          new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: this.config.batchSize - out.length }),
        );
      } catch (error: unknown) {
        if (!(error instanceof Error && error.name === 'ExpiredIteratorException') || out.length > 0)
          throw error;
        shard.iterator = undefined; // re-open from the checkpoint; not a failure
        continue;
      }
      const got = res.Records ?? [];
      if (got.length > 0 || !res.NextShardIterator) {
        shard.iterator = res.NextShardIterator;
        shard.iteratorAt = Date.now();
      }
      // else: keep the iterator just used. After an empty read kinesalite hands out an iterator
      // positioned at "now", which is past a record whose sequence number was taken before
      // that moment but written after the read: following it loses that record for good.
      // Re-reading from the same position is always correct (Kinesis allows iterator reuse).
      if (got.length > 0 && out.length === 0) firstAt = Date.now();
      out.push(...got);
      const caughtUp = got.length === 0 || (res.MillisBehindLatest ?? 0) === 0;
      if (!caughtUp) continue;
      const remaining = firstAt + windowMs - Date.now();
      if (out.length === 0 || remaining <= 0 || this.draining > 0) break;
      await this.idle(Math.min(remaining, 50));
    }
    return out;
  }

  /**
   * Iterator after the checkpoint, or at TRIM_HORIZON without one. A checkpoint the stream no
   * longer knows (stream recreated under the same name, emulator state wiped) is dropped and
   * reported through `onCheckpointReset` rather than blocking the shard forever.
   */
  private async openIterator(shard: ShardState) {
    const base = { StreamName: this.options.streamName, ShardId: shard.shardId };
    if (!shard.checkpoint) {
      return this.options.kinesis.send(
        new GetShardIteratorCommand({ ...base, ShardIteratorType: 'TRIM_HORIZON' }),
      );
    }
    try {
      return await this.options.kinesis.send(
        new GetShardIteratorCommand({
          ...base,
          ShardIteratorType: 'AFTER_SEQUENCE_NUMBER',
          StartingSequenceNumber: shard.checkpoint,
        }),
      );
    } catch (error: unknown) {
      if (!(error instanceof Error && error.name === 'InvalidArgumentException')) throw error;
      this.options.onCheckpointReset?.(shard.shardId, shard.checkpoint, error.message);
      shard.checkpoint = undefined;
      return this.options.kinesis.send(
        new GetShardIteratorCommand({ ...base, ShardIteratorType: 'TRIM_HORIZON' }),
      );
    }
  }

  private toLambdaRecord(shardId: string, r: KinesisRecord): KinesisStreamRecord {
    const seq = r.SequenceNumber ?? '';
    const arrival = r.ApproximateArrivalTimestamp ?? new Date();
    return {
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: r.PartitionKey ?? '',
        sequenceNumber: seq,
        data: Buffer.from(r.Data ?? new Uint8Array()).toString('base64'),
        approximateArrivalTimestamp: arrival.getTime() / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${seq}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: `arn:aws:iam::000000000000:role/shoplake-local-${this.options.name}`,
      awsRegion: this.region,
      eventSourceARN: this.streamArn,
    };
  }

  /**
   * Delivers one polled batch with Lambda's retry semantics: partial failures restart from the
   * lowest failed sequence number; a failing batch is bisected; after `maxRetryAttempts`
   * retries the remaining records go to the on-failure destination and the shard moves on.
   */
  private async deliver(shard: ShardState, polled: KinesisRecord[]): Promise<void> {
    const records = polled.map((r) => this.toLambdaRecord(shard.shardId, r));
    this.stats.recordsDelivered += records.length;
    const maxAgeMs = this.config.maxRecordAgeSeconds * 1000;
    const now = Date.now();
    const fresh = records.filter((r) => now - r.kinesis.approximateArrivalTimestamp * 1000 <= maxAgeMs);
    if (fresh.length < records.length) {
      const expired = records.filter((r) => !fresh.includes(r));
      this.sendToOnFailure(shard.shardId, expired, 'RecordAgeExceeded', 0);
    }
    await this.processRange(shard, fresh, 0);
    const last = records[records.length - 1];
    if (last) this.setCheckpoint(shard, last.kinesis.sequenceNumber);
  }

  private async processRange(
    shard: ShardState,
    batch: KinesisStreamRecord[],
    retriesUsed: number,
  ): Promise<void> {
    let pending = batch;
    let retries = retriesUsed;
    while (pending.length > 0) {
      const failedFrom = await this.invokeOnce(shard.shardId, pending);
      if (failedFrom === pending.length) {
        this.stats.recordsProcessed += pending.length;
        return;
      }
      // Records before the first failure are done; Lambda checkpoints them.
      this.stats.recordsProcessed += failedFrom;
      const done = pending[failedFrom - 1];
      if (done) this.setCheckpoint(shard, done.kinesis.sequenceNumber);
      pending = pending.slice(failedFrom);
      // Bisecting does not use up retries (so a poison record is isolated, not its neighbours);
      // retries are spent on batches that can no longer be split.
      if (this.config.bisectBatchOnError && pending.length > 1) {
        await sleep(this.options.retryBaseDelayMs ?? 20);
        const mid = Math.ceil(pending.length / 2);
        await this.processRange(shard, pending.slice(0, mid), retries);
        await this.processRange(shard, pending.slice(mid), retries);
        return;
      }
      retries += 1;
      if (retries > this.config.maxRetryAttempts) {
        this.sendToOnFailure(shard.shardId, pending, 'RetryAttemptsExhausted', retries);
        return;
      }
      // Lambda's own retry count and bisecting decide *whether* to retry; the wait is the shared backoff.
      await sleep(
        backoffDelay(retries, {
          maxAttempts: this.config.maxRetryAttempts + 1,
          baseMs: this.options.retryBaseDelayMs ?? 20,
          capMs: 1_000,
          jitter: 'none',
        }),
      );
    }
  }

  /** Invokes the handler; returns the index of the first record to retry (length = all ok). */
  private async invokeOnce(shardId: string, records: KinesisStreamRecord[]): Promise<number> {
    this.stats.invocations += 1;
    let result: KinesisStreamBatchResponse | undefined;
    try {
      result = await this.options.invoke({ Records: records });
    } catch (error: unknown) {
      this.stats.failedInvocations += 1;
      const message = error instanceof Error ? error.message : String(error);
      this.options.onInvocation?.({ shardId, records: records.length, failed: true, error: message });
      return 0;
    }
    const failures = this.config.reportBatchItemFailures ? (result?.batchItemFailures ?? []) : [];
    if (failures.length === 0) {
      this.options.onInvocation?.({ shardId, records: records.length, failed: false });
      return records.length;
    }
    this.stats.failedInvocations += 1;
    // Lambda restarts from the lowest failed sequence number; an unknown or empty identifier
    // fails the whole batch (as on AWS).
    let lowest = records.length;
    for (const failure of failures) {
      const index = records.findIndex((r) => r.kinesis.sequenceNumber === failure.itemIdentifier);
      if (index < 0) {
        lowest = 0;
        break;
      }
      lowest = Math.min(lowest, index);
    }
    const failedFrom = records[lowest]?.kinesis.sequenceNumber;
    this.options.onInvocation?.({
      shardId,
      records: records.length,
      failed: true,
      ...(failedFrom ? { failedFrom } : {}),
    });
    return lowest;
  }

  /**
   * Writes an invocation record like Lambda's on-failure destination (SQS/SNS/S3) does, plus
   * the records themselves, so an operator can inspect and replay them.
   */
  private sendToOnFailure(
    shardId: string,
    records: KinesisStreamRecord[],
    condition: 'RetryAttemptsExhausted' | 'RecordAgeExceeded',
    approximateInvokeCount: number,
  ): void {
    if (records.length === 0) return;
    const first = records[0];
    const last = records[records.length - 1];
    const entry = {
      version: '1.0',
      timestamp: new Date().toISOString(),
      requestContext: {
        condition,
        approximateInvokeCount,
        functionArn: `arn:aws:lambda:${this.region}:000000000000:function:shoplake-local-${this.options.name}`,
      },
      KinesisBatchInfo: {
        shardId,
        startSequenceNumber: first?.kinesis.sequenceNumber,
        endSequenceNumber: last?.kinesis.sequenceNumber,
        approximateArrivalOfFirstRecord: first
          ? new Date(first.kinesis.approximateArrivalTimestamp * 1000).toISOString()
          : undefined,
        approximateArrivalOfLastRecord: last
          ? new Date(last.kinesis.approximateArrivalTimestamp * 1000).toISOString()
          : undefined,
        batchSize: records.length,
        streamArn: this.streamArn,
      },
      records: records.map((r) => ({
        sequenceNumber: r.kinesis.sequenceNumber,
        partitionKey: r.kinesis.partitionKey,
        data: r.kinesis.data,
      })),
    };
    mkdirSync(dirname(this.options.onFailureFile), { recursive: true });
    appendFileSync(this.options.onFailureFile, `${JSON.stringify(entry)}\n`);
    this.stats.recordsToOnFailure += records.length;
  }

  /**
   * Records the last processed sequence number of a shard. Durable before the next batch is
   * read: written to a temporary file, fsynced, renamed over the old file and the directory
   * fsynced, so a crash leaves either the old or the new checkpoint, never a torn file.
   */
  private setCheckpoint(shard: ShardState, sequenceNumber: string): void {
    shard.checkpoint = sequenceNumber;
    const file = this.options.checkpointFile;
    if (!file) return;
    const all: Record<string, string> = {};
    for (const s of this.shards) if (s.checkpoint) all[s.shardId] = s.checkpoint;
    writeFileDurably(file, JSON.stringify({ stream: this.options.streamName, checkpoints: all }));
  }

  /**
   * The stored checkpoints. A file that cannot be parsed (written by something else, or by a
   * version without fsync before a power loss) is moved aside and reported; polling then
   * starts at TRIM_HORIZON, which re-delivers (the consumers are idempotent) but loses nothing.
   */
  private loadCheckpoints(): Record<string, string> {
    const file = this.options.checkpointFile;
    if (!file) return {};
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error: unknown) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw error;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error: unknown) {
      const aside = `${file}.corrupt-${Date.now()}`;
      renameSync(file, aside);
      this.options.onCheckpointReset?.(
        '*',
        '',
        `checkpoint file ${file} is not JSON (moved to ${aside}): ${String(error)}`,
      );
      return {};
    }
    if (typeof parsed !== 'object' || parsed === null) return {};
    const { stream, checkpoints } = parsed as { stream?: unknown; checkpoints?: unknown };
    if (stream !== this.options.streamName || typeof checkpoints !== 'object' || checkpoints === null)
      return {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(checkpoints)) if (typeof v === 'string') out[k] = v;
    return out;
  }
}

/** Replaces `file` atomically and durably (temp file + fsync + rename + directory fsync). */
export function writeFileDurably(file: string, content: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  const dir = openSync(dirname(file), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}
