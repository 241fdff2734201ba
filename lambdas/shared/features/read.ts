/**
 * Read side of the real-time features, for the serving layer (recommendations API), the demo
 * summary and tests. Window counters are stored per shard; readers sum the shard items of a
 * bucket (one Query), so writers never contend on a hot item.
 */
import { decodeKeyText, encodeKeyText } from '../keys.ts';
import { ATTR, parseProductAttr, sessionRecentKey, userRecentKey, windowPk } from './feature-keys.ts';
import { type RecentItem, storedRecentItems } from './recent.ts';
import type { FeatureItem, FeatureReader } from './store.ts';
import { bucketStart, type WindowName } from './windows.ts';

/**
 * Recent items of a user (preferred when both are given) or a session, newest first. The
 * serving layer uses them as the seed of "because you viewed" and for cold-start sessions.
 */
export async function getRecentItems(
  store: FeatureReader,
  target: { userId?: string; sessionId?: string },
  limit = 20,
): Promise<RecentItem[]> {
  const key = target.userId
    ? userRecentKey(target.userId)
    : target.sessionId
      ? sessionRecentKey(target.sessionId)
      : undefined;
  if (!key) return [];
  const item = await store.get(key);
  return storedRecentItems(item?.items).slice(0, Math.max(0, limit));
}

export interface TrendingProduct {
  product_id: string;
  /** Interactions in the window (views, carts, reviews, purchase lines). */
  score: number;
}

export interface TrendingOptions {
  readonly window: WindowName;
  /** Epoch ms; the bucket containing it is read. */
  readonly now: number;
  /** Only products seen with this category (raw category text). */
  readonly category?: string;
  /** How many products. @default 10 */
  readonly k?: number;
}

export interface TrendingResult {
  window: WindowName;
  bucket_start: string;
  products: TrendingProduct[];
  /** Interactions per category in the bucket (decoded names). */
  categories: Record<string, number>;
}

/** Sums counters of all shard items of one bucket. */
async function bucketItems(
  store: FeatureReader,
  window: WindowName,
  bucketStartMs: number,
): Promise<FeatureItem[]> {
  return store.queryPartition(windowPk(window, bucketStartMs));
}

/**
 * Top-k products of the current 5-minute or 1-hour bucket, summed across shards; ties by
 * product id so the answer is stable.
 */
export async function getTrending(store: FeatureReader, options: TrendingOptions): Promise<TrendingResult> {
  const start = bucketStart(options.now, options.window);
  const items = await bucketItems(store, options.window, start);
  const wanted = options.category === undefined ? undefined : encodeKeyText(options.category);
  const scores = new Map<string, number>();
  const categories: Record<string, number> = {};
  for (const item of items) {
    for (const [name, value] of Object.entries(item)) {
      if (typeof value !== 'number') continue;
      if (name.startsWith('c#')) {
        const cat = decodeKeyText(name.slice(2));
        categories[cat] = (categories[cat] ?? 0) + value;
        continue;
      }
      const parsed = parseProductAttr(name);
      if (!parsed) continue;
      if (wanted !== undefined && parsed.encodedCategory !== wanted) continue;
      scores.set(parsed.productId, (scores.get(parsed.productId) ?? 0) + value);
    }
  }
  const products = [...scores.entries()]
    .filter(([, score]) => score > 0)
    .map(([product_id, score]) => ({ product_id, score }))
    .sort((a, b) => b.score - a.score || (a.product_id < b.product_id ? -1 : 1))
    .slice(0, options.k ?? 10);
  return { window: options.window, bucket_start: new Date(start).toISOString(), products, categories };
}

export interface WindowTotals {
  window: WindowName;
  bucket_start: string;
  /** Revenue of placed orders in the bucket, currency units (exact: summed as cents). */
  revenue: number;
  orders: number;
  units: number;
  cancelled_orders: number;
  cancelled_revenue: number;
  events: number;
  /** Events per event type. */
  events_by_type: Record<string, number>;
}

