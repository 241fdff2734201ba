/**
 * The local event-source mapping never skips a record (issue 16, defect 6).
 *
 * kinesalite answers a GetRecords on an empty shard with an iterator moved to "now"; a record
 * whose sequence number was taken just before that moment but written just after the read is
 * then behind the iterator and is never delivered. The first record of a fresh stream is the
 * exposed one (its sequence index equals the empty iterator's), so every round uses a new
 * stream, puts records from several producers while the poller hammers the empty shards, and
 * times the first put just before a second boundary, with the CPU contended by a busy worker
 * thread and event-loop stalls. Every record must be delivered exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  KinesisClient,
  PutRecordsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSUMER_EVENT_SOURCE } from '../../infra/definitions/resources.ts';
import { type Emulator, startKinesisEmulator } from '../../local/runtime/emulators.ts';
import { KinesisEventSourceMapping } from '../../local/runtime/event-source-mapping.ts';

const ROUNDS = Number(process.env.SHOPLAKE_STREAM_STRESS_ROUNDS ?? 6);
const BUDGET_MS = 60_000;
const PRODUCERS = 4;
const PUTS_PER_PRODUCER = 4;
const STREAMS_PER_ROUND = 4;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Slow storage, as on a loaded machine: kinesalite takes a record's sequence number (which
 * encodes the current second) before it writes the record; delaying the write of each stream's
 * first PutRecords past a second boundary opens exactly the window in which a GetRecords on the
 * still-empty shard moves its iterator beyond the record. Later writes get small random delays.
 */
function slowEmulatorWrites(): () => void {
  const require = createRequire(import.meta.url);
  const db = require('kinesalite/db') as { create: (options: unknown) => KinesaliteStore };
  const create = db.create;
  db.create = (options: unknown) => {
    const store = create(options);
    const getStreamDb = store.getStreamDb;
    const slowed = new Set<string>();
    const written = new Set<string>();
    store.getStreamDb = (name: string) => {
      const sub = getStreamDb(name);
      if (slowed.has(name)) return sub;
      slowed.add(name);
      const batch = sub.batch.bind(sub);
      sub.batch = (...args: unknown[]) => {
        const delay = written.has(name)
          ? Math.floor(Math.random() * 15)
          : 1_050 + Math.floor(Math.random() * 200);
        written.add(name);
        setTimeout(() => batch(...args), delay);
      };
      return sub;
    };
    return store;
  };
  return () => {
    db.create = create;
  };
}

interface KinesaliteStore {
  getStreamDb(name: string): { batch: (...args: unknown[]) => void };
}

/** Burns one core until terminated: the "machine is busy" of the bug report. */
function busyWorker(): Worker {
  return new Worker('for (;;) { Math.sqrt(Math.random()); }', { eval: true });
}

/** Blocks this thread now and then, as a loaded machine does to the emulator's event loop. */
function stallEventLoop(): NodeJS.Timeout {
  return setInterval(() => {
    const until = Date.now() + 2 + Math.floor(Math.random() * 20);
    while (Date.now() < until) {
      // busy
    }
  }, 25);
}

async function waitActive(kinesis: KinesisClient, name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const d = await kinesis.send(new DescribeStreamCommand({ StreamName: name }));
    if (d.StreamDescription?.StreamStatus === 'ACTIVE') return;
    await sleep(5);
  }
  throw new Error(`stream ${name} did not become ACTIVE within 10 s`);
}

/** Waits until the wall clock is just before a whole second (the emulator's sequence-time unit). */
async function nearSecondBoundary(): Promise<void> {
  const ms = Date.now() % 1000;
  if (ms < 950) await sleep(950 - ms);
  while (Date.now() % 1000 < 985 && Date.now() % 1000 >= 900) await sleep(0);
}

/**
 * One fresh stream: a mapping polls it from the start, the first record is put alone just
 * before a second boundary, then producers put the rest concurrently. Returns what went wrong.
 */
