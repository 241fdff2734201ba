import { describe, expect, it } from 'vitest';
import type { ShopEvent } from '../../lambdas/shared/event-schema.ts';
import {
  chunkContributions,
  planWindowUpdates,
  type SeqContribution,
  sumDeltas,
  windowContributions,
} from '../../lambdas/shared/features/aggregate.ts';
import { applyWindowAggregates } from '../../lambdas/shared/features/apply.ts';
import { padSequence } from '../../lambdas/shared/features/feature-keys.ts';
import { MemoryFeatureStore } from '../../lambdas/shared/features/memory-store.ts';
import { getTrending, getWindowTotals, listWindowItems } from '../../lambdas/shared/features/read.ts';
import { parsedEvent, purchaseEvent, wireEvent } from '../fixtures/events.ts';

const ev = parsedEvent;

const rec = (event: ShopEvent, i: number, shardId = 'shardId-000000000000') => ({
  event,
  shardId,
  seq: padSequence(String(1000 + i)),
});

describe('window contributions', () => {
  it('a product view counts the event, its type, the product and the category', () => {
    const d = windowContributions(ev(wireEvent({ product_id: 'p-9', category: 'Toys' })));
    expect(Object.fromEntries(d)).toEqual({ events: 1, 'e#product_view': 1, 'p#p-9#Toys': 1, 'c#Toys': 1 });
  });

  it('remove_from_cart, page_view and search are events but not product interactions', () => {
    for (const type of ['remove_from_cart', 'page_view', 'search']) {
      const d = windowContributions(ev(wireEvent({ event_type: type })));
      expect(Object.fromEntries(d)).toEqual({ events: 1, [`e#${type}`]: 1 });
    }
  });

  it('a placed purchase adds order, units, exact revenue in cents, one interaction per line', () => {
    const d = windowContributions(ev(purchaseEvent({ category: 'Books' })));
    // lines: p-1 ×2 @10.10 (Home & Garden), p-2 ×1 @5.05 (event category Books)
    expect(Object.fromEntries(d)).toEqual({
      events: 1,
      'e#purchase': 1,
      orders: 1,
      units: 3,
      revenue_cents: 2525,
      'p#p-1#Home%20%26%20Garden': 1,
      'c#Home%20%26%20Garden': 1,
      'p#p-2#Books': 1,
      'c#Books': 1,
    });
  });

  it('a cancellation counts only as a cancelled order, never as revenue or interaction', () => {
    const d = windowContributions(ev(purchaseEvent({ order_status: 'cancelled' })));
    expect(Object.fromEntries(d)).toEqual({
      events: 1,
      'e#purchase': 1,
      cancelled_orders: 1,
      cancelled_revenue_cents: 2525,
    });
  });
});

describe('planning and chunking', () => {
  it('groups a batch into one plan per window × bucket × shard, sequence-ordered', () => {
    const events = [
      ev(wireEvent({ event_time: '2026-11-21T10:01:00Z' })),
      ev(wireEvent({ event_time: '2026-11-21T10:06:00Z' })),
      ev(wireEvent({ event_time: '2026-11-21T10:02:00Z' })),
    ];
    const plans = planWindowUpdates([
      rec(events[2] as ShopEvent, 3),
      rec(events[0] as ShopEvent, 1),
      rec(events[1] as ShopEvent, 2),
    ]);
    const byPk = Object.fromEntries(plans.map((p) => [p.key.pk, p.contributions.length]));
    expect(byPk).toEqual({
      'TREND#5m#2026-11-21T10:00:00.000Z': 2,
      'TREND#5m#2026-11-21T10:05:00.000Z': 1,
      'TREND#1h#2026-11-21T10:00:00.000Z': 3,
    });
    const hour = plans.find((p) => p.window === '1h');
    const seqs = hour?.contributions.map((c) => c.seq) ?? [];
    expect(seqs).toEqual([...seqs].sort());
    expect(plans.every((p) => p.key.sk === 'SHARD#shardId-000000000000')).toBe(true);
  });

  it('chunks keep updates under the attribute limit without splitting a record', () => {
    const contributions: SeqContribution[] = Array.from({ length: 10 }, (_, i) => ({
      seq: String(i).padStart(3, '0'),
      deltas: new Map([
        ['events', 1],
        [`p#p${i}`, 1],
        [`c#c${i}`, 1],
      ]),
    }));
    const chunks = chunkContributions(contributions, 7);
    expect(chunks.map((c) => c.length)).toEqual([3, 3, 3, 1]);
    for (const c of chunks) expect(sumDeltas(c).size).toBeLessThanOrEqual(7);
    expect(chunks.flat()).toEqual(contributions);
    expect(sumDeltas(contributions).get('events')).toBe(10);
  });
});

