/**
 * The local runtime's AWS stand-ins on their own: provisioning from a template, the Kinesis
 * event-source mapping's delivery semantics (partial batch responses, bisect, retries,
 * on-failure destination, checkpoints across restarts) and the Firehose-like landing sink.
 * Runs on the in-process emulators (the fault-tolerance of the real handlers is covered in
 * realtime.test.ts).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand } from '@aws-sdk/client-kinesis';
import type { KinesisStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import type { KinesisInvoke } from '../../local/runtime/event-source-mapping.ts';
import { provisionFromTemplate } from '../../local/runtime/provision.ts';
import { type EmbeddedRuntime, startLocalRuntime } from '../../local/runtime/runtime.ts';
import { definitionsToTemplate } from '../../local/runtime/template.ts';
import { EXTERNAL } from './helpers/pipeline.ts';

const dirs: string[] = [];
const runtimes: EmbeddedRuntime[] = [];

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'shoplake-rt-'));
  dirs.push(d);
  return d;
}

afterEach(async () => {
  for (const r of runtimes.splice(0)) await r.stop();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function start(
  stateDir: string,
  invoke: KinesisInvoke | false,
  persist = false,
): Promise<EmbeddedRuntime> {
  const runtime = await startLocalRuntime({
    stateDir,
    persist,
    consumer: invoke === false ? false : () => invoke,
    eventSource: { idlePollMs: 10, retryBaseDelayMs: 1, maxBatchingWindowSeconds: 0 },
  });
  runtimes.push(runtime);
  return runtime;
}

async function put(
  runtime: EmbeddedRuntime,
  payloads: string[],
  partitionKey = (i: number) => `pk-${i % 7}`,
) {
  for (let i = 0; i < payloads.length; i += 500) {
    const chunk = payloads.slice(i, i + 500);
    const res = await runtime.clients.kinesis.send(
      new PutRecordsCommand({
        StreamName: runtime.names.eventsStream,
        Records: chunk.map((p, j) => ({ Data: Buffer.from(p), PartitionKey: partitionKey(i + j) })),
      }),
    );
    expect(res.FailedRecordCount ?? 0).toBe(0);
  }
}

const eventJson = (n: number, date = '2026-11-20') =>
  JSON.stringify({
    event_id: `e${n}`,
    event_type: 'page_view',
    event_time: `${date}T10:00:00Z`,
    session_id: `s${n % 7}`,
  });

const dataOf = (event: KinesisStreamEvent) =>
  event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64').toString('utf8'));

/** A consumer that only records what it was delivered. */
const collectInto =
  (sink: string[]) =>
  async (event: KinesisStreamEvent): Promise<undefined> => {
    sink.push(...dataOf(event));
    return undefined;
  };

if (EXTERNAL)
  console.warn(
    'realtime-runtime.test.ts: skipped with SHOPLAKE_EXTERNAL_AWS=1 (it tests the in-process emulators)',
  );

