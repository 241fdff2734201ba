/**
 * The real-time features a stream of events should produce, computed directly and naively
 * from the events — deliberately NOT with the consumer's aggregation code — so the integration
 * tests compare the pipeline against an independent reading of the contract:
 *  - dedup by event_id (copies are ignored);
 *  - 5-minute and 1-hour UTC-aligned tumbling windows by event_time;
 *  - per window: events, events per type, placed orders, units, revenue (cents, exact),
 *    cancelled orders; product interactions (product_view, add_to_cart, review, one per
 *    line of a placed purchase) per product and per category;
 *  - recent items: per session, the newest 20 of (event, product) pairs of its events; per
 *    user, the newest 20 of its own events' pairs plus those of every session it logged into.
 */
import type { GeneratedEvent } from '../../../local/generator/shop.ts';

export const WINDOWS = { '5m': 300_000, '1h': 3_600_000 } as const;
export type Window = keyof typeof WINDOWS;
export const RECENT_CAP = 20;

export interface ExpectedWindow {
  events: number;
  byType: Record<string, number>;
  orders: number;
  units: number;
  revenueCents: number;
  cancelledOrders: number;
  products: Record<string, number>;
  categories: Record<string, number>;
}

export interface ExpectedRecent {
  event_id: string;
  product_id: string;
  event_type: string;
  ts: string;
}

export interface ExpectedFeatures {
  uniqueEvents: number;
  duplicates: number;
  /** `${window}|${bucketStartIso}` → counters. */
  windows: Map<string, ExpectedWindow>;
  users: Map<string, ExpectedRecent[]>;
  sessions: Map<string, ExpectedRecent[]>;
}

type Line = { product_id: string; quantity: number; price: number; category?: string };

function pairsOf(e: GeneratedEvent): ExpectedRecent[] {
  if (e.event_type === 'purchase') {
    const cancelled = (e as { order_status?: string }).order_status === 'cancelled';
    const lines: Line[] =
      e.items ??
      (e.product_id ? [{ product_id: e.product_id, quantity: e.quantity ?? 1, price: e.price ?? 0 }] : []);
    return cancelled
      ? []
      : lines.map((l) => ({
          event_id: e.event_id,
          product_id: l.product_id,
          event_type: e.event_type,
          ts: e.event_time,
        }));
  }
  return e.product_id
    ? [{ event_id: e.event_id, product_id: e.product_id, event_type: e.event_type, ts: e.event_time }]
    : [];
}

function newest(items: ExpectedRecent[]): ExpectedRecent[] {
  const seen = new Map<string, ExpectedRecent>();
  for (const i of items) seen.set(`${i.event_id} ${i.product_id}`, i);
  return [...seen.values()]
    .sort((a, b) => {
      if (a.ts !== b.ts) return a.ts < b.ts ? 1 : -1;
      const ka = `${a.event_id}\u0000${a.product_id}`;
      const kb = `${b.event_id}\u0000${b.product_id}`;
      return ka < kb ? 1 : ka > kb ? -1 : 0;
    })
    .slice(0, RECENT_CAP);
}

export function expectedFeatures(events: Iterable<GeneratedEvent>): ExpectedFeatures {
  const seen = new Set<string>();
  let duplicates = 0;
  const windows = new Map<string, ExpectedWindow>();
  const sessionPairs = new Map<string, ExpectedRecent[]>();
  const userPairs = new Map<string, ExpectedRecent[]>();
  const sessionUser = new Map<string, string>();
  for (const e of events) {
    if (seen.has(e.event_id)) {
      duplicates += 1;
      continue;
    }
    seen.add(e.event_id);
    const t = Date.parse(e.event_time);
    for (const [name, size] of Object.entries(WINDOWS)) {
      const key = `${name}|${new Date(Math.floor(t / size) * size).toISOString()}`;
      let w = windows.get(key);
      if (!w) {
        w = {
          events: 0,
          byType: {},
          orders: 0,
          units: 0,
          revenueCents: 0,
          cancelledOrders: 0,
          products: {},
          categories: {},
        };
        windows.set(key, w);
      }
      w.events += 1;
      w.byType[e.event_type] = (w.byType[e.event_type] ?? 0) + 1;
      const touch = (productId: string, category: string | undefined) => {
        w.products[productId] = (w.products[productId] ?? 0) + 1;
        if (category) w.categories[category] = (w.categories[category] ?? 0) + 1;
      };
      if (e.event_type === 'purchase') {
        const lines: Line[] = e.items ?? [];
        if ((e as { order_status?: string }).order_status === 'cancelled') {
          w.cancelledOrders += 1;
        } else {
          w.orders += 1;
          for (const l of lines) {
            w.units += l.quantity;
            w.revenueCents += l.quantity * Math.round(l.price * 100);
            touch(l.product_id, l.category ?? e.category);
          }
        }
      } else if (
        (e.event_type === 'product_view' || e.event_type === 'add_to_cart' || e.event_type === 'review') &&
        e.product_id
      ) {
        touch(e.product_id, e.category);
      }
    }
    const pairs = pairsOf(e);
    const s = sessionPairs.get(e.session_id) ?? [];
    s.push(...pairs);
    sessionPairs.set(e.session_id, s);
    if (e.user_id) {
      if (!sessionUser.has(e.session_id)) sessionUser.set(e.session_id, e.user_id);
      const u = userPairs.get(e.user_id) ?? [];
      u.push(...pairs);
      userPairs.set(e.user_id, u);
    }
  }
  // Stitching: a session's items (anonymous ones included) belong to the user who logged in.
  for (const [sessionId, userId] of sessionUser) {
    const u = userPairs.get(userId) ?? [];
    u.push(...(sessionPairs.get(sessionId) ?? []));
    userPairs.set(userId, u);
  }
  const users = new Map<string, ExpectedRecent[]>();
  for (const [u, pairs] of userPairs) {
    const list = newest(pairs);
    if (list.length > 0) users.set(u, list);
  }
  const sessions = new Map<string, ExpectedRecent[]>();
  for (const [s, pairs] of sessionPairs) {
    const list = newest(pairs);
    if (list.length > 0) sessions.set(s, list);
  }
  return { uniqueEvents: seen.size, duplicates, windows, users, sessions };
}
