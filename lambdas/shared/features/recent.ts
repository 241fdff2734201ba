/**
 * Recent items per user and per session: what a user/session touched last, newest first,
 * capped. The list is the top-N (by time, then id) of a set keyed by event and product, so
 * merging is idempotent (a replayed event changes nothing), order-independent (late events
 * land in place) and associative (merging capped lists equals capping the merged set).
 */
import type { ShopEvent } from '../event-schema.ts';

export interface RecentItem {
  event_id: string;
  product_id: string;
  event_type: string;
  /** Event time, ISO UTC. */
  ts: string;
}

/** Default length of a recent-items list (`RECENT_ITEMS_CAP` overrides). */
export const DEFAULT_RECENT_ITEMS_CAP = 20;

/**
 * Lifetimes (TTL) counted from the newest item's event time: a user's list is kept 30 days
 * after their last interaction, a session's 1 day (sessions end after 30 idle minutes; the day
 * leaves room for late events and for stitching when the visitor logs in).
 */
export const USER_RECENT_TTL_SECONDS = 30 * 24 * 60 * 60;
export const SESSION_RECENT_TTL_SECONDS = 24 * 60 * 60;

/** Items an event adds: one for a product event, one per line for a placed purchase. */
export function recentItemsOf(event: ShopEvent): RecentItem[] {
  if (event.event_type === 'purchase') {
    if (event.order_status === 'cancelled') return [];
    return (event.items ?? []).map((l) => ({
      event_id: event.event_id,
      product_id: l.product_id,
      event_type: event.event_type,
      ts: event.event_time,
    }));
  }
  if (!event.product_id) return [];
  return [
    {
      event_id: event.event_id,
      product_id: event.product_id,
      event_type: event.event_type,
      ts: event.event_time,
    },
  ];
}

function identity(i: RecentItem): string {
  return `${i.event_id}\u0000${i.product_id}`;
}

/** Newest first; ties broken by event id then product id so the order is total. */
export function compareRecent(a: RecentItem, b: RecentItem): number {
  if (a.ts !== b.ts) return a.ts < b.ts ? 1 : -1;
  const ia = identity(a);
  const ib = identity(b);
  return ia < ib ? 1 : ia > ib ? -1 : 0;
}

/** Union by (event_id, product_id), sorted newest first, capped. */
export function mergeRecent(
  existing: readonly RecentItem[],
  incoming: readonly RecentItem[],
  cap: number,
): RecentItem[] {
  const byId = new Map<string, RecentItem>();
  for (const i of existing) byId.set(identity(i), i);
  for (const i of incoming) if (!byId.has(identity(i))) byId.set(identity(i), i);
  return [...byId.values()].sort(compareRecent).slice(0, cap);
}

function isRecentItem(value: unknown): value is RecentItem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.event_id === 'string' &&
    typeof v.product_id === 'string' &&
    typeof v.event_type === 'string' &&
    typeof v.ts === 'string'
  );
}

/** Reads the `items` attribute of a stored item, ignoring anything malformed. */
export function storedRecentItems(value: unknown): RecentItem[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isRecentItem).map((i) => ({
    event_id: i.event_id,
    product_id: i.product_id,
    event_type: i.event_type,
    ts: i.ts,
  }));
}

export function sameRecentItems(a: readonly RecentItem[], b: readonly RecentItem[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((x, i) => {
    const y = b[i];
    return y !== undefined && identity(x) === identity(y) && x.ts === y.ts && x.event_type === y.event_type;
  });
}

/** TTL (epoch seconds) of a list: newest item's time plus the lifetime. */
export function recentExpiresAt(items: readonly RecentItem[], ttlSeconds: number): number | undefined {
  const newest = items[0];
  return newest ? Math.floor(Date.parse(newest.ts) / 1000) + ttlSeconds : undefined;
}
