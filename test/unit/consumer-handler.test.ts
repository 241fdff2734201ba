import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it, vi } from 'vitest';
import { MemoryFeatureStore } from '../../lambdas/shared/features/memory-store.ts';
import { getRecentItems, getWindowTotals } from '../../lambdas/shared/features/read.ts';
import { MemoryObjectStore } from '../../lambdas/shared/object-store.ts';
import { parseQuarantineObject } from '../../lambdas/shared/quarantine.ts';
import { createConsumerHandler, processKinesisBatch } from '../../lambdas/stream-consumer/consumer.ts';
import { kinesisBatch, now, purchaseEvent, sequenceNumber, wireEvent } from '../fixtures/events.ts';

class StoreDownError extends Error {
  constructor() {
    super('DynamoDB unavailable');
    this.name = 'StoreDownError';
  }
}

function captureLogger() {
  const records: { level: string; message: unknown; fields: Record<string, unknown> }[] = [];
  const log =
    (level: string) =>
    (message: unknown, ...extra: unknown[]) => {
      const fields: Record<string, unknown> = {};
      for (const e of extra) if (typeof e === 'object' && e !== null) Object.assign(fields, e);
      records.push({ level, message, fields });
    };
  return { records, logger: { info: log('INFO'), warn: log('WARN'), error: log('ERROR') } };
}

