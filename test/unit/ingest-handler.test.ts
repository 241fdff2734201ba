import type { PutRecordsCommand, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { describe, expect, it, vi } from 'vitest';
import {
  createIngestHandler,
  type IngestDeps,
  type IngestResponse,
  type KinesisPutRecords,
} from '../../lambdas/ingest/ingest.ts';
import { LIMITS } from '../../lambdas/shared/event-schema.ts';
import { MemoryObjectStore } from '../../lambdas/shared/object-store.ts';
import { parseQuarantineObject } from '../../lambdas/shared/quarantine.ts';
import { apiEvent, now, wireEvent } from '../fixtures/events.ts';

interface PutCall {
  partitionKeys: string[];
  payloads: unknown[];
}

/** Fake Kinesis: records every call, fails records chosen by `failWhen`. */
class FakeKinesis implements KinesisPutRecords {
  readonly calls: PutCall[] = [];
  readonly stream: { partitionKey: string; payload: unknown }[] = [];
  private seq = 0;

  constructor(
    private readonly failWhen: (callIndex: number, recordIndex: number, payload: unknown) => boolean = () =>
      false,
    private readonly throwOnCall: (callIndex: number) => boolean = () => false,
  ) {}

  async send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> {
    const callIndex = this.calls.length;
    const records = command.input.Records ?? [];
    const payloads = records.map(
      (r) => JSON.parse(Buffer.from(r.Data ?? new Uint8Array()).toString('utf8')) as unknown,
    );
    this.calls.push({ partitionKeys: records.map((r) => r.PartitionKey ?? ''), payloads });
    if (this.throwOnCall(callIndex))
      throw Object.assign(new Error('service unavailable'), { name: 'ServiceUnavailable' });
    let failed = 0;
    const out = records.map((r, i) => {
      if (this.failWhen(callIndex, i, payloads[i])) {
        failed += 1;
        return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' };
      }
      this.seq += 1;
      this.stream.push({ partitionKey: r.PartitionKey ?? '', payload: payloads[i] });
      return { SequenceNumber: String(this.seq), ShardId: 'shardId-000000000000' };
    });
    return { FailedRecordCount: failed, Records: out, $metadata: {} };
  }
}

function deps(
  kinesis: KinesisPutRecords,
  quarantine = new MemoryObjectStore(),
  extra: Partial<IngestDeps> = {},
): IngestDeps {
  const sleeps: number[] = [];
  return {
    kinesis,
    streamName: 'events',
    quarantine,
    now,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...extra,
  };
}

async function post(d: IngestDeps, body: string | null, base64 = false) {
  const res = await createIngestHandler(d)(apiEvent(body, { base64 }));
  return {
    status: res.statusCode,
    body: JSON.parse(res.body) as Record<string, unknown> & Partial<IngestResponse>,
  };
}

function quarantined(store: MemoryObjectStore) {
  return store.list().flatMap((k) => parseQuarantineObject(store.get(k) ?? ''));
}

describe('ingest handler: envelope', () => {
  it.each([
    ['empty body', null, 'invalid_body'],
    ['not JSON', '{"events": [', 'invalid_json'],
    ['no events array', '{"event": []}', 'invalid_envelope'],
    ['events not an array', '{"events": {"a": 1}}', 'invalid_envelope'],
    ['array body', '[{"event_id": "x"}]', 'invalid_envelope'],
    ['empty events', '{"events": []}', 'invalid_envelope'],
  ])('%s → 400 %s, raw body quarantined', async (_n, body, error) => {
    const q = new MemoryObjectStore();
    const kinesis = new FakeKinesis();
    const res = await post(deps(kinesis, q), body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(error);
    expect(kinesis.calls).toHaveLength(0);
    const lines = quarantined(q);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ source: 'ingest', reason: error, raw: body ?? '' });
    expect(q.list()[0]).toMatch(/^quarantine\/source=ingest\/dt=2026-11-21\/[0-9a-f-]{36}\.jsonl$/);
  });

  it('more than 500 events → 400 too_many_events', async () => {
    const q = new MemoryObjectStore();
    const body = JSON.stringify({
      events: Array.from({ length: LIMITS.maxEventsPerRequest + 1 }, () => wireEvent()),
    });
    const res = await post(deps(new FakeKinesis(), q), body);
    expect(res).toMatchObject({ status: 400, body: { error: 'too_many_events' } });
    expect(quarantined(q)[0]?.raw).toBe(body);
  });

  it('more than 1 MB → 400 request_too_large', async () => {
    const events = Array.from({ length: 300 }, () => wireEvent({ note: 'x'.repeat(3_500) }));
    const body = JSON.stringify({ events });
    expect(Buffer.byteLength(body)).toBeGreaterThan(LIMITS.maxRequestBytes);
    const res = await post(deps(new FakeKinesis()), body);
    expect(res).toMatchObject({ status: 400, body: { error: 'request_too_large' } });
  });

  it('decodes base64 bodies (binary media types on API Gateway)', async () => {
    const kinesis = new FakeKinesis();
    const res = await post(deps(kinesis), JSON.stringify({ events: [wireEvent()] }), true);
    expect(res.status).toBe(200);
    expect(res.body.accepted).toBe(1);
  });
});

