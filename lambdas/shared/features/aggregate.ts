/**
 * Window aggregation: what one event adds to the trending / revenue counters of its windows,
 * and how a batch of events becomes one conditional UpdateItem per window item.
 *
 * Counters of a window item (all top-level numbers, so DynamoDB `ADD` can update them):
 *  - `events`, `e#<event_type>`            every event / per type (funnel),
 *  - `p#<product_id>[#<category>]`         product interactions: product_view, add_to_cart,
 *                                          review, and one per line of a placed purchase,
 *  - `c#<category>`                        the same interactions per category,
 *  - `orders`, `units`, `revenue_cents`    placed purchases (revenue in integer cents, exact),
 *  - `cancelled_orders`, `cancelled_revenue_cents`  purchases with `order_status: cancelled`
 *                                          (not in orders/units/revenue, not interactions).
 */
import { purchaseRevenue, type ShopEvent } from '../event-schema.ts';
import {
  ATTR,
  categoryAttr,
  eventTypeAttr,
  type FeatureKey,
  productAttr,
  windowKey,
} from './feature-keys.ts';
import { DYNAMO_LIMITS } from './store.ts';
import { bucketStart, WINDOW_NAMES, type WindowName, windowExpiresAt } from './windows.ts';

/** Event types that count as an interaction with their product for trending. */
export const INTERACTION_EVENT_TYPES: ReadonlySet<string> = new Set([
  'product_view',
  'add_to_cart',
  'review',
]);

function bump(deltas: Map<string, number>, name: string, by = 1): void {
  deltas.set(name, (deltas.get(name) ?? 0) + by);
}

/** Counter deltas one event contributes to each of its windows (same for 5m and 1h). */
export function windowContributions(event: ShopEvent): Map<string, number> {
  const deltas = new Map<string, number>();
  bump(deltas, ATTR.events);
  bump(deltas, eventTypeAttr(event.event_type));
  if (event.event_type === 'purchase') {
    const cents = Math.round(purchaseRevenue(event) * 100);
    if (event.order_status === 'cancelled') {
      bump(deltas, ATTR.cancelledOrders);
      bump(deltas, ATTR.cancelledRevenueCents, cents);
      return deltas;
    }
    bump(deltas, ATTR.orders);
    bump(deltas, ATTR.revenueCents, cents);
    for (const line of event.items ?? []) {
      bump(deltas, ATTR.units, line.quantity);
      const category = line.category ?? event.category;
      bump(deltas, productAttr(line.product_id, category));
      if (category) bump(deltas, categoryAttr(category));
    }
    return deltas;
  }
  if (INTERACTION_EVENT_TYPES.has(event.event_type) && event.product_id) {
    bump(deltas, productAttr(event.product_id, event.category));
    if (event.category) bump(deltas, categoryAttr(event.category));
  }
  return deltas;
}

/** One record's contribution to one window item. */
export interface SeqContribution {
  /** Padded sequence number (see `padSequence`). */
  readonly seq: string;
  readonly deltas: ReadonlyMap<string, number>;
}

/** All contributions of a batch to one window item, in sequence order. */
export interface WindowItemPlan {
  readonly key: FeatureKey;
  readonly window: WindowName;
  readonly bucketStartMs: number;
  readonly expiresAt: number;
  readonly contributions: SeqContribution[];
}

/** A record ready for the feature writes: validated, with its shard and padded sequence number. */
export interface FeatureRecord {
  readonly event: ShopEvent;
  readonly shardId: string;
  /** Padded to 128 characters. */
  readonly seq: string;
}

/** The records in sequence order (a new array; padded sequence numbers compare as strings). */
export function inSequenceOrder(records: readonly FeatureRecord[]): FeatureRecord[] {
  return [...records].sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0));
}

/**
 * Default number of items the product/category counters of one (window, bucket, shard) are
 * spread over. One item holds up to 400 KB — roughly 8,000 distinct product/category counters
 * per shard per bucket. A shop whose busiest hour touches more distinct products per shard
 * raises `TREND_SLICES`; readers sum every item of a bucket, so they need no change. Change it
 * only between deployments with a drained stream: a replay across the change would re-apply
 * already counted records to the new slice items.
 */
export const DEFAULT_WINDOW_SLICES = 1;

/** Which slice item a counter lives in: totals always in slice 0, products/categories by hash. */
export function sliceOf(attribute: string, slices: number): number {
  if (slices <= 1 || !(attribute.startsWith('p#') || attribute.startsWith('c#'))) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < attribute.length; i += 1) {
    h ^= attribute.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) % slices;
}

function splitBySlice(deltas: ReadonlyMap<string, number>, slices: number): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  for (const [name, d] of deltas) {
    const slice = sliceOf(name, slices);
    let m = out.get(slice);
    if (!m) {
      m = new Map();
      out.set(slice, m);
    }
    m.set(name, d);
  }
  return out;
}

/**
 * Groups a batch's contributions by window item (window × bucket × shard [× slice]),
 * sequence-ordered.
 */
export function planWindowUpdates(
  records: readonly FeatureRecord[],
  slices: number = DEFAULT_WINDOW_SLICES,
): WindowItemPlan[] {
  const plans = new Map<string, WindowItemPlan>();
  for (const r of inSequenceOrder(records)) {
    const deltas = windowContributions(r.event);
    const parts = slices > 1 ? splitBySlice(deltas, slices) : new Map([[0, deltas]]);
    const t = Date.parse(r.event.event_time);
    for (const window of WINDOW_NAMES) {
      const start = bucketStart(t, window);
      for (const [slice, sliceDeltas] of parts) {
        // Cheap lookup id first; the validated key is built once per item, not once per record.
        const id = `${window}\u0000${start}\u0000${r.shardId}\u0000${slice}`;
        let plan = plans.get(id);
        if (!plan) {
          plan = {
            key: windowKey(window, start, r.shardId, slice),
            window,
            bucketStartMs: start,
            expiresAt: windowExpiresAt(start, window),
            contributions: [],
          };
          plans.set(id, plan);
        }
        plan.contributions.push({ seq: r.seq, deltas: sliceDeltas });
      }
    }
  }
  return [...plans.values()];
}

/** Sums deltas of contributions (attributes whose sum is 0 are kept: ADD 0 is harmless). */
export function sumDeltas(contributions: readonly SeqContribution[]): Map<string, number> {
  const total = new Map<string, number>();
  for (const c of contributions)
    for (const [name, d] of c.deltas) total.set(name, (total.get(name) ?? 0) + d);
  return total;
}

/**
 * Splits sequence-ordered contributions into consecutive chunks whose summed update stays
 * within `maxAttributes` counters, so one UpdateItem expression stays far below 4 KB. A busy
 * item usually fits in one chunk: one write per window item per batch.
 */
export function chunkContributions(
  contributions: readonly SeqContribution[],
  maxAttributes: number = DYNAMO_LIMITS.maxAddAttributesPerUpdate,
): SeqContribution[][] {
  const chunks: SeqContribution[][] = [];
  let current: SeqContribution[] = [];
  let names = new Set<string>();
  for (const c of contributions) {
    let added = 0;
    for (const n of c.deltas.keys()) if (!names.has(n)) added += 1;
    if (current.length > 0 && names.size + added > maxAttributes) {
      chunks.push(current);
      current = [];
      names = new Set();
    }
    current.push(c);
    for (const n of c.deltas.keys()) names.add(n);
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}
