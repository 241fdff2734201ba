/**
 * Runs generated events through the real path on a fresh runtime — ingest handler → Kinesis →
 * event-source mapping → stream consumer → DynamoDB — with optional fault injection, and reads
 * the resulting feature state back through the serving layer's read API.
 *
 * By default the runtime starts in-process emulators; with `SHOPLAKE_EXTERNAL_AWS=1` and
 * `AWS_ENDPOINT_URL` (LocalStack) the same code creates uniquely named resources there and
 * deletes them afterwards.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { documentClient } from '../../../lambdas/shared/aws-clients.ts';
import { DynamoFeatureStore } from '../../../lambdas/shared/features/dynamo-store.ts';
import {
  comparableFeatureState,
  getRecentItems,
  getTrending,
  getWindowTotals,
  listWindowItems,
} from '../../../lambdas/shared/features/read.ts';
import type { FeatureItem } from '../../../lambdas/shared/features/store.ts';
import type { KinesisInvoke } from '../../../local/runtime/event-source-mapping.ts';
import {
  dynamoClientFor,
  kinesisClientFor,
  type LocalConsumer,
  localConsumer,
  localIngest,
} from '../../../local/runtime/handlers.ts';
import {
  consumerSnapshot,
  type ReplaySummary,
  sendThroughIngest,
  summarizeReplay,
} from '../../../local/runtime/replay.ts';
import { type EmbeddedRuntime, startLocalRuntime } from '../../../local/runtime/runtime.ts';
import type { ExpectedRecent, ExpectedWindow, Window } from './expected-features.ts';
import { deleteExternalResources, testNamePrefix } from './external.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';

export { EXTERNAL } from './external.ts';

export interface PipelineOptions {
  /** DynamoDB write failures seen by the consumer (0–1). */
  readonly dynamoWriteFailureRate?: number;
  /** Kinesis PutRecords per-record failures seen by the ingest handler (0–1). */
  readonly putRecordsFailureRate?: number;
  /** Invoke the consumer twice with every batch (a Lambda retry after a lost response). */
  readonly invokeEveryBatchTwice?: boolean;
  /** Send every ingest request twice (a client retrying after a timeout). */
  readonly sendEveryRequestTwice?: boolean;
  /** Wraps the consumer (e.g. to make it fail on a poison record). */
  readonly wrapConsumer?: (invoke: KinesisInvoke) => KinesisInvoke;
  /** Shorter batches exercise more batch boundaries. @default 500 */
  readonly batchSize?: number;
  readonly seed?: number;
}

export interface ActualFeatures {
  windows: Map<string, ExpectedWindow>;
  users: Map<string, ExpectedRecent[]>;
  sessions: Map<string, ExpectedRecent[]>;
}

export interface PipelineRun {
  summary: ReplaySummary;
  actual: ActualFeatures;
  /** Table state without batch-dependent bookkeeping (H1's `comparableFeatureState`). */
  comparable: FeatureItem[];
  proxies: { dynamo?: FaultProxy; kinesis?: FaultProxy };
  runtime: EmbeddedRuntime;
  onFailureRecords: number;
  /** Lines of the on-failure (DLQ) file. */
  onFailureLines: string[];
  /** Landing sink: partition directory → number of NDJSON lines. */
  landing: Record<string, number>;
}

function landingCounts(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  if (!existsSync(dir)) return out;
  for (const partition of readdirSync(dir).sort()) {
    let lines = 0;
    for (const file of readdirSync(join(dir, partition))) {
      lines += readFileSync(join(dir, partition, file), 'utf8')
        .split('\n')
        .filter((l) => l !== '').length;
    }
    out[partition] = lines;
  }
  return out;
}

/** Reads every feature the consumer wrote, through `read.ts` (the serving layer's API). */
export async function readActualFeatures(store: DynamoFeatureStore): Promise<ActualFeatures> {
  const windows = new Map<string, ExpectedWindow>();
  const buckets = new Set<string>();
  for (const item of await listWindowItems(store)) buckets.add(`${item.window}|${item.bucket_start}`);
  for (const key of buckets) {
    const [window, start] = key.split('|') as [Window, string];
    const ms = Date.parse(start);
    const totals = await getWindowTotals(store, { window, bucketStart: ms });
    const trending = await getTrending(store, { window, now: ms, k: 1_000_000 });
    const products: Record<string, number> = {};
    for (const p of trending.products) products[p.product_id] = p.score;
    windows.set(key, {
      events: totals.events,
      byType: totals.events_by_type,
      orders: totals.orders,
      units: totals.units,
      revenueCents: Math.round(totals.revenue * 100),
      cancelledOrders: totals.cancelled_orders,
      products,
      categories: trending.categories,
    });
  }
  const users = new Map<string, ExpectedRecent[]>();
  const sessions = new Map<string, ExpectedRecent[]>();
  for (const item of await store.scanAll()) {
    if (item.sk !== 'RECENT') continue;
    const [kind, id] = item.pk.split('#');
    if (!id) continue;
    if (kind === 'USER') users.set(id, await getRecentItems(store, { userId: id }, 1_000));
    if (kind === 'SESSION') {
      const list = await getRecentItems(store, { sessionId: id }, 1_000);
      if (list.length > 0) sessions.set(id, list);
    }
  }
  return { windows, users, sessions };
}