function num(item: FeatureItem, name: string): number {
  const v = item[name];
  return typeof v === 'number' ? v : 0;
}

/** Real-time revenue / orders / units / cancellations / events of one bucket, all shards. */
export async function getWindowTotals(
  store: FeatureReader,
  options: { window: WindowName; bucketStart: number },
): Promise<WindowTotals> {
  const start = bucketStart(options.bucketStart, options.window);
  const items = await bucketItems(store, options.window, start);
  let revenueCents = 0;
  let cancelledCents = 0;
  const totals = { orders: 0, units: 0, cancelled_orders: 0, events: 0 };
  const byType: Record<string, number> = {};
  for (const item of items) {
    revenueCents += num(item, ATTR.revenueCents);
    cancelledCents += num(item, ATTR.cancelledRevenueCents);
    totals.orders += num(item, ATTR.orders);
    totals.units += num(item, ATTR.units);
    totals.cancelled_orders += num(item, ATTR.cancelledOrders);
    totals.events += num(item, ATTR.events);
    for (const [name, value] of Object.entries(item)) {
      if (name.startsWith('e#') && typeof value === 'number')
        byType[name.slice(2)] = (byType[name.slice(2)] ?? 0) + value;
    }
  }
  return {
    window: options.window,
    bucket_start: new Date(start).toISOString(),
    revenue: revenueCents / 100,
    cancelled_revenue: cancelledCents / 100,
    ...totals,
    events_by_type: byType,
  };
}

/** One window item as stored (per shard), for tests and local inspection. */
export interface WindowItemView {
  window: WindowName;
  bucket_start: string;
  shard: string;
  /** 0 unless product counters are spread over several items (`TREND_SLICES`). */
  slice: number;
  counters: Record<string, number>;
}

/**
 * Every window item in the table, sorted. Scans: for tests and the local demo only, never for
 * serving.
 */
export async function listWindowItems(store: FeatureReader): Promise<WindowItemView[]> {
  const out: WindowItemView[] = [];
  for (const item of await store.scanAll()) {
    const parts = item.pk.split('#');
    if (parts[0] !== 'TREND' || (parts[1] !== '5m' && parts[1] !== '1h') || !parts[2]) continue;
    const counters: Record<string, number> = {};
    for (const [name, value] of Object.entries(item)) {
      if (typeof value === 'number' && name !== ATTR.expiresAt) counters[name] = value;
    }
    const skParts = item.sk.split('#');
    out.push({
      window: parts[1],
      bucket_start: parts[2],
      shard: decodeKeyText(skParts[1] ?? ''),
      slice: Number(skParts[2] ?? 0),
      counters,
    });
  }
  return out.sort((a, b) =>
    a.window !== b.window
      ? a.window < b.window
        ? -1
        : 1
      : a.bucket_start !== b.bucket_start
        ? a.bucket_start < b.bucket_start
          ? -1
          : 1
        : a.shard !== b.shard
          ? a.shard < b.shard
            ? -1
            : 1
          : a.slice - b.slice,
  );
}

/**
 * The table's feature state without the bookkeeping that legitimately depends on batch
 * boundaries or on Kinesis sequence numbers: `version` (counts writes of a recent-items list),
 * `seq` (last applied sequence number of a window item) and the dedup markers (they hold
 * sequence numbers and a processing-time TTL). Sorted by key. Two runs over the same events —
 * with or without faults, replays, re-puts or different batch sizes — must give equal results.
 */
export async function comparableFeatureState(store: FeatureReader): Promise<FeatureItem[]> {
  const items = await store.scanAll();
  return items
    .filter((item) => !item.pk.startsWith('EVENT#'))
    .map((item) => {
      const { version: _version, seq: _seq, ...rest } = item;
      return rest;
    })
    .sort((a, b) => (a.pk !== b.pk ? (a.pk < b.pk ? -1 : 1) : a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0));
}
