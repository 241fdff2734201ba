import { describe, expect, it } from 'vitest';
import type { ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { applyRecentItems, findDuplicates, writeDedupMarkers } from '../../lambdas/shared/features/apply.ts';
import { padSequence } from '../../lambdas/shared/features/feature-keys.ts';
import { MemoryFeatureStore } from '../../lambdas/shared/features/memory-store.ts';
import { getRecentItems } from '../../lambdas/shared/features/read.ts';
import {
  mergeRecent,
  type RecentItem,
  recentItemsOf,
  SESSION_RECENT_TTL_SECONDS,
  USER_RECENT_TTL_SECONDS,
} from '../../lambdas/shared/features/recent.ts';
import { NOW, now, parsedEvent, purchaseEvent, wireEvent } from '../fixtures/events.ts';

const ev = parsedEvent;

let seq = 0;
const rec = (event: ShopEvent, shardId = 'shardId-000000000000') => {
  seq += 1;
  return { event, shardId, seq: padSequence(String(seq)) };
};

const item = (id: string, minute: number, product = `p-${id}`): RecentItem => ({
  event_id: id,
  product_id: product,
  event_type: 'product_view',
  ts: `2026-11-21T10:${String(minute).padStart(2, '0')}:00.000Z`,
});

describe('mergeRecent', () => {
  it('keeps newest first and caps', () => {
    const merged = mergeRecent([item('a', 1), item('b', 3)], [item('c', 2), item('d', 4)], 3);
    expect(merged.map((i) => i.event_id)).toEqual(['d', 'b', 'c']);
  });

  it('is idempotent: merging the same items again changes nothing', () => {
    const once = mergeRecent([], [item('a', 1), item('b', 2)], 20);
    expect(mergeRecent(once, [item('a', 1), item('b', 2)], 20)).toEqual(once);
  });

  it('is order-independent and associative under the cap (late events land in place)', () => {
    const all = Array.from({ length: 30 }, (_, i) => item(`e${i}`, i % 60));
    const oneShot = mergeRecent([], all, 10);
    let stepwise: RecentItem[] = [];
    for (const chunk of [all.slice(20), all.slice(0, 7), all.slice(7, 20)])
      stepwise = mergeRecent(stepwise, chunk, 10);
    expect(stepwise).toEqual(oneShot);
  });

  it('breaks ties deterministically', () => {
    const a = mergeRecent([], [item('x', 5), item('y', 5)], 5);
    const b = mergeRecent([], [item('y', 5), item('x', 5)], 5);
    expect(a).toEqual(b);
  });

  it('one item per purchase line, none for cancellations or product-less events', () => {
    expect(recentItemsOf(ev(purchaseEvent())).map((i) => i.product_id)).toEqual(['p-1', 'p-2']);
    expect(recentItemsOf(ev(purchaseEvent({ order_status: 'cancelled' })))).toEqual([]);
    expect(recentItemsOf(ev(wireEvent({ event_type: 'page_view', product_id: null })))).toEqual([]);
  });
});

describe('applyRecentItems', () => {
  it('writes user and session lists with TTLs from the newest item', async () => {
    const store = new MemoryFeatureStore();
    await applyRecentItems(
      store,
      [
        rec(
          ev(
            wireEvent({
              event_id: 'v1',
              user_id: 'u-1',
              session_id: 's-a',
              product_id: 'p1',
              event_time: '2026-11-21T10:00:00Z',
            }),
          ),
        ),
        rec(
          ev(
            wireEvent({
              event_id: 'v2',
              user_id: 'u-1',
              session_id: 's-a',
              product_id: 'p2',
              event_time: '2026-11-21T10:01:00Z',
            }),
          ),
        ),
      ],
      20,
    );
    const user = await store.get({ pk: 'USER#u-1', sk: 'RECENT' });
    const session = await store.get({ pk: 'SESSION#s-a', sk: 'RECENT' });
    expect((await getRecentItems(store, { userId: 'u-1' }, 10)).map((i) => i.product_id)).toEqual([
      'p2',
      'p1',
    ]);
    expect(session?.user_id).toBe('u-1');
    const newest = Date.parse('2026-11-21T10:01:00Z') / 1000;
    expect(user?.expires_at).toBe(newest + USER_RECENT_TTL_SECONDS);
    expect(session?.expires_at).toBe(newest + SESSION_RECENT_TTL_SECONDS);
    expect(user?.version).toBe(1);
  });

  it('caps lists and skips the write when a replay changes nothing', async () => {
    const store = new MemoryFeatureStore();
    const records = Array.from({ length: 30 }, (_, i) =>
      rec(
        ev(
          wireEvent({
            event_id: `c${i}`,
            user_id: 'u-2',
            session_id: 's-c',
            product_id: `p${i}`,
            event_time: `2026-11-21T10:${String(i).padStart(2, '0')}:00Z`,
          }),
        ),
      ),
    );
    await applyRecentItems(store, records, 5);
    const writes = store.stats.writeRequests;
    await applyRecentItems(store, records, 5);
    expect(store.stats.writeRequests).toBe(writes);
    expect((await getRecentItems(store, { userId: 'u-2' }, 50)).map((i) => i.product_id)).toEqual([
      'p29',
      'p28',
      'p27',
      'p26',
      'p25',
    ]);
    expect(await getRecentItems(store, { userId: 'u-2' }, 2)).toHaveLength(2);
  });

  it('stitches an anonymous session into the user who logs in, in a later batch', async () => {
    const store = new MemoryFeatureStore();
    await applyRecentItems(
      store,
      [
        rec(
          ev(
            wireEvent({
              event_id: 'a1',
              session_id: 's-anon',
              product_id: 'pa',
              event_time: '2026-11-21T09:00:00Z',
            }),
          ),
        ),
        rec(
          ev(
            wireEvent({
              event_id: 'a2',
              session_id: 's-anon',
              product_id: 'pb',
              event_time: '2026-11-21T09:01:00Z',
            }),
          ),
        ),
      ],
      20,
    );
    expect(await getRecentItems(store, { sessionId: 's-anon' })).toHaveLength(2);
    // The login itself is a page view: no product, but it names the user.
    await applyRecentItems(
      store,
      [
        rec(
          ev(
            wireEvent({
              event_id: 'l1',
              event_type: 'page_view',
              product_id: null,
              session_id: 's-anon',
              user_id: 'u-9',
              event_time: '2026-11-21T09:02:00Z',
            }),
          ),
        ),
      ],
      20,
    );
    expect((await getRecentItems(store, { userId: 'u-9' })).map((i) => i.product_id)).toEqual(['pb', 'pa']);
    // A late anonymous event of the linked session still reaches the user.
    await applyRecentItems(
      store,
      [
        rec(
          ev(
            wireEvent({
              event_id: 'a0',
              session_id: 's-anon',
              product_id: 'pz',
              event_time: '2026-11-21T08:59:00Z',
            }),
          ),
        ),
      ],
      20,
    );
    expect((await getRecentItems(store, { userId: 'u-9' })).map((i) => i.product_id)).toEqual([
      'pb',
      'pa',
      'pz',
    ]);
    expect((await store.get({ pk: 'SESSION#s-anon', sk: 'RECENT' }))?.user_id).toBe('u-9');
  });

  it('stitching within one batch gives the same state as across batches', async () => {
    const events = [
      wireEvent({ event_id: 'b1', session_id: 's-x', product_id: 'q1', event_time: '2026-11-21T09:00:00Z' }),
      wireEvent({
        event_id: 'b2',
        session_id: 's-x',
        product_id: 'q2',
        user_id: 'u-x',
        event_time: '2026-11-21T09:01:00Z',
      }),
      wireEvent({
        event_id: 'b3',
        session_id: 's-y',
        product_id: 'q3',
        user_id: 'u-x',
        event_time: '2026-11-21T09:02:00Z',
      }),
    ].map((e) => rec(ev(e)));
    const one = new MemoryFeatureStore();
    await applyRecentItems(one, events, 20);
    const split = new MemoryFeatureStore();
    for (const r of events) await applyRecentItems(split, [r], 20);
    const strip = (items: Awaited<ReturnType<MemoryFeatureStore['scanAll']>>) =>
      items.map(({ version: _v, ...rest }) => rest).sort((a, b) => (a.pk < b.pk ? -1 : 1));
    expect(strip(await split.scanAll())).toEqual(strip(await one.scanAll()));
    expect((await getRecentItems(one, { userId: 'u-x' })).map((i) => i.product_id)).toEqual([
      'q3',
      'q2',
      'q1',
    ]);
  });

  it('retries a conflicting write with a fresh read (optimistic concurrency)', async () => {
    const store = new MemoryFeatureStore();
    await applyRecentItems(
      store,
      [rec(ev(wireEvent({ event_id: 'o1', user_id: 'u-o', session_id: 's-o1' })))],
      20,
    );
    // Another shard updates the same user between our read and our write.
    const stale = await store.get({ pk: 'USER#u-o', sk: 'RECENT' });
    expect(stale?.version).toBe(1);
    let raced = false;
    const original = store.putIfVersion.bind(store);
    store.putIfVersion = async (it, expected) => {
      if (!raced && it.pk === 'USER#u-o') {
        raced = true;
        await original(
          {
            ...it,
            items: [
              ...(Array.isArray(it.items) ? it.items : []),
              {
                event_id: 'other',
                product_id: 'px',
                event_type: 'product_view',
                ts: '2026-11-21T08:00:00.000Z',
              },
            ],
          },
          expected,
        );
      }
      return original(it, expected);
    };
    await applyRecentItems(
      store,
      [rec(ev(wireEvent({ event_id: 'o2', user_id: 'u-o', session_id: 's-o2', product_id: 'p-new' })))],
      20,
    );
    const ids = (await getRecentItems(store, { userId: 'u-o' })).map((i) => i.event_id);
    expect(ids).toContain('other');
    expect(ids).toContain('o2');
    expect(store.stats.conditionalFailures).toBe(1);
  });
});

describe('dedup markers', () => {
  it('first occurrence wins within a batch, markers catch later copies, own markers mean replay', async () => {
    const store = new MemoryFeatureStore();
    const e1 = rec(ev(wireEvent({ event_id: 'd1' })));
    const e1copy = rec(ev(wireEvent({ event_id: 'd1' })));
    const e2 = rec(ev(wireEvent({ event_id: 'd2' })));
    const first = await findDuplicates(store, [e1, e1copy, e2]);
    expect(first.fresh.map((r) => r.seq)).toEqual([e1.seq, e2.seq]);
    expect(first.duplicates).toEqual([e1copy]);
    await writeDedupMarkers(store, first.fresh, { now, ttlDays: 7 });
    const marker = await store.get({ pk: 'EVENT#d1', sk: 'EVENT' });
    expect(marker).toMatchObject({
      shard: e1.shardId,
      seq: e1.seq,
      expires_at: Math.floor(NOW / 1000) + 7 * 86_400,
    });

    const again = await findDuplicates(store, [e1, e2]);
    expect(again.replayed).toHaveLength(2);
    expect(again.fresh).toHaveLength(0);

    const later = rec(ev(wireEvent({ event_id: 'd2' })));
    const third = await findDuplicates(store, [later]);
    expect(third.duplicates).toEqual([later]);
  });

  it('writes markers in BatchWriteItem requests of 25', async () => {
    const store = new MemoryFeatureStore();
    const records = Array.from({ length: 60 }, (_, i) => rec(ev(wireEvent({ event_id: `m${i}` }))));
    await writeDedupMarkers(store, records, { now });
    expect(store.stats.writeRequests).toBe(3);
    expect(store.size).toBe(60);
  });
});

describe('session lists are batched', () => {
  it('writes the lists of many sessions in BatchWriteItem requests of 25, users one conditional put each', async () => {
    const store = new MemoryFeatureStore();
    const records = Array.from({ length: 60 }, (_, i) =>
      rec(
        ev(
          wireEvent({
            event_id: `b${i}`,
            session_id: `s-b${i}`,
            user_id: i < 5 ? `u-b${i}` : null,
            product_id: `p${i}`,
            event_time: '2026-11-21T09:00:00Z',
          }),
        ),
      ),
    );
    await applyRecentItems(store, records, 20);
    // 5 users → 5 conditional puts; 60 session lists → ceil(60 / 25) = 3 batch writes.
    expect(store.stats.writeRequests).toBe(8);
    expect((await getRecentItems(store, { sessionId: 's-b59' })).map((i) => i.product_id)).toEqual(['p59']);
    expect((await getRecentItems(store, { userId: 'u-b3' })).map((i) => i.product_id)).toEqual(['p3']);
  });
});