describe('ingest handler: per-event answers', () => {
  it('accepts valid events, rejects bad ones with reasons, quarantines only the rejected', async () => {
    const q = new MemoryObjectStore();
    const kinesis = new FakeKinesis();
    const good = wireEvent({ session_id: 's-42' });
    const events = [
      good,
      wireEvent({ price: -5, event_id: 'neg' }),
      '{not json',
      wireEvent({ event_type: 'nope' }),
    ];
    const res = await post(deps(kinesis, q), JSON.stringify({ events }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 1, rejected: 3, failed: 0 });
    expect(res.body.results).toEqual([
      { index: 0, event_id: good.event_id, status: 'accepted' },
      {
        index: 1,
        event_id: 'neg',
        status: 'rejected',
        reason: 'invalid_field',
        detail: expect.stringContaining('price'),
      },
      { index: 2, status: 'rejected', reason: 'invalid_json', detail: expect.any(String) },
      {
        index: 3,
        event_id: expect.any(String),
        status: 'rejected',
        reason: 'unknown_event_type',
        detail: expect.any(String),
      },
    ]);
    const lines = quarantined(q);
    expect(lines.map((l) => [l.index, l.reason])).toEqual([
      [1, 'invalid_field'],
      [2, 'invalid_json'],
      [3, 'unknown_event_type'],
    ]);
    expect(lines[1]?.raw).toBe('{not json');
    expect(lines[0]?.received_at).toBe(new Date(now()).toISOString());
  });

  it('puts normalised events partitioned by session_id, preserving request order', async () => {
    const kinesis = new FakeKinesis();
    const events = [
      wireEvent({ session_id: 'a', event_time: '2026-11-21T11:00:00+01:00', extra: 1 }),
      wireEvent({ session_id: 'b' }),
      wireEvent({ session_id: 'a' }),
    ];
    await post(deps(kinesis), JSON.stringify({ events }));
    expect(kinesis.calls).toHaveLength(1);
    expect(kinesis.calls[0]?.partitionKeys).toEqual(['a', 'b', 'a']);
    expect(kinesis.stream[0]?.payload).toMatchObject({
      schema_version: 1,
      event_time: '2026-11-21T10:00:00.000Z',
      attributes: { extra: '1' },
      quantity: 1,
    });
  });

  it('a number that overflows to Infinity inside the request body is rejected, not turned into null', async () => {
    const kinesis = new FakeKinesis();
    const body = `{"events":[${JSON.stringify(wireEvent({ event_id: 'inf', price: 1 })).replace('"price":1', '"price":1e400')}]}`;
    const res = await post(deps(kinesis), body);
    expect(res.body.results?.[0]).toMatchObject({
      event_id: 'inf',
      status: 'rejected',
      reason: 'invalid_field',
    });
    expect(kinesis.calls).toHaveLength(0);
  });

  it('all rejected → 200 with nothing sent to the stream', async () => {
    const kinesis = new FakeKinesis();
    const res = await post(deps(kinesis), JSON.stringify({ events: [1, 'x'] }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 0, rejected: 2, failed: 0 });
    expect(kinesis.calls).toHaveLength(0);
  });

  it('quarantine down → 503 before anything reaches the stream', async () => {
    const q = new MemoryObjectStore();
    q.failWith = new Error('S3 down');
    const kinesis = new FakeKinesis();
    const res = await post(deps(kinesis, q), JSON.stringify({ events: [wireEvent(), 'bad'] }));
    expect(res).toMatchObject({ status: 503, body: { error: 'quarantine_unavailable' } });
    expect(kinesis.calls).toHaveLength(0);
  });
});

