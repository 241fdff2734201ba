/**
 * Real-time path benchmark: generator events/s, ingest handler events/s, stream-consumer
 * throughput on one core (in-memory feature store = the logic alone; DynamoDB emulator =
 * logic + SDK + emulator, all in this process), and DynamoDB write requests per 1,000 events
 * of generator traffic. Medians of several runs.
 *
 * Run alone: `npx tsx bench/realtime.bench.ts` (or `npm run bench -- realtime`).
 */
import { pathToFileURL } from 'node:url';
import type { PutRecordsCommand, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import type { APIGatewayProxyEvent, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { createIngestHandler } from '../lambdas/ingest/ingest.ts';
import { documentClient } from '../lambdas/shared/aws-clients.ts';
import { parseEvent } from '../lambdas/shared/event-schema.ts';
import { DynamoFeatureStore } from '../lambdas/shared/features/dynamo-store.ts';
import { MemoryFeatureStore } from '../lambdas/shared/features/memory-store.ts';
import type { FeatureStore } from '../lambdas/shared/features/store.ts';
import { MemoryObjectStore } from '../lambdas/shared/object-store.ts';
import { createConsumerHandler } from '../lambdas/stream-consumer/consumer.ts';
import { hash32 } from '../local/generator/random.ts';
import { type GeneratedEvent, generateShop } from '../local/generator/shop.ts';
import { localIngest } from '../local/runtime/handlers.ts';
import { startLocalRuntime } from '../local/runtime/runtime.ts';

const END = Date.parse('2026-11-20T12:00:00.000Z');
const NOW = () => END + 60_000;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function events(n: number, days: number, seed = 3): GeneratedEvent[] {
  return [
    ...generateShop({
      seed,
      events: n,
      users: Math.max(200, n / 20),
      products: 2_000,
      days,
      end: END,
    }).events(),
  ];
}

/**
 * Kinesis-shaped batches as the event-source mapping delivers them: records partitioned by
 * session over `shards` shards, ≤ 500 per invocation, in shard order.
 */
function kinesisBatches(list: readonly GeneratedEvent[], shards = 2, batchSize = 500): KinesisStreamEvent[] {
  const perShard: KinesisStreamRecord[][] = Array.from({ length: shards }, () => []);
  const seq = new Array<number>(shards).fill(0);
  for (const e of list) {
    let h = 0;
    for (let i = 0; i < e.session_id.length; i += 1) h = (h * 31 + e.session_id.charCodeAt(i)) | 0;
    const shard = hash32(h) % shards;
    seq[shard] = (seq[shard] ?? 0) + 1;
    const sequenceNumber = `4960${String(seq[shard]).padStart(52, '0')}`;
    const parsed = parseEvent(e, { now: NOW });
    const data = Buffer.from(JSON.stringify(parsed.ok ? parsed.event : e)).toString('base64');
    const shardId = `shardId-${String(shard).padStart(12, '0')}`;
    perShard[shard]?.push({
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: e.session_id,
        sequenceNumber,
        data,
        approximateArrivalTimestamp: END / 1000,
      },
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventID: `${shardId}:${sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      invokeIdentityArn: 'arn:aws:iam::000000000000:role/bench',
      awsRegion: 'us-east-1',
      eventSourceARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/bench',
    });
  }
  const out: KinesisStreamEvent[] = [];
  for (const records of perShard) {
    for (let i = 0; i < records.length; i += batchSize)
      out.push({ Records: records.slice(i, i + batchSize) });
  }
  return out;
}

/** CPU time (user + system, ms) of this process since `start`: less sensitive to a busy machine. */
function cpuMs(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}

let lastConsumeCpuMs = 0;

async function consumeAll(store: FeatureStore, batches: readonly KinesisStreamEvent[]): Promise<number> {
  const handler = createConsumerHandler({
    store,
    quarantine: new MemoryObjectStore(),
    now: NOW,
  });
  const cpu = process.cpuUsage();
  const t = performance.now();
  for (const batch of batches) {
    const res = await handler(batch);
    if (res.batchItemFailures.length > 0) throw new Error('consumer reported a failure during the benchmark');
  }
  lastConsumeCpuMs = cpuMs(cpu);
  return performance.now() - t;
}

function benchGenerator(): { eventsPerSecond: number; eventsPerCpuSecond: number } {
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let run = 0; run < 5; run += 1) {
    const shop = generateShop({ seed: run + 1, events: 300_000, end: END });
    const cpu = process.cpuUsage();
    const t = performance.now();
    let n = 0;
    for (const _ of shop.events()) n += 1;
    rates.push((n / (performance.now() - t)) * 1000);
    cpuRates.push((n / cpuMs(cpu)) * 1000);
  }
  return { eventsPerSecond: Math.round(median(rates)), eventsPerCpuSecond: Math.round(median(cpuRates)) };
}

async function benchIngestLogic(): Promise<number> {
  const list = events(20_000, 1);
  const bodies: string[] = [];
  for (let i = 0; i < list.length; i += 500) bodies.push(JSON.stringify({ events: list.slice(i, i + 500) }));
  // A Kinesis stub that accepts everything: the handler's own cost (validation, encoding).
  let seq = 0;
  const kinesis = {
    async send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> {
      const records = command.input.Records ?? [];
      return {
        $metadata: {},
        FailedRecordCount: 0,
        Records: records.map(() => {
          seq += 1;
          return { SequenceNumber: String(seq), ShardId: 'shardId-000000000000' };
        }),
      };
    },
  };
  const handler = createIngestHandler({
    kinesis,
    streamName: 'bench',
    quarantine: new MemoryObjectStore(),
    now: NOW,
  });
  const rates: number[] = [];
  for (let run = 0; run < 5; run += 1) {
    const t = performance.now();
    for (const body of bodies) {
      const res = await handler({ body, isBase64Encoded: false } as APIGatewayProxyEvent);
      if (res.statusCode !== 200) throw new Error(`ingest answered ${res.statusCode}`);
    }
    rates.push((list.length / (performance.now() - t)) * 1000);
  }
  return Math.round(median(rates));
}

/** Ingest handler → kinesalite and consumer → dynalite, in this process (one core). */
async function benchWithEmulators(): Promise<{
  ingestEventsPerSecond: number;
  consumerEventsPerSecond: number;
  writesPer1000: number;
}> {
  const list = events(6_000, 1, 9);
  const bodies: string[] = [];
  for (let i = 0; i < list.length; i += 500) bodies.push(JSON.stringify({ events: list.slice(i, i + 500) }));
  const runtime = await startLocalRuntime({
    stateDir: `${process.env.TMPDIR ?? '/tmp'}/shoplake-bench-${process.pid}`,
    persist: false,
    consumer: false,
    firehose: false,
  });
  try {
    const ingest = localIngest(runtime.env);
    const t = performance.now();
    for (const body of bodies) {
      const res = await ingest({ body, isBase64Encoded: false } as APIGatewayProxyEvent);
      if (res.statusCode !== 200) throw new Error(`ingest answered ${res.statusCode}`);
    }
    const ingestEventsPerSecond = Math.round((list.length / (performance.now() - t)) * 1000);
    const store = new DynamoFeatureStore({
      client: documentClient(runtime.clients.dynamodb),
      tableName: runtime.names.featuresTable,
    });
    const ms = await consumeAll(store, kinesisBatches(list));
    return {
      ingestEventsPerSecond,
      consumerEventsPerSecond: Math.round((list.length / ms) * 1000),
      writesPer1000: Math.round((store.stats.writeRequests / list.length) * 1000),
    };
  } finally {
    await runtime.stop();
  }
}

export interface RealtimeBenchResult {
  generator_events_per_s: number;
  generator_events_per_cpu_s: number;
  ingest_handler_events_per_s_logic: number;
  ingest_handler_events_per_s_kinesalite: number;
  consumer_events_per_s_memory_store: number;
  consumer_events_per_cpu_s_memory_store: number;
  consumer_events_per_s_dynalite: number;
  dynamo_writes_per_1000_events_1day: number;
  dynamo_writes_per_1000_events_1hour: number;
  dynamo_writes_per_1000_events_dynalite_run: number;
  runs: string;
}

export async function run(): Promise<RealtimeBenchResult> {
  const generator = benchGenerator();
  const ingestLogic = await benchIngestLogic();

  // Consumer logic alone (in-memory store with DynamoDB semantics), one core.
  const day = kinesisBatches(events(40_000, 1));
  const hour = kinesisBatches(events(40_000, 1 / 24, 5));
  const memRates: number[] = [];
  const memCpuRates: number[] = [];
  const writesDay: number[] = [];
  for (let run = 0; run < 3; run += 1) {
    const store = new MemoryFeatureStore();
    const ms = await consumeAll(store, day);
    const n = day.reduce((a, b) => a + b.Records.length, 0);
    memRates.push((n / ms) * 1000);
    memCpuRates.push((n / lastConsumeCpuMs) * 1000);
    writesDay.push((store.stats.writeRequests / n) * 1000);
  }
  const hourStore = new MemoryFeatureStore();
  await consumeAll(hourStore, hour);
  const hourEvents = hour.reduce((a, b) => a + b.Records.length, 0);

  const emu = await benchWithEmulators();
  return {
    generator_events_per_s: generator.eventsPerSecond,
    generator_events_per_cpu_s: generator.eventsPerCpuSecond,
    ingest_handler_events_per_s_logic: ingestLogic,
    ingest_handler_events_per_s_kinesalite: emu.ingestEventsPerSecond,
    consumer_events_per_s_memory_store: Math.round(median(memRates)),
    consumer_events_per_cpu_s_memory_store: Math.round(median(memCpuRates)),
    consumer_events_per_s_dynalite: emu.consumerEventsPerSecond,
    dynamo_writes_per_1000_events_1day: Math.round(median(writesDay)),
    dynamo_writes_per_1000_events_1hour: Math.round((hourStore.stats.writeRequests / hourEvents) * 1000),
    dynamo_writes_per_1000_events_dynalite_run: emu.writesPer1000,
    runs: 'medians 5x300k gen, 5x20k ingest, 3x40k consumer; 1x6k emulators',
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.env.AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING ??= '1';
  console.log(await run());
}