describe.skipIf(EXTERNAL)('local runtime stand-ins (in-process emulators)', () => {
  it('provisions tables (with GSIs) and the stream from a template, idempotently', async () => {
    const runtime = await start(tempDir(), false);
    const template = definitionsToTemplate();
    template.Resources.IndexedTable = {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        TableName: 'explicit-name',
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'g', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byG',
            KeySchema: [{ AttributeName: 'g', KeyType: 'HASH' }],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
      },
    };
    template.Resources.Ignored = { Type: 'AWS::SQS::Queue' };
    const first = await provisionFromTemplate(template, runtime.clients, { namePrefix: 'shoplake' });
    expect(first.map((r) => [r.logicalId, r.physicalName, r.status])).toEqual([
      ['FeaturesTable', 'shoplake-FeaturesTable', 'exists'],
      ['RecommendationsTable', 'shoplake-RecommendationsTable', 'exists'],
      ['EventsStream', 'shoplake-EventsStream', 'exists'],
      ['IndexedTable', 'explicit-name', 'created'],
    ]);
    const table = await runtime.clients.dynamodb.send(
      new DescribeTableCommand({ TableName: 'explicit-name' }),
    );
    expect(table.Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('byG');
    const features = await runtime.clients.dynamodb.send(
      new DescribeTableCommand({ TableName: runtime.names.featuresTable }),
    );
    expect(features.Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
  });

  it('delivers Kinesis-shaped events in shard order and restarts from the lowest reported failure', async () => {
    const seen: string[] = [];
    let failedOnce = false;
    const shapes: KinesisStreamEvent[] = [];
    const runtime = await start(tempDir(), async (event) => {
      shapes.push(event);
      const data = dataOf(event);
      const bad = data.findIndex((d) => d.includes('"e40"'));
      if (bad >= 0 && !failedOnce) {
        failedOnce = true;
        seen.push(...data.slice(0, bad));
        // Report two failures: the poller must restart from the lower one.
        const recs = event.Records;
        return {
          batchItemFailures: [
            { itemIdentifier: recs[Math.min(bad + 2, recs.length - 1)]?.kinesis.sequenceNumber ?? '' },
            { itemIdentifier: recs[bad]?.kinesis.sequenceNumber ?? '' },
          ],
        };
      }
      seen.push(...data);
      return { batchItemFailures: [] };
    });
    await put(
      runtime,
      Array.from({ length: 100 }, (_, i) => eventJson(i)),
      () => 'one-shard',
    );
    await runtime.drain({ timeoutMs: 30_000 });
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => eventJson(i)));
    const record = shapes[0]?.Records[0];
    expect(record).toMatchObject({
      eventSource: 'aws:kinesis',
      eventVersion: '1.0',
      eventName: 'aws:kinesis:record',
      awsRegion: 'us-east-1',
      kinesis: { kinesisSchemaVersion: '1.0', partitionKey: 'one-shard' },
    });
    expect(record?.eventID).toBe(`${record?.eventID.split(':')[0]}:${record?.kinesis.sequenceNumber}`);
    expect(record?.eventSourceARN).toMatch(/^arn:aws:kinesis:.*:stream\/shoplake-EventsStream$/);
    expect(typeof record?.kinesis.approximateArrivalTimestamp).toBe('number');
  });

  it('bisects a failing batch, retries, and sends only the poison record to the on-failure file', async () => {
    const processed = new Set<string>();
    const runtime = await start(tempDir(), async (event) => {
      const data = dataOf(event);
      if (data.some((d) => d.includes('"e77"'))) throw new Error('poison');
      for (const d of data) processed.add(d);
      return undefined;
    });
    await put(
      runtime,
      Array.from({ length: 300 }, (_, i) => eventJson(i)),
      () => 'one-shard',
    );
    await runtime.drain({ timeoutMs: 60_000 });
    expect(processed.size).toBe(299);
    expect(processed.has(eventJson(77))).toBe(false);
    const lines = readFileSync(runtime.onFailureFile, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const entry = JSON.parse(lines[0] ?? '{}') as {
      requestContext: { condition: string; approximateInvokeCount: number };
      KinesisBatchInfo: { batchSize: number; streamArn: string };
      records: { data: string }[];
    };
    expect(entry.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(entry.requestContext.approximateInvokeCount).toBe(6);
    expect(entry.KinesisBatchInfo.batchSize).toBe(1);
    expect(Buffer.from(entry.records[0]?.data ?? '', 'base64').toString('utf8')).toBe(eventJson(77));
    expect(runtime.consumerMapping?.stats.recordsToOnFailure).toBe(1);
  });

  it('treats an unknown itemIdentifier as a failure of the whole batch', async () => {
    let calls = 0;
    const seen: string[] = [];
    const runtime = await start(tempDir(), async (event) => {
      calls += 1;
      if (calls === 1) return { batchItemFailures: [{ itemIdentifier: 'not-a-sequence-number' }] };
      seen.push(...dataOf(event));
      return { batchItemFailures: [] };
    });
    await put(
      runtime,
      Array.from({ length: 20 }, (_, i) => eventJson(i)),
      () => 'one-shard',
    );
    await runtime.drain({ timeoutMs: 30_000 });
    expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => eventJson(i)));
  });

  it('lands raw records by event date and routes unparseable ones to the errors prefix', async () => {
    const runtime = await start(tempDir(), false);
    await put(runtime, [
      eventJson(1, '2026-11-19'),
      eventJson(2, '2026-11-20'),
      'not json',
      eventJson(3, '2026-11-20'),
    ]);
    await runtime.drain({ timeoutMs: 30_000 });
    const landing = runtime.firehose?.landingDir ?? '';
    expect(readdirSync(landing).sort()).toEqual(['event_date=2026-11-19', 'event_date=2026-11-20']);
    const day = readdirSync(join(landing, 'event_date=2026-11-20'))
      .map((f) => readFileSync(join(landing, 'event_date=2026-11-20', f), 'utf8'))
      .join('')
      .trim()
      .split('\n')
      .sort();
    expect(day).toEqual([eventJson(2, '2026-11-20'), eventJson(3, '2026-11-20')]);
    const errors = readdirSync(runtime.firehose?.errorsDir ?? '');
    expect(errors).toHaveLength(1);
    const error = JSON.parse(
      readFileSync(join(runtime.firehose?.errorsDir ?? '', errors[0] ?? ''), 'utf8'),
    ) as {
      errorMessage: string;
      rawData: string;
    };
    expect(error.errorMessage).toBe('record is not valid JSON');
    expect(Buffer.from(error.rawData, 'base64').toString('utf8')).toBe('not json');
  });

  it('persists emulator state and checkpoints: a restart resumes after the last processed record', async () => {
    const stateDir = tempDir();
    const first: string[] = [];
    const r1 = await start(stateDir, collectInto(first), true);
    await put(
      r1,
      Array.from({ length: 30 }, (_, i) => eventJson(i)),
    );
    await r1.drain({ timeoutMs: 30_000 });
    await r1.stop();
    runtimes.splice(runtimes.indexOf(r1), 1);
    expect(first).toHaveLength(30);
    expect(existsSync(join(stateDir, 'event-source-mappings', 'stream-consumer.json'))).toBe(true);

    const second: string[] = [];
    const r2 = await start(stateDir, collectInto(second), true);
    expect(r2.provisioned.every((r) => r.status === 'exists')).toBe(true);
    await put(
      r2,
      Array.from({ length: 5 }, (_, i) => eventJson(100 + i)),
    );
    await r2.drain({ timeoutMs: 30_000 });
    expect(second.sort()).toEqual(Array.from({ length: 5 }, (_, i) => eventJson(100 + i)).sort());
  });
});