describe('stream consumer handler', () => {
  it('returns no failures for a good batch and logs the batch counts', async () => {
    const store = new MemoryFeatureStore();
    const quarantine = new MemoryObjectStore();
    const { records, logger } = captureLogger();
    const handler = createConsumerHandler({ store, quarantine, now, logger });
    const event: KinesisStreamEvent = {
      Records: kinesisBatch([
        wireEvent({ event_id: 'a', user_id: 'u-1', session_id: 's-1', product_id: 'p-1' }),
        purchaseEvent({ event_id: 'b', user_id: 'u-1', session_id: 's-1' }),
        wireEvent({ event_id: 'a', user_id: 'u-1', session_id: 's-1' }),
        'garbage',
      ]),
    };
    const res = await handler(event);
    expect(res).toEqual({ batchItemFailures: [] });
    const batch = records.find((r) => r.message === 'batch processed');
    expect(batch?.fields).toMatchObject({
      records: 4,
      accepted: 2,
      duplicates: 1,
      rejected: 1,
      rejected_by_reason: { invalid_json: 1 },
      replayed: 0,
    });
    expect(batch?.fields.write_requests).toBe(store.stats.writeRequests);
    const totals = await getWindowTotals(store, {
      window: '5m',
      bucketStart: Date.parse('2026-11-21T10:01:00Z'),
    });
    expect(totals).toMatchObject({ events: 2, orders: 1, revenue: 25.25, units: 3 });
    expect((await getRecentItems(store, { userId: 'u-1' })).map((i) => i.product_id).sort()).toEqual([
      'p-1',
      'p-1',
      'p-2',
    ]);
  });

  it('quarantines rejected records with shard, sequence number and reason; none are failures', async () => {
    const quarantine = new MemoryObjectStore();
    const records = kinesisBatch([wireEvent(), '{"x":', wireEvent({ quantity: 0 })], { startSeq: 10 });
    const r = await processKinesisBatch(records, { store: new MemoryFeatureStore(), quarantine, now });
    expect(r.failedSequenceNumber).toBeUndefined();
    const keys = quarantine.list();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^quarantine\/source=consumer\/dt=2026-11-21\/shardId-000000000000-.+\.jsonl$/);
    const lines = parseQuarantineObject(quarantine.get(keys[0] ?? '') ?? '');
    expect(lines).toEqual([
      expect.objectContaining({
        source: 'consumer',
        reason: 'invalid_json',
        raw: '{"x":',
        shard_id: 'shardId-000000000000',
        sequence_number: sequenceNumber(11),
        received_at: '2026-11-21T10:02:30.000Z',
      }),
      expect.objectContaining({ reason: 'invalid_field', sequence_number: sequenceNumber(12) }),
    ]);
  });

  it('drops duplicates across batches', async () => {
    const store = new MemoryFeatureStore();
    const quarantine = new MemoryObjectStore();
    const first = await processKinesisBatch(kinesisBatch([wireEvent({ event_id: 'x1' })], { startSeq: 0 }), {
      store,
      quarantine,
      now,
    });
    const second = await processKinesisBatch(
      kinesisBatch([wireEvent({ event_id: 'x1' }), wireEvent({ event_id: 'x2' })], { startSeq: 1 }),
      { store, quarantine, now },
    );
    expect(first).toMatchObject({ accepted: 1, duplicates: 0 });
    expect(second).toMatchObject({ accepted: 1, duplicates: 1, replayed: 0 });
    const totals = await getWindowTotals(store, {
      window: '1h',
      bucketStart: Date.parse('2026-11-21T10:00:00Z'),
    });
    expect(totals.events).toBe(2);
  });

  it('a store failure reports the first record to retry and logs an error, never throws', async () => {
    const store = new MemoryFeatureStore({
      beforeWrite: () => {
        throw new StoreDownError();
      },
    });
    const { records, logger } = captureLogger();
    const handler = createConsumerHandler({ store, quarantine: new MemoryObjectStore(), now, logger });
    const batch = kinesisBatch([wireEvent(), wireEvent()], { startSeq: 5 });
    const res = await handler({ Records: batch });
    expect(res).toEqual({ batchItemFailures: [{ itemIdentifier: sequenceNumber(5) }] });
    expect(records.find((r) => r.level === 'ERROR')?.fields).toMatchObject({
      failedSequenceNumber: sequenceNumber(5),
      error: 'StoreDownError: DynamoDB unavailable',
    });
  });

  it('a quarantine failure reports the first rejected record; features before it are committed', async () => {
    const store = new MemoryFeatureStore();
    const quarantine = new MemoryObjectStore();
    quarantine.failWith = new Error('S3 down');
    const batch = kinesisBatch([wireEvent({ event_id: 'k1' }), 'bad', wireEvent({ event_id: 'k2' })]);
    const r = await processKinesisBatch(batch, { store, quarantine, now });
    expect(r.failedSequenceNumber).toBe(sequenceNumber(1));
    expect(r).toMatchObject({ accepted: 1, rejected: 0 });
    // Lambda retries from the bad record: k2 is re-applied as a replay, the bad record is quarantined.
    quarantine.failWith = undefined;
    const retry = await processKinesisBatch(batch.slice(1), { store, quarantine, now });
    expect(retry).toMatchObject({ accepted: 1, replayed: 1, rejected: 1, duplicates: 0 });
    expect(retry.failedSequenceNumber).toBeUndefined();
    const totals = await getWindowTotals(store, {
      window: '5m',
      bucketStart: Date.parse('2026-11-21T10:01:00Z'),
    });
    expect(totals.events).toBe(2);
  });

  it('publishes Powertools metrics when given', async () => {
    const added: [string, number][] = [];
    let published = 0;
    const metrics = {
      addMetric(name: string, _unit: unknown, value: number) {
        added.push([name, value]);
        return metrics;
      },
      publishStoredMetrics() {
        published += 1;
      },
    };
    const handler = createConsumerHandler({
      store: new MemoryFeatureStore(),
      quarantine: new MemoryObjectStore(),
      now,
      metrics: metrics as unknown as NonNullable<Parameters<typeof createConsumerHandler>[0]['metrics']>,
    });
    await handler({ Records: kinesisBatch([wireEvent(), 'bad']) });
    expect(Object.fromEntries(added)).toMatchObject({
      RecordsAccepted: 1,
      RecordsRejected: 1,
      BatchFailures: 0,
    });
    expect(published).toBe(1);
  });

  it('a record with a malformed sequence number or eventID is quarantined, not a poison pill', async () => {
    const quarantine = new MemoryObjectStore();
    const [good, odd] = kinesisBatch([wireEvent({ event_id: 'fine' }), wireEvent({ event_id: 'odd' })]);
    if (!good || !odd) throw new Error('fixture');
    odd.kinesis.sequenceNumber = '../not-a-number';
    odd.eventID = '';
    const r = await processKinesisBatch([good, odd], { store: new MemoryFeatureStore(), quarantine, now });
    expect(r).toMatchObject({ accepted: 1, rejected: 1, rejected_by_reason: { invalid_key: 1 } });
    expect(r.failedSequenceNumber).toBeUndefined();
    const lines = quarantine.list().flatMap((k) => parseQuarantineObject(quarantine.get(k) ?? ''));
    expect(lines[0]).toMatchObject({
      reason: 'invalid_key',
      shard_id: 'unknown-shard',
      sequence_number: '../not-a-number',
    });
  });

  it('an empty batch is a no-op', async () => {
    const handler = createConsumerHandler({
      store: new MemoryFeatureStore(),
      quarantine: new MemoryObjectStore(),
      now,
    });
    expect(await handler({ Records: [] })).toEqual({ batchItemFailures: [] });
  });
});

describe('stream consumer Lambda module', () => {
  it('fails fast at init with the name of a missing variable, and initialises with all set', async () => {
    const saved = { ...process.env };
    try {
      delete process.env.FEATURES_TABLE_NAME;
      process.env.QUARANTINE_URI = 'memory://consumer-module';
      vi.resetModules();
      await expect(import('../../lambdas/stream-consumer/handler.ts')).rejects.toThrow('FEATURES_TABLE_NAME');
      process.env.FEATURES_TABLE_NAME = 'features';
      process.env.AWS_REGION = 'us-east-1';
      vi.resetModules();
      const mod = await import('../../lambdas/stream-consumer/handler.ts');
      expect(await mod.handler({ Records: [] })).toEqual({ batchItemFailures: [] });
    } finally {
      process.env = saved;
    }
  });
});
