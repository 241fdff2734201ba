/**
 * Measures the DynamoDB and stream inputs of the cost model (`infra/cost/model.ts`) instead of
 * assuming them: generated shop traffic at a steady rate is cut into the batches the Lambda
 * event-source mapping would deliver (records of one shard within one batching window, at most
 * `batchSize`), and the real stream-consumer handler processes them against the DynamoDB
 * emulator (dynalite) with `ReturnConsumedCapacity: TOTAL` on every request. dynalite computes
 * consumed capacity as DynamoDB does (1 WCU per started KB written, the larger of the old and
 * new item for updates; 4 KB read units, halved for eventually consistent reads).
 *
 * Reported: write and read capacity units per event, write requests per event, consumer
 * invocations, the mean stored size of each feature item kind, and the JSON bytes per event on
 * the wire (what Kinesis and Firehose bill).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ScanCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import dynaliteDb from 'dynalite/db/index.js';
import { CONSUMER_EVENT_SOURCE } from '../../infra/definitions/resources.ts';
import { documentClient } from '../../lambdas/shared/aws-clients.ts';
import { parseEvent } from '../../lambdas/shared/event-schema.ts';
import { DynamoFeatureStore } from '../../lambdas/shared/features/dynamo-store.ts';
import { MemoryObjectStore } from '../../lambdas/shared/object-store.ts';
import { createConsumerHandler } from '../../lambdas/stream-consumer/consumer.ts';
import { hash32 } from '../generator/random.ts';
import { generateShop } from '../generator/shop.ts';
import { startLocalRuntime } from '../runtime/runtime.ts';

export interface WriteMeasurementOptions {
  readonly eventsPerSecond: number;
  /** Length of the simulated traffic. */
  readonly minutes: number;
  /** Stream shards (each polled separately). */
  readonly shards: number;
  readonly batchingWindowSeconds: number;
  /** @default CONSUMER_EVENT_SOURCE.batchSize */
  readonly batchSize?: number;
  readonly seed?: number;
  /** Catalog size of the generated shop. @default 1_000 */
  readonly products?: number;
  /** Registered customers of the generated shop. @default 2_000 */
  readonly users?: number;
}

export interface WriteMeasurement {
  readonly options: WriteMeasurementOptions;
  readonly events: number;
  readonly invocations: number;
  readonly writeUnits: number;
  readonly readUnits: number;
  readonly writeRequests: number;
  readonly writeUnitsPerEvent: number;
  readonly readUnitsPerEvent: number;
  readonly writeRequestsPerEvent: number;
  /** Mean JSON bytes of a normalised event (the Kinesis record and the Firehose payload). */
  readonly eventBytes: number;
  /** Mean stored item size (bytes, as DynamoDB counts it) by kind, and the item counts. */
  readonly itemBytes: Readonly<Record<string, { items: number; meanBytes: number; maxBytes: number }>>;
}

interface CapacityOutput {
  ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[];
}

const WRITE_COMMANDS = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
]);

/** Adds `ReturnConsumedCapacity: TOTAL` to every request and sums what DynamoDB reports. */
function meterCapacity(client: DynamoDBClient): { write: number; read: number } {
  const totals = { write: 0, read: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
      const result = await next(args);
      const consumed = (result.output as CapacityOutput).ConsumedCapacity;
      const units = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce(
        (s, c) => s + (c.CapacityUnits ?? 0),
        0,
      );
      if (WRITE_COMMANDS.has(context.commandName ?? '')) totals.write += units;
      else totals.read += units;
      return result;
    },
    { step: 'initialize', name: 'shoplakeMeterCapacity' },
  );
  return totals;
}

function kindOf(pk: string): string {
  const head = pk.split('#')[0] ?? pk;
  return (
    {
      EVENT: 'dedup marker',
      TREND: 'window counters',
      USER: 'user recent items',
      SESSION: 'session recent items',
    }[head] ?? head
  );
}