/** Sends `events` through a fresh runtime (with the requested faults) and reads what it built. */
export async function runPipeline(
  events: readonly unknown[],
  options: PipelineOptions = {},
): Promise<PipelineRun> {
  const stateDir = mkdtempSync(join(tmpdir(), 'shoplake-it-'));
  const namePrefix = testNamePrefix('pipeline', 'shoplake');
  const seed = options.seed ?? 1;
  // Proxies start first; their targets are the runtime's endpoints, known once it started.
  let runtimeEnv: Readonly<Record<string, string>> = {};
  const proxies: { dynamo?: FaultProxy; kinesis?: FaultProxy } = {};
  if (options.dynamoWriteFailureRate) {
    proxies.dynamo = await startFaultProxy({
      target: () => runtimeEnv.AWS_ENDPOINT_URL_DYNAMODB ?? '',
      seed,
      dynamoWriteFailureRate: options.dynamoWriteFailureRate,
      dynamoFailAfterApplyShare: 0.3,
    });
  }
  if (options.putRecordsFailureRate) {
    proxies.kinesis = await startFaultProxy({
      target: () => runtimeEnv.AWS_ENDPOINT_URL_KINESIS ?? '',
      seed: seed + 1,
      putRecordsFailureRate: options.putRecordsFailureRate,
    });
  }
  let store: DynamoFeatureStore | undefined;
  const runtime = await startLocalRuntime({
    stateDir,
    persist: false,
    namePrefix,
    eventSource: { idlePollMs: 20, retryBaseDelayMs: 5 },
    consumer: (env): LocalConsumer => {
      runtimeEnv = env;
      const dynamodb = dynamoClientFor({
        ...env,
        AWS_ENDPOINT_URL_DYNAMODB: proxies.dynamo?.url ?? env.AWS_ENDPOINT_URL_DYNAMODB ?? '',
      });
      const consumer = localConsumer(env, { dynamodb });
      let invoke: KinesisInvoke = consumer.invoke;
      if (options.invokeEveryBatchTwice) {
        // The first delivery's answer is "lost" (its counts go to a shadow consumer); the
        // poller only sees the second one, as with a Lambda retry after a timeout.
        const shadow = localConsumer(env, { dynamodb });
        invoke = async (event) => {
          await shadow.invoke(event);
          return consumer.invoke(event);
        };
      }
      if (options.wrapConsumer) invoke = options.wrapConsumer(invoke);
      return { ...consumer, invoke };
    },
  });
  try {
    const ingest = localIngest(runtime.env, {
      kinesis: kinesisClientFor({
        ...runtime.env,
        AWS_ENDPOINT_URL_KINESIS: proxies.kinesis?.url ?? runtime.env.AWS_ENDPOINT_URL_KINESIS ?? '',
      }),
    });
    await runtime.drain({ timeoutMs: 60_000 });
    const before = consumerSnapshot(runtime);
    const send = options.sendEveryRequestTwice
      ? async (event: Parameters<typeof ingest>[0]) => {
          await ingest(event);
          return ingest(event);
        }
      : ingest;
    const tally = await sendThroughIngest(events, { ingest: send, batchSize: options.batchSize ?? 500 });
    await runtime.drain({ timeoutMs: 240_000 });
    let summary: ReplaySummary;
    if (options.sendEveryRequestTwice) {
      // Every event reached the stream twice: the second copies must all be duplicates.
      summary = summarizeReplay(
        runtime,
        { ...tally, received: tally.received * 2, accepted: tally.accepted * 2 },
        before,
      );
    } else {
      summary = summarizeReplay(runtime, tally, before);
    }
    store = new DynamoFeatureStore({
      client: documentClient(runtime.clients.dynamodb),
      tableName: runtime.names.featuresTable,
    });
    const actual = await readActualFeatures(store);
    const comparable = await comparableFeatureState(store);
    return {
      summary,
      actual,
      comparable,
      proxies,
      runtime,
      onFailureRecords: runtime.consumerMapping?.stats.recordsToOnFailure ?? 0,
      onFailureLines: existsSync(runtime.onFailureFile)
        ? readFileSync(runtime.onFailureFile, 'utf8')
            .split('\n')
            .filter((l) => l !== '')
        : [],
      landing: landingCounts(runtime.firehose?.landingDir ?? join(stateDir, 'missing')),
    };
  } finally {
    await runtime.stop();
    await proxies.dynamo?.close();
    await proxies.kinesis?.close();
    await deleteExternalResources(namePrefix);
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** External endpoints (LocalStack) keep resources: remove the uniquely named ones of a run. */