describe.skipIf(EXTERNAL)('checkpoints that do not match the stream', () => {
  it('restart at TRIM_HORIZON when the stream was recreated under the same name', async () => {
    const stateDir = tempDir();
    const r1 = await start(stateDir, async () => undefined, true);
    await put(
      r1,
      Array.from({ length: 10 }, (_, i) => eventJson(i)),
      () => 'one-shard',
    );
    await r1.drain({ timeoutMs: 30_000 });
    await r1.stop();
    runtimes.splice(runtimes.indexOf(r1), 1);
    // The Kinesis emulator's data is lost; the checkpoints survive. (kinesalite encodes the
    // shard creation time in seconds: wait so the new stream's sequence numbers differ.)
    await new Promise((r) => setTimeout(r, 1_100));
    rmSync(join(stateDir, 'emulators', 'kinesis'), { recursive: true, force: true });
    const seen: string[] = [];
    const r2 = await start(stateDir, collectInto(seen), true);
    await put(
      r2,
      Array.from({ length: 3 }, (_, i) => eventJson(50 + i)),
      () => 'one-shard',
    );
    await r2.drain({ timeoutMs: 30_000 });
    expect(seen).toEqual([eventJson(50), eventJson(51), eventJson(52)]);
  });
});

describe.skipIf(EXTERNAL)('real handler modules on the local runtime', () => {
  it('serves POST /events through lambdas/ingest/handler.ts and consumes with lambdas/stream-consumer/handler.ts', async () => {
    const runtime = await startLocalRuntime({
      stateDir: tempDir(),
      persist: false,
      consumer: 'module',
      eventSource: { idlePollMs: 10, maxBatchingWindowSeconds: 0 },
    });
    runtimes.push(runtime);
    runtime.applyEnv();
    const { startHttpServer } = await import('../../local/runtime/http-server.ts');
    const server = await startHttpServer({});
    try {
      const events = [
        {
          event_id: 'm1',
          event_type: 'product_view',
          event_time: '2026-11-20T10:00:00Z',
          session_id: 'sm',
          user_id: 'um',
          product_id: 'P1',
        },
        {
          event_id: 'm2',
          event_type: 'add_to_cart',
          event_time: '2026-11-20T10:01:00Z',
          session_id: 'sm',
          user_id: 'um',
          product_id: 'P2',
        },
        { event_id: 'bad', event_type: 'teleport', event_time: '2026-11-20T10:01:00Z', session_id: 'sm' },
      ];
      const res = await fetch(`${server.url}/events`, { method: 'POST', body: JSON.stringify({ events }) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        accepted: number;
        rejected: number;
        results: { status: string; reason?: string }[];
      };
      expect(body.accepted).toBe(2);
      expect(body.results[2]).toMatchObject({ status: 'rejected', reason: 'unknown_event_type' });
      await runtime.drain({ timeoutMs: 30_000 });
      const { documentClient } = await import('../../lambdas/shared/aws-clients.ts');
      const { DynamoFeatureStore } = await import('../../lambdas/shared/features/dynamo-store.ts');
      const { getRecentItems } = await import('../../lambdas/shared/features/read.ts');
      const store = new DynamoFeatureStore({
        client: documentClient(runtime.clients.dynamodb),
        tableName: runtime.names.featuresTable,
      });
      const recent = await getRecentItems(store, { userId: 'um' });
      expect(recent.map((i) => i.product_id)).toEqual(['P2', 'P1']);
      // The rejected event is in the quarantine under the lake root, with its reason.
      const quarantine = join(runtime.lakeDir, 'quarantine', 'source=ingest');
      const files = readdirSync(quarantine, { recursive: true })
        .map(String)
        .filter((f) => f.endsWith('.jsonl'));
      expect(files).toHaveLength(1);
      const line = readFileSync(join(quarantine, files[0] ?? ''), 'utf8');
      expect(line).toContain('unknown_event_type');
    } finally {
      await server.close();
    }
  });
});

describe('resources come from the synthesized CDK template', () => {
  it('provisions from SHOPLAKE_TEMPLATE_FILE, which the global set-up wrote from the CDK app', async () => {
    const file = process.env.SHOPLAKE_TEMPLATE_FILE;
    expect(file, 'test/integration/global-setup.ts should set SHOPLAKE_TEMPLATE_FILE').toBeTruthy();
    const template = JSON.parse(readFileSync(String(file), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
    };
    // Only the CDK app puts KMS encryption on the features table: this is the synthesized template.
    expect(template.Resources.FeaturesTable?.Properties?.SSESpecification).toBeDefined();
    const stateDir = mkdtempSync(join(tmpdir(), 'shoplake-synth-'));
    dirs.push(stateDir);
    const runtime = await start(stateDir, false);
    const logicalIds = runtime.provisioned.map((r) => r.logicalId).sort();
    // The processing stack's ETL run-lease table is in the synthesized template too.
    expect(logicalIds.filter((id) => !id.startsWith('EtlLeaseTable'))).toEqual([
      'EventsStream',
      'FeaturesTable',
      'RecommendationsTable',
    ]);
    expect(logicalIds.filter((id) => id.startsWith('EtlLeaseTable'))).toHaveLength(1);
    const described = await runtime.clients.dynamodb.send(
      new DescribeTableCommand({ TableName: runtime.names.featuresTable }),
    );
    expect(described.Table?.KeySchema?.map((k) => k.AttributeName)).toEqual(['pk', 'sk']);
  });
});
