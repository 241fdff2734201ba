/**
 * The browser tracker (clients/web) with a fake clock, a fake fetch and a fake localStorage:
 * batching by size and time, backoff on 429/5xx, per-event retries, consent, session rotation,
 * identify, event ids, the offline queue cap and page-hide delivery. The real-browser test is
 * test/browser/tracker-chromium.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildTracker, SIZE_BUDGET_BYTES } from '../../clients/web/build.ts';
import {
  createTracker,
  impressionOf,
  SESSION_TIMEOUT_MS,
  type TrackedEvent,
  type TrackerEnv,
  type TrackerOptions,
} from '../../clients/web/src/index.ts';
import { parseEvent } from '../../lambdas/shared/event-schema.ts';

interface Call {
  at: number;
  url: string;
  headers: Record<string, string>;
  events: TrackedEvent[];
  keepalive: boolean;
}

/** A fake browser: manual clock with timers, an in-memory storage, a scripted fetch. */
function fakeBrowser(statuses: (number | 'offline' | ((events: TrackedEvent[]) => unknown))[] = []) {
  let t = Date.parse('2026-11-21T10:00:00.000Z');
  let timers: { at: number; fn: () => void; id: number }[] = [];
  let nextId = 1;
  const store = new Map<string, string>();
  const calls: Call[] = [];
  const beacons: { url: string; events: TrackedEvent[] }[] = [];
  let hide: (() => void) | undefined;
  let seed = 1;
  const env: TrackerEnv = {
    now: () => t,
    random: () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    },
    setTimeout: (fn, ms) => {
      const id = nextId++;
      timers.push({ at: t + ms, fn, id });
      return id;
    },
    clearTimeout: (id) => {
      timers = timers.filter((x) => x.id !== id);
    },
    storage: {
      getItem: (k) => store.get(k) ?? null,
      setItem: (k, v) => void store.set(k, v),
      removeItem: (k) => void store.delete(k),
    },
    fetch: async (url, init) => {
      const events = (JSON.parse(init.body as string) as { events: TrackedEvent[] }).events;
      calls.push({
        at: t,
        url,
        headers: init.headers as Record<string, string>,
        events,
        keepalive: init.keepalive === true,
      });
      const next = statuses.shift() ?? 200;
      if (next === 'offline') throw new TypeError('Failed to fetch');
      if (typeof next === 'function') return { status: 200, json: async () => next(events) };
      return {
        status: next,
        json: async () => ({
          results: events.map((e, index) => ({ index, event_id: e.event_id, status: 'accepted' })),
        }),
      };
    },
    sendBeacon: (url, body) => {
      beacons.push({ url, events: (JSON.parse(body) as { events: TrackedEvent[] }).events });
      return true;
    },
    location: { search: '?utm_source=news&utm_campaign=black-friday&x=1', hostname: 'shop.example' },
    referrer: 'https://www.search.example/?q=shoes',
    userAgent: 'Mozilla/5.0 (X11; Linux x86_64)',
    onHide: (fn) => {
      hide = fn;
    },
  };
  /** Advances the clock, running due timers (and letting their promises settle). */
  async function advance(ms: number): Promise<void> {
    const end = t + ms;
    for (;;) {
      await settle();
      const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      timers = timers.filter((x) => x !== due);
      t = Math.max(t, due.at);
      due.fn();
    }
    t = end;
    await settle();
  }
  return {
    env,
    store,
    calls,
    beacons,
    advance,
    hide: () => hide?.(),
    pendingTimers: () => timers.length,
  };
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

const endpoint = 'https://api.example/v1/events';
function tracker(b: ReturnType<typeof fakeBrowser>, options: Partial<TrackerOptions> = {}) {
  return createTracker({ endpoint, batchSize: 3, flushIntervalMs: 5000, ...options }, b.env);
}