async function oneStream(kinesis: KinesisClient, id: string): Promise<{ sent: number; problems: string[] }> {
  const stream = `stress-${process.pid}-${id}`;
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
  await waitActive(kinesis, stream);
  const delivered = new Map<string, number>();
  const mapping = new KinesisEventSourceMapping({
    name: `stress-${id}`,
    kinesis,
    streamName: stream,
    onFailureFile: '/dev/null',
    config: { ...CONSUMER_EVENT_SOURCE, maxBatchingWindowSeconds: 0, batchSize: 7 },
    idlePollMs: 0,
    invoke: async (event: KinesisStreamEvent) => {
      for (const r of event.Records) {
        const data = Buffer.from(r.kinesis.data, 'base64').toString('utf8');
        delivered.set(data, (delivered.get(data) ?? 0) + 1);
      }
      return undefined;
    },
  });
  const sent: string[] = [];
  const putAll = async (batch: string[], key: string) => {
    sent.push(...batch);
    const res = await kinesis.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: batch.map((d, k) => ({ Data: Buffer.from(d), PartitionKey: `${key}-${k}` })),
      }),
    );
    if ((res.FailedRecordCount ?? 0) > 0)
      throw new Error(`PutRecords failed: ${JSON.stringify(res.Records)}`);
  };
  await mapping.start();
  try {
    await sleep(5);
    await nearSecondBoundary();
    await putAll([`${id}-first`], 'first');
    await Promise.all(
      Array.from({ length: PRODUCERS }, async (_, p) => {
        for (let i = 0; i < PUTS_PER_PRODUCER; i++) {
          await putAll(
            [0, 1, 2].map((k) => `${id}-p${p}-${i}-${k}`),
            `pk-${p}-${i}`,
          );
          await sleep(Math.floor(Math.random() * 3));
        }
      }),
    );
    await mapping.drain({ timeoutMs: 60_000 });
  } finally {
    await mapping.stop();
  }
  await kinesis.send(new DeleteStreamCommand({ StreamName: stream }));
  const problems: string[] = [];
  for (const d of sent) {
    const n = delivered.get(d) ?? 0;
    if (n !== 1) problems.push(`${d} delivered ${n} times`);
  }
  for (const d of delivered.keys()) if (!sent.includes(d)) problems.push(`unexpected ${d}`);
  return { sent: sent.length, problems };
}

describe('local event-source mapping under load', () => {
  let emulator: Emulator;
  let kinesis: KinesisClient;
  let dataDir = '';
  const workers: Worker[] = [];

  beforeAll(async () => {
    // Persisted like `shoplake ingest` (LevelDB on disk): writes take longer than in memory.
    dataDir = mkdtempSync(join(tmpdir(), 'stream-stress-'));
    const restore = slowEmulatorWrites();
    try {
      emulator = await startKinesisEmulator({ dataDir });
    } finally {
      restore();
    }
    kinesis = new KinesisClient({
      region: 'us-east-1',
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 30_000 }),
    });
  });

  afterAll(async () => {
    await Promise.all(workers.splice(0).map((w) => w.terminate()));
    kinesis?.destroy();
    await emulator?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('delivers every record exactly once when records are put while empty shards are polled', async () => {
    workers.push(busyWorker(), busyWorker());
    const stalls = stallEventLoop();
    const started = Date.now();
    const problems: string[] = [];
    let rounds = 0;
    let records = 0;
    try {
      for (let round = 0; round < ROUNDS && Date.now() - started < BUDGET_MS; round++) {
        const results = await Promise.all(
          Array.from({ length: STREAMS_PER_ROUND }, (_, k) => oneStream(kinesis, `${round}-${k}`)),
        );
        for (const r of results) {
          problems.push(...r.problems);
          records += r.sent;
        }
        rounds += 1;
      }
    } finally {
      clearInterval(stalls);
    }
    console.info(
      `stream stress: ${rounds} rounds, ${records} records, ${Date.now() - started} ms, problems: ${problems.length}`,
    );
    expect(rounds).toBeGreaterThanOrEqual(Math.min(ROUNDS, 2));
    expect(problems).toEqual([]);
  }, 180_000);
});