/** Runs the consumer on `minutes` of traffic at `eventsPerSecond` and reports what it cost. */
export async function measureFeatureWrites(options: WriteMeasurementOptions): Promise<WriteMeasurement> {
  const batchSize = options.batchSize ?? CONSUMER_EVENT_SOURCE.batchSize;
  const seconds = options.minutes * 60;
  const end = Date.parse('2026-11-20T12:00:00.000Z');
  const now = () => end + 60_000;
  const shop = generateShop({
    seed: options.seed ?? 7,
    events: Math.round(options.eventsPerSecond * seconds),
    users: options.users ?? 2_000,
    products: options.products ?? 1_000,
    days: seconds / 86_400,
    end,
  });
  // Records in arrival order, each in the shard its partition key (session) maps to.
  const perShard = new Map<number, { at: number; record: KinesisStreamRecord }[]>();
  let bytes = 0;
  let events = 0;
  const seq = new Array<number>(options.shards).fill(0);
  for (const e of shop.events()) {
    const parsed = parseEvent(e, { now });
    const json = JSON.stringify(parsed.ok ? parsed.event : e);
    bytes += Buffer.byteLength(json);
    events += 1;
    let h = 0;
    for (let i = 0; i < e.session_id.length; i += 1) h = (h * 31 + e.session_id.charCodeAt(i)) | 0;
    const shard = hash32(h) % options.shards;
    seq[shard] = (seq[shard] ?? 0) + 1;
    const sequenceNumber = `4960${String(seq[shard]).padStart(52, '0')}`;
    const at = Date.parse(String(e.event_time));
    const list = perShard.get(shard) ?? [];
    list.push({
      at,
      record: {
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: e.session_id,
          sequenceNumber,
          data: Buffer.from(json).toString('base64'),
          approximateArrivalTimestamp: at / 1000,
        },
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventID: `shardId-${String(shard).padStart(12, '0')}:${sequenceNumber}`,
        eventName: 'aws:kinesis:record',
        invokeIdentityArn: 'arn:aws:iam::000000000000:role/measure',
        awsRegion: 'us-east-1',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/measure',
      },
    });
    perShard.set(shard, list);
  }
  // Batches as the event-source mapping forms them: per shard, per batching window, ≤ batchSize.
  const batches: { at: number; event: KinesisStreamEvent }[] = [];
  const windowMs = Math.max(1, options.batchingWindowSeconds) * 1000;
  for (const list of perShard.values()) {
    list.sort((a, b) => a.at - b.at);
    let current: KinesisStreamRecord[] = [];
    let windowEnd = -Infinity;
    let first = 0;
    for (const { at, record } of list) {
      if (current.length > 0 && (at >= windowEnd || current.length >= batchSize)) {
        batches.push({ at: first, event: { Records: current } });
        current = [];
      }
      if (current.length === 0) {
        first = at;
        windowEnd = at + windowMs;
      }
      current.push(record);
    }
    if (current.length > 0) batches.push({ at: first, event: { Records: current } });
  }
  batches.sort((a, b) => a.at - b.at);

  const runtime = await startLocalRuntime({
    stateDir: `${process.env.TMPDIR ?? '/tmp'}/shoplake-cost-${process.pid}-${Date.now()}`,
    persist: false,
    consumer: false,
    firehose: false,
  });
  try {
    const totals = meterCapacity(runtime.clients.dynamodb);
    const store = new DynamoFeatureStore({
      client: documentClient(runtime.clients.dynamodb),
      tableName: runtime.names.featuresTable,
    });
    const handler = createConsumerHandler({ store, quarantine: new MemoryObjectStore(), now });
    for (const b of batches) {
      const res = await handler(b.event);
      if (res.batchItemFailures.length > 0) throw new Error('the consumer reported a failed record');
    }
    const writeUnits = totals.write;
    const readUnits = totals.read;
    const sizes: Record<string, number[]> = {};
    let key: Record<string, unknown> | undefined;
    do {
      const page = await runtime.clients.dynamodb.send(
        new ScanCommand({ TableName: runtime.names.featuresTable, ExclusiveStartKey: key as never }),
      );
      for (const item of page.Items ?? []) {
        const kind = kindOf(String(item.pk?.S ?? ''));
        const list = sizes[kind] ?? [];
        list.push(dynaliteDb.itemSize(item));
        sizes[kind] = list;
      }
      key = page.LastEvaluatedKey as Record<string, unknown> | undefined;
    } while (key);
    const itemBytes = Object.fromEntries(
      Object.entries(sizes).map(([k, v]) => [
        k,
        {
          items: v.length,
          meanBytes: Math.round(v.reduce((s, x) => s + x, 0) / v.length),
          maxBytes: Math.max(...v),
        },
      ]),
    );
    return {
      options,
      events,
      invocations: batches.length,
      writeUnits,
      readUnits,
      writeRequests: store.stats.writeRequests,
      writeUnitsPerEvent: writeUnits / events,
      readUnitsPerEvent: readUnits / events,
      writeRequestsPerEvent: store.stats.writeRequests / events,
      eventBytes: Math.round(bytes / events),
      itemBytes,
    };
  } finally {
    await runtime.stop();
  }
}