describe('ingest handler: partial PutRecords failures', () => {
  it('with 20% of records failing per call, retries only the failed ones until all are accepted', async () => {
    let rnd = 12345;
    const random = () => {
      rnd = (rnd * 1103515245 + 12345) % 2 ** 31;
      return rnd / 2 ** 31;
    };
    const kinesis = new FakeKinesis(() => random() < 0.2);
    const events = Array.from({ length: 500 }, (_, i) =>
      wireEvent({ event_id: `k-${i}`, session_id: `s-${i % 37}` }),
    );
    const d = deps(kinesis, new MemoryObjectStore(), { maxAttempts: 20 });
    const res = await post(d, JSON.stringify({ events }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ accepted: 500, rejected: 0, failed: 0 });
    // Every event reached the stream exactly once, and each retry call carried only failed records.
    const ids = kinesis.stream.map((r) => (r.payload as { event_id: string }).event_id);
    expect(new Set(ids).size).toBe(500);
    expect(ids).toHaveLength(500);
    expect(kinesis.calls.length).toBeGreaterThan(1);
    for (let c = 1; c < kinesis.calls.length; c += 1) {
      expect(kinesis.calls[c]?.payloads.length).toBeLessThan(kinesis.calls[c - 1]?.payloads.length ?? 0);
    }
    const sentTotal = kinesis.calls.reduce((n, c) => n + c.payloads.length, 0);
    expect(sentTotal).toBeLessThan(500 * 1.4);
  });

  it('records still failing after the attempts are answered failed/stream_unavailable', async () => {
    const kinesis = new FakeKinesis(
      (_c, _i, payload) => (payload as { event_id: string }).event_id === 'stuck',
    );
    const sleeps: number[] = [];
    const d = deps(kinesis, new MemoryObjectStore(), {
      maxAttempts: 4,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    const res = await post(
      d,
      JSON.stringify({ events: [wireEvent({ event_id: 'ok' }), wireEvent({ event_id: 'stuck' })] }),
    );
    expect(res.status).toBe(200);
    expect(res.body.results?.[1]).toMatchObject({
      status: 'failed',
      reason: 'stream_unavailable',
      event_id: 'stuck',
    });
    expect(res.body.results?.[1]?.detail).toContain('ProvisionedThroughputExceeded');
    expect(kinesis.calls.map((c) => c.payloads.length)).toEqual([2, 1, 1, 1]);
    expect(sleeps).toHaveLength(3);
    for (const [i, ms] of sleeps.entries()) expect(ms).toBeLessThanOrEqual(50 * 2 ** i);
  });

  it('a call that throws is retried as a whole; if all attempts fail the answer is 503', async () => {
    const recovering = new FakeKinesis(undefined, (call) => call === 0);
    const ok = await post(deps(recovering), JSON.stringify({ events: [wireEvent()] }));
    expect(ok.body).toMatchObject({ accepted: 1, failed: 0 });
    const down = new FakeKinesis(undefined, () => true);
    const res = await post(
      deps(down, new MemoryObjectStore(), { maxAttempts: 3 }),
      JSON.stringify({ events: [wireEvent(), wireEvent()] }),
    );
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ accepted: 0, failed: 2 });
    expect(down.calls).toHaveLength(3);
  });

  it('a real KinesisClient fits the port', () => {
    const client: KinesisPutRecords = new KinesisClient({ region: 'us-east-1' });
    expect(typeof client.send).toBe('function');
  });
});

describe('ingest Lambda module', () => {
  it('fails fast at init with the name of a missing variable, and answers once configured', async () => {
    const saved = { ...process.env };
    try {
      delete process.env.EVENTS_STREAM_NAME;
      process.env.QUARANTINE_URI = 'memory://ingest-module';
      vi.resetModules();
      await expect(import('../../lambdas/ingest/handler.ts')).rejects.toThrow('EVENTS_STREAM_NAME');
      process.env.EVENTS_STREAM_NAME = 'events';
      process.env.AWS_REGION = 'us-east-1';
      vi.resetModules();
      const mod = await import('../../lambdas/ingest/handler.ts');
      // An envelope error never reaches Kinesis, so no network is needed.
      const res = await mod.handler(apiEvent('{"events": 1}'));
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_envelope' });
    } finally {
      process.env = saved;
    }
  });
});
