/**
 * Serving-time blending: the user's precomputed list (trained offline) plus real-time
 * candidates from what the shopper touched in the last minutes (recent items from the features
 * table → their published neighbour and next-item lists), so a click changes the answer as
 * soon as the stream consumer has written it.
 */
import type { ItemListItem, StoredList } from './store.ts';

export interface RecentSignal {
  readonly product_id: string;
  readonly event_type: string;
}

export interface BlendWeights {
  /** Weight of the normalised real-time score against the normalised precomputed score. */
  readonly realtime: number;
  /** Weight of next-item transitions relative to item-to-item similarity. */
  readonly sequence: number;
  /** Decay per step back in the shopper's recent items (newest = 1). */
  readonly recency: number;
  /** How many distinct recent products seed the real-time candidates. */
  readonly maxRecent: number;
}

/**
 * @default realtime 2 (recent clicks dominate the long-term profile), sequence 0.5,
 * recency 0.7, 5 recent products.
 */
export const DEFAULT_BLEND_WEIGHTS: BlendWeights = { realtime: 2, sequence: 0.5, recency: 0.7, maxRecent: 5 };

/**
 * Event weights of real-time signals. Flatter than the training weights (view 1 < cart/purchase
 * 2 instead of 1/3/5): at serving time recency matters most — the click a shopper just made
 * must be able to outweigh a purchase from an hour ago, whose complements are already in the
 * precomputed list.
 */
export const SIGNAL_WEIGHTS: Readonly<Record<string, number>> = {
  product_view: 1,
  review: 1,
  add_to_cart: 2,
  remove_from_cart: 0.5,
  begin_checkout: 2,
  purchase: 2,
};

export type Reason = 'history' | 'recent' | 'trending';

export interface BlendedItem {
  readonly product_id: string;
  readonly score: number;
  readonly category?: string;
  readonly reason: Reason;
}

export interface BlendInput {
  readonly precomputed?: StoredList;
  /** Newest first. */
  readonly recent: readonly RecentSignal[];
  readonly itemLists: ReadonlyMap<string, ItemListItem>;
  readonly exclude: ReadonlySet<string>;
  readonly category?: string;
  readonly k: number;
  readonly weights?: BlendWeights;
}

/** Distinct products of the recent signals, newest first, capped. */
export function recentSeeds(recent: readonly RecentSignal[], max: number): RecentSignal[] {
  const seen = new Set<string>();
  const out: RecentSignal[] = [];
  for (const r of recent) {
    if (seen.has(r.product_id)) continue;
    seen.add(r.product_id);
    out.push(r);
    if (out.length >= max) break;
  }
  return out;
}

/**
 * Blends and filters. Scores are each normalised by their list's maximum, so the weights
 * mean the same whatever the model's score scale; ties fall back to product id.
 */
export function blend(input: BlendInput): BlendedItem[] {
  const w = input.weights ?? DEFAULT_BLEND_WEIGHTS;
  const rt = new Map<string, number>();
  const cats = new Map<string, string>();
  const seeds = recentSeeds(input.recent, w.maxRecent);
  seeds.forEach((s, rank) => {
    const list = input.itemLists.get(s.product_id);
    if (!list) return;
    const sw = (SIGNAL_WEIGHTS[s.event_type] ?? 1) * w.recency ** rank;
    list.ids.forEach((id, i) => {
      rt.set(id, (rt.get(id) ?? 0) + sw * (list.scores[i] ?? 0));
      if (list.cats[i]) cats.set(id, list.cats[i] as string);
    });
    list.next_ids.forEach((id, i) => {
      rt.set(id, (rt.get(id) ?? 0) + sw * w.sequence * (list.next_scores[i] ?? 0));
    });
  });
  const pre = new Map<string, number>();
  const p = input.precomputed;
  if (p) {
    p.ids.forEach((id, i) => {
      pre.set(id, p.scores[i] ?? 0);
      if (p.cats[i]) cats.set(id, p.cats[i] as string);
    });
  }
  const maxOf = (m: Map<string, number>) => Math.max(0, ...m.values());
  const rtMax = maxOf(rt);
  const preMax = maxOf(pre);
  const out: BlendedItem[] = [];
  for (const id of new Set([...rt.keys(), ...pre.keys()])) {
    if (input.exclude.has(id)) continue;
    const category = cats.get(id);
    if (input.category !== undefined && category !== input.category) continue;
    const r = rtMax > 0 ? (w.realtime * (rt.get(id) ?? 0)) / rtMax : 0;
    // Precomputed lists are ranked: a small rank-based floor keeps their order when scores are 0.
    const h = preMax > 0 ? (pre.get(id) ?? 0) / preMax : pre.has(id) ? 1e-3 : 0;
    const score = r + h;
    out.push({
      product_id: id,
      score,
      ...(category ? { category } : {}),
      reason: r > h ? 'recent' : 'history',
    });
  }
  out.sort((a, b) => b.score - a.score || (a.product_id < b.product_id ? -1 : 1));
  return out.slice(0, input.k);
}