describe('web tracker', () => {
  it('produces events the contract accepts, with unique ids, utm, referrer and device', async () => {
    const b = fakeBrowser();
    const t = tracker(b, { batchSize: 10 });
    const ids = [
      t.track('page_view', { page_type: 'home' }),
      t.track('product_view', { product_id: 'p1', category: 'shoes' }),
      t.track('add_to_cart', { product_id: 'p1', price: 19.99, quantity: 2 }),
      t.track('purchase', { order_id: 'o1', items: [{ product_id: 'p1', price: 19.99, quantity: 2 }] }),
      t.track('review', { product_id: 'p1', rating: 5, text: 'good' }),
    ];
    expect(new Set(ids).size).toBe(5);
    await t.flush();
    const sent = b.calls[0]?.events ?? [];
    expect(sent.map((e) => e.event_id)).toEqual(ids);
    for (const e of sent) {
      const parsed = parseEvent(e, { now: b.env.now });
      expect(parsed.ok, JSON.stringify(parsed)).toBe(true);
      expect(e).toMatchObject({
        utm_source: 'news',
        utm_campaign: 'black-friday',
        referrer: 'https://www.search.example/?q=shoes',
        device: 'desktop',
      });
    }
  });

  it('batches by size and by time', async () => {
    const b = fakeBrowser();
    const t = tracker(b);
    t.track('page_view');
    t.track('page_view');
    await b.advance(0);
    expect(b.calls).toHaveLength(0);
    t.track('page_view'); // third event: a full batch goes at once
    await b.advance(0);
    expect(b.calls.map((c) => c.events.length)).toEqual([3]);
    t.track('search', { query: 'red shoes' });
    await b.advance(4999);
    expect(b.calls).toHaveLength(1);
    await b.advance(1); // the flush interval
    expect(b.calls.map((c) => c.events.length)).toEqual([3, 1]);
    expect(t.queued()).toHaveLength(0);
    expect(b.pendingTimers()).toBe(0);
  });

  it('retries 429, 5xx and network errors with growing backoff, with the same event ids', async () => {
    const b = fakeBrowser([429, 503, 'offline', 500, 200]);
    const t = tracker(b, { retryBaseMs: 1000, retryMaxMs: 60_000 });
    const ids = [t.track('page_view'), t.track('page_view'), t.track('page_view')];
    await b.advance(120_000);
    expect(b.calls).toHaveLength(5);
    for (const c of b.calls) expect(c.events.map((e) => e.event_id)).toEqual(ids);
    const gaps = b.calls.slice(1).map((c, i) => c.at - (b.calls[i] as Call).at);
    // base·2^n with jitter in [0.5, 1): each delay in its band, so they grow.
    gaps.forEach((g, n) => {
      expect(g).toBeGreaterThanOrEqual(1000 * 2 ** n * 0.5);
      expect(g).toBeLessThan(1000 * 2 ** n);
    });
    expect(t.queued()).toHaveLength(0);
  });

  it('caps the backoff delay', async () => {
    const b = fakeBrowser(Array(12).fill(503));
    const t = tracker(b, { retryBaseMs: 1000, retryMaxMs: 8000 });
    t.track('page_view');
    await t.flush();
    await b.advance(200_000);
    const gaps = b.calls.slice(1).map((c, i) => c.at - (b.calls[i] as Call).at);
    expect(Math.max(...gaps)).toBeLessThan(8000);
    expect(gaps.slice(-3).every((g) => g >= 4000)).toBe(true);
  });

  it('resends only the events the API answered `failed`; drops batches a 4xx refuses', async () => {
    const b = fakeBrowser([
      (events: TrackedEvent[]) => ({
        results: events.map((e, index) => ({
          index,
          event_id: e.event_id,
          status: index === 1 ? 'failed' : 'accepted',
        })),
      }),
      200,
      403,
    ]);
    const t = tracker(b);
    const ids = [t.track('page_view'), t.track('page_view'), t.track('page_view')];
    await b.advance(10_000);
    expect(b.calls.map((c) => c.events.map((e) => e.event_id))).toEqual([ids, [ids[1]]]);
    t.track('page_view');
    await t.flush();
    expect(b.calls).toHaveLength(3);
    expect(t.queued()).toHaveLength(0); // a 403 cannot be fixed by resending
    await b.advance(120_000);
    expect(b.calls).toHaveLength(3);
  });

  it('keeps an offline queue in storage, capped, and sends it on the next page', async () => {
    const b = fakeBrowser(Array(100).fill('offline'));
    const t = tracker(b, { maxQueue: 5, batchSize: 50 });
    for (let i = 0; i < 8; i += 1) t.track('search', { query: `q${i}` });
    await b.advance(1000);
    const stored = JSON.parse(b.store.get('shoplake.queue') ?? '[]') as TrackedEvent[];
    expect(stored.map((e) => e.query)).toEqual(['q3', 'q4', 'q5', 'q6', 'q7']);
    // A new page (new tracker) on a network that works again.
    const b2 = fakeBrowser();
    for (const [k, v] of b.store) b2.store.set(k, v);
    createTracker({ endpoint, batchSize: 50 }, b2.env);
    await b2.advance(0);
    expect(b2.calls[0]?.events.map((e) => e.query)).toEqual(['q3', 'q4', 'q5', 'q6', 'q7']);
    expect(JSON.parse(b2.store.get('shoplake.queue') ?? '[]')).toEqual([]);
  });

  it('sends and stores nothing before consent when consent is required', async () => {
    const b = fakeBrowser();
    const t = tracker(b, { requireConsent: true, batchSize: 1 });
    expect(t.track('page_view')).toBeUndefined();
    t.identify('u1');
    await b.advance(60_000);
    expect(b.calls).toHaveLength(0);
    expect(b.store.size).toBe(0);
    b.hide();
    expect(b.beacons).toHaveLength(0);
    t.consent(true);
    t.track('page_view');
    await b.advance(0);
    expect(b.calls).toHaveLength(1);
    expect(b.calls[0]?.events[0]?.user_id).toBe('u1');
    expect(b.store.get('shoplake.consent')).toBe('true');
    // Withdrawn: queue and identifiers are forgotten.
    t.consent(false);
    expect(b.store.size).toBe(0);
    t.track('page_view');
    await b.advance(60_000);
    expect(b.calls).toHaveLength(1);
  });

  it('rotates the session after 30 minutes without events, not before', async () => {
    const b = fakeBrowser();
    const t = tracker(b, { batchSize: 100 });
    t.track('page_view');
    const first = t.sessionId();
    await b.advance(SESSION_TIMEOUT_MS); // exactly 30 min: the lake keeps it in the session
    t.track('page_view');
    expect(t.sessionId()).toBe(first);
    await b.advance(SESSION_TIMEOUT_MS + 1);
    t.track('page_view');
    const second = t.sessionId();
    expect(second).not.toBe(first);
    await t.flush();
    expect(b.calls.flatMap((c) => c.events.map((e) => e.session_id))).toEqual([first, first, second]);
    // A reload within the session keeps it (stored).
    const again = createTracker({ endpoint }, b.env);
    expect(again.sessionId()).toBe(second);
  });

  it('identify keeps the anonymous session id and tags later events', async () => {
    const b = fakeBrowser();
    const t = tracker(b, { batchSize: 100 });
    t.track('product_view', { product_id: 'p1' });
    const anonymous = t.sessionId();
    t.identify('user-42');
    t.track('add_to_cart', { product_id: 'p1' });
    await t.flush();
    const [a, c] = b.calls[0]?.events ?? [];
    expect(a?.session_id).toBe(anonymous);
    expect(c?.session_id).toBe(anonymous);
    expect(a?.user_id).toBeUndefined();
    expect(c?.user_id).toBe('user-42');
  });

  it('hands the queue to sendBeacon on page hide; keepalive fetch when an API key is set', async () => {
    const b = fakeBrowser();
    const t = tracker(b, { batchSize: 100 });
    const ids = [t.track('page_view'), t.track('product_view', { product_id: 'p9' })];
    b.hide();
    expect(b.beacons.map((x) => x.events.map((e) => e.event_id))).toEqual([ids]);
    expect(t.queued()).toHaveLength(0);

    const k = fakeBrowser();
    const t2 = tracker(k, { batchSize: 100, apiKey: 'public-key' });
    t2.track('page_view');
    k.hide();
    await settle();
    expect(k.beacons).toHaveLength(0);
    expect(k.calls[0]).toMatchObject({ keepalive: true, headers: { 'x-api-key': 'public-key' } });
  });

  it('fits the size budget (minified IIFE, gzip) and bundles no dependency', async () => {
    const r = await buildTracker();
    expect(r.gzipBytes).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
    const { readFileSync } = await import('node:fs');
    const { IIFE_FILE } = await import('../../clients/web/build.ts');
    const code = readFileSync(IIFE_FILE, 'utf8');
    expect(code).not.toMatch(/zod|require\(/);
    expect(code).toMatch(/var shoplake=/);
  });
});

describe('impressionOf', () => {
  it('turns an A/B answer into an impression the contract accepts with its test and arm', () => {
    const props = impressionOf(
      {
        rec_id: 'v2:0123456789ab',
        model_version: 'v2',
        ab: { experiment: 'exp-1', arm: 'B' },
        items: [{ product_id: 'p-1' }, { product_id: 'p-2' }, { product_id: 'p-3' }],
      },
      2,
    );
    const r = parseEvent(
      {
        event_id: 'e-1',
        event_type: 'recommendation_impression',
        event_time: '2026-11-21T10:00:00.000Z',
        session_id: 's-1',
        ...props,
      },
      { now: () => Date.parse('2026-11-21T10:00:01.000Z') },
    );
    expect(r.ok && r.event.attributes).toEqual({
      rec_items: 'p-1,p-2',
      model_version: 'v2',
      ab_experiment: 'exp-1',
      ab_arm: 'B',
    });
    expect(impressionOf({ rec_id: 'v1:0123456789ab', model_version: 'v1', ab: null, items: [] })).toEqual({
      rec_id: 'v1:0123456789ab',
      rec_items: [],
      model_version: 'v1',
    });
  });
});