describe('applying aggregates', () => {
  it('a busy product costs one write per window item per batch, not one per event', async () => {
    const store = new MemoryFeatureStore();
    const records = Array.from({ length: 500 }, (_, i) =>
      rec(ev(wireEvent({ product_id: 'hot', event_time: '2026-11-21T10:01:00Z' })), i),
    );
    await applyWindowAggregates(store, records);
    expect(store.stats.writeRequests).toBe(2); // the 5m and the 1h item
    const trending = await getTrending(store, { window: '5m', now: Date.parse('2026-11-21T10:04:00Z') });
    expect(trending.products).toEqual([{ product_id: 'hot', score: 500 }]);
  });

  it('many distinct products split into several conditional writes that all apply', async () => {
    const store = new MemoryFeatureStore();
    const records = Array.from({ length: 450 }, (_, i) =>
      rec(ev(wireEvent({ product_id: `p${i}`, category: null, event_time: '2026-11-21T10:01:00Z' })), i),
    );
    await applyWindowAggregates(store, records);
    expect(store.stats.writeRequests).toBeGreaterThan(2);
    const t = await getWindowTotals(store, { window: '1h', bucketStart: Date.parse('2026-11-21T10:00:00Z') });
    expect(t.events).toBe(450);
    const top = await getTrending(store, { window: '1h', now: Date.parse('2026-11-21T10:30:00Z'), k: 1000 });
    expect(top.products.length).toBe(450);
  });

  it('sums shards on read and filters trending by category', async () => {
    const store = new MemoryFeatureStore();
    const at = '2026-11-21T10:01:00Z';
    await applyWindowAggregates(store, [
      rec(ev(wireEvent({ product_id: 'a', category: 'Toys', event_time: at })), 1, 'shardId-0'),
      rec(ev(wireEvent({ product_id: 'a', category: 'Toys', event_time: at })), 2, 'shardId-0'),
      rec(ev(wireEvent({ product_id: 'b', category: 'Books', event_time: at })), 3, 'shardId-0'),
    ]);
    await applyWindowAggregates(store, [
      rec(ev(wireEvent({ product_id: 'b', category: 'Books', event_time: at })), 1, 'shardId-1'),
      rec(ev(wireEvent({ product_id: 'b', category: 'Books', event_time: at })), 2, 'shardId-1'),
      rec(ev(purchaseEvent({ event_time: at })), 3, 'shardId-1'),
    ]);
    const all = await getTrending(store, { window: '5m', now: Date.parse(at), k: 2 });
    expect(all.products).toEqual([
      { product_id: 'b', score: 3 },
      { product_id: 'a', score: 2 },
    ]);
    expect(all.categories).toEqual({ Toys: 2, Books: 3, 'Home & Garden': 2 });
    const toys = await getTrending(store, { window: '5m', now: Date.parse(at), category: 'Toys' });
    expect(toys.products).toEqual([{ product_id: 'a', score: 2 }]);
    const totals = await getWindowTotals(store, { window: '5m', bucketStart: Date.parse(at) });
    expect(totals).toMatchObject({ events: 6, orders: 1, units: 3, revenue: 25.25, cancelled_orders: 0 });
    expect(totals.events_by_type).toEqual({ product_view: 5, purchase: 1 });
    const items = await listWindowItems(store);
    expect(items.map((i) => `${i.window}/${i.shard}`)).toEqual([
      '1h/shardId-0',
      '1h/shardId-1',
      '5m/shardId-0',
      '5m/shardId-1',
    ]);
  });

  it('spreading product counters over slices changes the items, not the answers', async () => {
    const records = Array.from({ length: 400 }, (_, i) =>
      rec(
        i % 10 === 0
          ? ev(purchaseEvent({ event_time: '2026-11-21T10:01:00Z' }))
          : ev(
              wireEvent({
                product_id: `p${i % 97}`,
                category: `c${i % 5}`,
                event_time: '2026-11-21T10:01:00Z',
              }),
            ),
        i,
      ),
    );
    const one = new MemoryFeatureStore();
    const four = new MemoryFeatureStore();
    await applyWindowAggregates(one, records, 1);
    await applyWindowAggregates(four, records.slice(0, 250), 4);
    await applyWindowAggregates(four, records.slice(100), 4); // overlapping replay
    const at = { window: '1h' as const, now: Date.parse('2026-11-21T10:30:00Z'), k: 200 };
    expect(await getTrending(four, at)).toEqual(await getTrending(one, at));
    expect(await getTrending(four, { ...at, category: 'c3' })).toEqual(
      await getTrending(one, { ...at, category: 'c3' }),
    );
    const bucket = { window: '5m' as const, bucketStart: Date.parse('2026-11-21T10:00:00Z') };
    expect(await getWindowTotals(four, bucket)).toEqual(await getWindowTotals(one, bucket));
    const items = await listWindowItems(four);
    expect(items.map((i) => `${i.window}/${i.slice}`)).toEqual([
      '1h/0',
      '1h/1',
      '1h/2',
      '1h/3',
      '5m/0',
      '5m/1',
      '5m/2',
      '5m/3',
    ]);
    expect(items.find((i) => i.slice === 2)?.counters.events).toBeUndefined();
    expect(items.find((i) => i.slice === 2)?.counters.orders).toBeUndefined();
  });

  it('revenue stays exact in cents over many additions', async () => {
    const store = new MemoryFeatureStore();
    const records = Array.from({ length: 300 }, (_, i) =>
      rec(
        ev(
          purchaseEvent({
            items: [
              { product_id: 'p', price: 0.1 },
              { product_id: 'q', price: 0.2 },
            ],
            event_time: '2026-11-21T10:01:00Z',
          }),
        ),
        i,
      ),
    );
    await applyWindowAggregates(store, records.slice(0, 150));
    await applyWindowAggregates(store, records.slice(150));
    const t = await getWindowTotals(store, { window: '5m', bucketStart: Date.parse('2026-11-21T10:01:00Z') });
    expect(t.revenue).toBe(90);
  });

  it('a replayed batch is skipped by the sequence condition; an overlapping one applies only the new part', async () => {
    const store = new MemoryFeatureStore();
    const records = Array.from({ length: 10 }, (_, i) =>
      rec(ev(wireEvent({ product_id: 'x', event_time: '2026-11-21T10:01:00Z' })), i),
    );
    await applyWindowAggregates(store, records.slice(0, 6));
    await applyWindowAggregates(store, records.slice(0, 6));
    await applyWindowAggregates(store, records.slice(3, 10));
    const t = await getWindowTotals(store, { window: '5m', bucketStart: Date.parse('2026-11-21T10:00:00Z') });
    expect(t.events).toBe(10);
    expect(store.stats.conditionalFailures).toBeGreaterThanOrEqual(4);
  });
});
