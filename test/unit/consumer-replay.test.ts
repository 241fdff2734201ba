import { describe, expect, it } from 'vitest';
import { MemoryFeatureStore, type WriteOperation } from '../../lambdas/shared/features/memory-store.ts';
import { comparableFeatureState, getTrending, getWindowTotals } from '../../lambdas/shared/features/read.ts';
import { MemoryObjectStore } from '../../lambdas/shared/object-store.ts';
import { type ConsumerBatchResult, processKinesisBatch } from '../../lambdas/stream-consumer/consumer.ts';
import { kinesisBatch, now, purchaseEvent, sequenceNumber, wireEvent } from '../fixtures/events.ts';

class InjectedFaultError extends Error {
  constructor(n: number) {
    super(`injected fault on write request ${n}`);
    this.name = 'InjectedFaultError';
  }
}

function trafficPayloads(n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i += 1) {
    const session = `s-${i % 7}`;
    const user = i % 3 === 0 ? `u-${i % 5}` : null;
    const minute = String(i % 60).padStart(2, '0');
    const time = `2026-11-21T${i % 2 === 0 ? '09' : '10'}:${minute}:00Z`;
    if (i % 11 === 0) {
      out.push(purchaseEvent({ event_id: `ev-${i}`, session_id: session, user_id: user, event_time: time }));
    } else {
      out.push(
        wireEvent({
          event_id: `ev-${i}`,
          event_type: i % 4 === 0 ? 'add_to_cart' : 'product_view',
          session_id: session,
          user_id: user,
          product_id: `p-${i % 13}`,
          category: i % 2 === 0 ? 'Toys' : 'Books/Comics',
          event_time: time,
        }),
      );
    }
    if (i % 17 === 0) out.push(wireEvent({ event_id: `ev-${i}`, session_id: session, event_time: time })); // dup
    if (i % 23 === 0) out.push('{not json');
  }
  return out;
}

/** Runs records through the consumer like Lambda: retry from the reported sequence number. */
async function runLikeLambda(
  records: ReturnType<typeof kinesisBatch>,
  store: MemoryFeatureStore,
  quarantine: MemoryObjectStore,
  batchSize: number,
): Promise<{
  totals: Omit<ConsumerBatchResult, 'records' | 'writeRequests' | 'error' | 'failedSequenceNumber'>;
  failures: number;
}> {
  const totals = {
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    replayed: 0,
    rejected_by_reason: {} as Record<string, number>,
  };
  let failures = 0;
  let pos = 0;
  let guard = 0;
  while (pos < records.length) {
    guard += 1;
    if (guard > 1000) throw new Error('no progress');
    const batch = records.slice(pos, pos + batchSize);
    const r = await processKinesisBatch(batch, { store, quarantine, now });
    totals.accepted += r.accepted;
    totals.duplicates += r.duplicates;
    totals.rejected += r.rejected;
    totals.replayed += r.replayed;
    for (const [k, v] of Object.entries(r.rejected_by_reason))
      totals.rejected_by_reason[k] = (totals.rejected_by_reason[k] ?? 0) + (v ?? 0);
    if (r.failedSequenceNumber) {
      failures += 1;
      const idx = batch.findIndex((x) => x.kinesis.sequenceNumber === r.failedSequenceNumber);
      expect(idx).toBeGreaterThanOrEqual(0);
      pos += idx;
    } else {
      pos += batch.length;
    }
  }
  return { totals, failures };
}

describe('consumer replays and fault injection', () => {
  const records = kinesisBatch(trafficPayloads(400));

  it('counts add up and features match an independent computation', async () => {
    const store = new MemoryFeatureStore();
    const quarantine = new MemoryObjectStore();
    const { totals } = await runLikeLambda(records, store, quarantine, 100);
    expect(totals.accepted + totals.duplicates + totals.rejected).toBe(records.length);
    expect(totals.rejected).toBe(Math.ceil(400 / 23));
    expect(totals.duplicates).toBe(Math.ceil(400 / 17));
    expect(totals.rejected_by_reason).toEqual({ invalid_json: Math.ceil(400 / 23) });
    const t = await getWindowTotals(store, { window: '1h', bucketStart: Date.parse('2026-11-21T09:00:00Z') });
    const purchases9 = [...Array(400).keys()].filter((i) => i % 11 === 0 && i % 2 === 0).length;
    expect(t.orders).toBe(purchases9);
    expect(t.revenue).toBeCloseTo(purchases9 * 25.25, 6);
  });

  it('replaying every batch twice gives identical state and no double counting', async () => {
    const a = new MemoryFeatureStore();
    const b = new MemoryFeatureStore();
    const qa = new MemoryObjectStore();
    const qb = new MemoryObjectStore();
    await runLikeLambda(records, a, qa, 50);
    for (let i = 0; i < records.length; i += 50) {
      const batch = records.slice(i, i + 50);
      const first = await processKinesisBatch(batch, { store: b, quarantine: qb, now });
      const second = await processKinesisBatch(batch, { store: b, quarantine: qb, now });
      expect(second.accepted).toBe(first.accepted);
      expect(second.replayed).toBe(first.accepted);
      expect(second.duplicates).toBe(first.duplicates);
      expect(second.failedSequenceNumber).toBeUndefined();
    }
    expect(await b.scanAll().then((x) => x.length)).toBe(await a.scanAll().then((x) => x.length));
    expect(await comparableFeatureState(b)).toEqual(await comparableFeatureState(a));
    expect(qb.list()).toEqual(qa.list());
  });

  it.each([1, 2, 3, 5, 8, 13])(
    'a fault on write request %i, retried from the reported record, ends identical',
    async (n) => {
      const clean = new MemoryFeatureStore();
      await runLikeLambda(records, clean, new MemoryObjectStore(), 100);
      const faulty = new MemoryFeatureStore({
        beforeWrite: (_op: WriteOperation, k: number) => {
          if (k === n || k === n + 40) throw new InjectedFaultError(k);
        },
      });
      const q = new MemoryObjectStore();
      const { totals, failures } = await runLikeLambda(records, faulty, q, 100);
      expect(failures).toBe(2);
      expect(totals.accepted + totals.duplicates + totals.rejected).toBe(records.length);
      expect(await comparableFeatureState(faulty)).toEqual(await comparableFeatureState(clean));
      const trending = await getTrending(faulty, {
        window: '1h',
        now: Date.parse('2026-11-21T10:30:00Z'),
        k: 3,
      });
      expect(trending.products.length).toBe(3);
    },
  );

  it('reports the first unapplied record and counts only records before it', async () => {
    const store = new MemoryFeatureStore({
      beforeWrite: () => {
        throw new InjectedFaultError(1);
      },
    });
    const batch = kinesisBatch(['{bad', wireEvent(), wireEvent()]);
    const r = await processKinesisBatch(batch, { store, quarantine: new MemoryObjectStore(), now });
    expect(r.failedSequenceNumber).toBe(sequenceNumber(1));
    expect(r).toMatchObject({ accepted: 0, rejected: 1, duplicates: 0 });
  });
});
