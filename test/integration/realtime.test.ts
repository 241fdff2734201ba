/**
 * The real-time path end to end on real AWS APIs (in-process emulators by default, LocalStack
 * with SHOPLAKE_EXTERNAL_AWS=1 + AWS_ENDPOINT_URL): generator → ingest handler → Kinesis →
 * event-source mapping → stream consumer → DynamoDB, checked against an independent
 * computation over the same events, then again under injected faults and replays.
 */
import type { KinesisStreamEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { type GeneratedEvent, generateShop } from '../../local/generator/shop.ts';
import { type ExpectedFeatures, expectedFeatures } from './helpers/expected-features.ts';
import { EXTERNAL, type PipelineRun, runPipeline } from './helpers/pipeline.ts';

const END = Date.parse('2026-11-20T12:00:00.000Z');

function shopEvents(seed: number, events: number): GeneratedEvent[] {
  const shop = generateShop({ seed, events, users: 150, products: 120, days: 0.5, end: END });
  return [...shop.events()];
}

function toObject<V>(m: Map<string, V>): Record<string, V> {
  return Object.fromEntries([...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Asserts the pipeline's feature state equals the independent expectation, piece by piece. */
function expectFeaturesMatch(run: PipelineRun, expected: ExpectedFeatures): void {
  expect(toObject(run.actual.windows)).toEqual(toObject(expected.windows));
  expect(toObject(run.actual.sessions)).toEqual(toObject(expected.sessions));
  expect(toObject(run.actual.users)).toEqual(toObject(expected.users));
}

describe(`real-time path on ${EXTERNAL ? `external AWS endpoint ${process.env.AWS_ENDPOINT_URL}` : 'in-process emulators'}`, () => {
  const events = shopEvents(7, 2_500);
  const expected = expectedFeatures(events);
  let baseline: PipelineRun;

  beforeAll(async () => {
    baseline = await runPipeline(events);
  });

  it('generator traffic has the dirt the test needs (duplicates, anonymous sessions, purchases)', () => {
    expect(expected.duplicates).toBeGreaterThan(10);
    expect(events.some((e) => !e.user_id)).toBe(true);
    expect(events.filter((e) => e.event_type === 'purchase').length).toBeGreaterThan(20);
    expect(expected.windows.size).toBeGreaterThan(100);
  });

  it('accounts for every event: received = accepted + duplicates + rejected', () => {
    const s = baseline.summary;
    expect(s.received).toBe(events.length);
    expect(s.accepted).toBe(expected.uniqueEvents);
    expect(s.duplicates).toBe(expected.duplicates);
    expect(s.rejected).toBe(0);
    expect(baseline.onFailureRecords).toBe(0);
  });

  it('builds window counters, trending and recent items equal to an independent computation', () => {
    expectFeaturesMatch(baseline, expected);
    // Not vacuous: the state holds real numbers.
    const totalOrders = [...baseline.actual.windows.entries()]
      .filter(([k]) => k.startsWith('1h|'))
      .reduce((a, [, w]) => a + w.orders, 0);
    expect(totalOrders).toBe(
      events.filter(
        (e, i, all) => e.event_type === 'purchase' && all.findIndex((x) => x.event_id === e.event_id) === i,
      ).length,
    );
    expect(baseline.actual.users.size).toBeGreaterThan(20);
  });

  it('lands every record of the stream in the Firehose-like sink, partitioned by event date', () => {
    const landing = baseline.runtime.firehose;
    expect(landing?.stats.delivered).toBe(events.length);
    expect(landing?.stats.errors).toBe(0);
  });

  it('ends in the same state with 20% DynamoDB write faults and 20% PutRecords partial failures', async () => {
    const faulty = await runPipeline(events, {
      dynamoWriteFailureRate: 0.2,
      putRecordsFailureRate: 0.2,
      seed: 99,
    });
    const d = faulty.proxies.dynamo?.stats;
    const k = faulty.proxies.kinesis?.stats;
    // The faults really happened, all three kinds.
    expect(d?.throttled).toBeGreaterThan(10);
    expect(d?.serverErrorsBeforeApply).toBeGreaterThan(10);
    expect(d?.serverErrorsAfterApply).toBeGreaterThan(5);
    expect(k?.putRecordsFailedRecords).toBeGreaterThan(100);
    expect(faulty.summary.accepted).toBe(expected.uniqueEvents);
    expect(faulty.summary.duplicates).toBe(expected.duplicates);
    expect(faulty.onFailureRecords).toBe(0);
    expectFeaturesMatch(faulty, expected);
    expect(faulty.comparable).toEqual(baseline.comparable);
  });

  it('ends in the same state when every consumer batch is delivered twice', async () => {
    const replayed = await runPipeline(events, { invokeEveryBatchTwice: true, batchSize: 137 });
    expect(replayed.summary.accepted).toBe(expected.uniqueEvents);
    expect(replayed.summary.duplicates).toBe(expected.duplicates);
    expectFeaturesMatch(replayed, expected);
    expect(replayed.comparable).toEqual(baseline.comparable);
  });

  it('ends in the same state when every ingest request is sent twice (client retries)', async () => {
    const resent = await runPipeline(events, { sendEveryRequestTwice: true });
    expect(resent.summary.accepted).toBe(expected.uniqueEvents);
    expect(resent.summary.duplicates).toBe(expected.duplicates + events.length);
    expectFeaturesMatch(resent, expected);
  });

  it('isolates a poison record by bisecting, sends it to the on-failure destination and processes the rest', async () => {
    const small = shopEvents(8, 400);
    const poisonId = small
      .slice(100)
      .find((e) => small.filter((x) => x.event_id === e.event_id).length === 1)?.event_id;
    expect(poisonId).toBeDefined();
    const poisoned = await runPipeline(small, {
      wrapConsumer: (invoke) => async (event: KinesisStreamEvent) => {
        const hasPoison = event.Records.some((r) =>
          Buffer.from(r.kinesis.data, 'base64')
            .toString('utf8')
            .includes(`"event_id":"${poisonId ?? 'missing'}"`),
        );
        if (hasPoison) throw new Error('poison record');
        return invoke(event);
      },
    });
    expect(poisoned.onFailureRecords).toBe(1);
    const dlq = poisoned.onFailureLines;
    expect(dlq).toHaveLength(1);
    const entry = JSON.parse(dlq[0] ?? '{}') as {
      requestContext: { condition: string };
      records: { data: string }[];
    };
    expect(entry.requestContext.condition).toBe('RetryAttemptsExhausted');
    expect(Buffer.from(entry.records[0]?.data ?? '', 'base64').toString('utf8')).toContain(
      poisonId ?? 'missing',
    );
    // The poison record is counted as rejected (retries exhausted); everything else went through.
    expect(poisoned.summary.rejected_by_reason.retries_exhausted).toBe(1);
    expect(poisoned.summary.accepted + poisoned.summary.duplicates).toBe(small.length - 1);
  });

  it('keeps raw landing files as NDJSON partitioned by the event date', () => {
    const byDate = new Map<string, number>();
    for (const e of events) {
      const key = `event_date=${e.event_time.slice(0, 10)}`;
      byDate.set(key, (byDate.get(key) ?? 0) + 1);
    }
    expect(baseline.landing).toEqual(Object.fromEntries(byDate));
  });
});
