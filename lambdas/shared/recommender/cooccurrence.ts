/**
 * Item-to-item statistics in the style of Linden, Smith & York (2003) and Smith & Linden (2017),
 * computed directly in TypeScript. `athena/reco_cooccurrence.sql` computes the same numbers in
 * SQL for the lake; a test checks that both agree on the same data.
 *
 * Definitions (b = a basket: one shopper's distinct items, capped to the most recent
 * `maxBasketItems`; w_bi = the strongest event weight of item i in b):
 *   co(i,j)     = Σ_b w_bi·w_bj               (weighted co-occurrence)
 *   pairs(i,j)  = |{b : i∈b ∧ j∈b}|            (baskets holding both)
 *   cosine(i,j) = co(i,j) / √(Σ_b w_bi² · Σ_b w_bj²)
 *   E(i,j)      = S_i · n_j / N,  S_i = Σ_{b∋i}(|b|−1), n_j = |{b∋j}|, N = Σ_b |b|
 *                 (expected baskets with j among i's baskets if j were drawn at random,
 *                  heavy shoppers weighted by their size, as the 2017 paper argues)
 *   chance(i,j) = (pairs(i,j) − E(i,j)) / √E(i,j)   ("more often than chance")
 */
import type { Neighbour, TrainingData } from './types.ts';

/** @default 100 — caps the pairs one heavy shopper contributes (Σ|b|² work). */
export const DEFAULT_MAX_BASKET_ITEMS = 100;
/** @default 50 neighbours kept per item. */
export const DEFAULT_NEIGHBOURS = 50;

export type SimilarityMeasure = 'cosine' | 'chance';

export interface CooccurrenceOptions {
  readonly maxBasketItems?: number;
  readonly neighbours?: number;
  /** Minimum `pairs(i,j)` for j to be a neighbour of i. @default 1 */
  readonly minPairs?: number;
  /**
   * Asymmetric cosine exponent (`cosine` only): `co(i,j) / (‖i‖^{2α} · ‖j‖^{2(1−α)})`, with
   * ‖i‖² = Σ_b w_bi². 0.5 is the plain cosine; towards 1 it approaches P(j | i), which no longer
   * over-rewards rare neighbours that met i once. @default 0.5
   */
  readonly alpha?: number;
  /**
   * Shrinkage (`cosine` only): the score is multiplied by `pairs / (pairs + shrinkage)`, so
   * similarities resting on one or two shared baskets count less. @default 0 (none)
   */
  readonly shrinkage?: number;
}

/** One scored pair, as the SQL returns it. */
export interface CooccurrencePair {
  readonly item: number;
  readonly neighbour: number;
  readonly co: number;
  readonly pairs: number;
  readonly cosine: number;
  readonly chance: number;
}

export interface Basket {
  readonly items: Int32Array;
  readonly weights: Float64Array;
}

/**
 * The baskets used for co-occurrence: each shopper's distinct items, the most recent
 * `maxBasketItems` by last interaction (ties: item id ascending, as in the SQL).
 */
export function baskets(data: TrainingData, maxBasketItems = DEFAULT_MAX_BASKET_ITEMS): Basket[] {
  const out: Basket[] = [];
  const names = data.vocab.items;
  for (const s of data.shoppers) {
    if (s.items.length <= maxBasketItems) {
      out.push({ items: s.items, weights: s.weights });
      continue;
    }
    const order = Array.from(s.items.keys()).sort((a, b) => {
      const d = (s.lastTimes[b] ?? 0) - (s.lastTimes[a] ?? 0);
      if (d !== 0) return d;
      const na = names[s.items[a] ?? 0] ?? '';
      const nb = names[s.items[b] ?? 0] ?? '';
      return na < nb ? -1 : na > nb ? 1 : 0;
    });
    const keep = order.slice(0, maxBasketItems);
    out.push({
      items: Int32Array.from(keep, (k) => s.items[k] ?? 0),
      weights: Float64Array.from(keep, (k) => s.weights[k] ?? 0),
    });
  }
  return out;
}

/**
 * Visits every co-occurring pair (i, j ≠ i) once per item i with its statistics, using an
 * inverted index and one dense scratch row, so the cost is Σ_b |b|² array updates. `norm`
 * (Σ_b w_bi² per item, over the same capped baskets) is passed along for scores built on it.
 */
export function forEachPair(
  data: TrainingData,
  options: CooccurrenceOptions,
  visit: (pair: CooccurrencePair, norm: Readonly<Float64Array>) => void,
): void {
  const n = data.vocab.items.length;
  const bs = baskets(data, options.maxBasketItems ?? DEFAULT_MAX_BASKET_ITEMS);
  const minPairs = options.minPairs ?? 1;
  const count = new Float64Array(n);
  const norm = new Float64Array(n);
  const spread = new Float64Array(n);
  let total = 0;
  const postings: number[][] = Array.from({ length: n }, () => []);
  for (let b = 0; b < bs.length; b++) {
    const basket = bs[b] as Basket;
    const size = basket.items.length;
    total += size;
    for (let k = 0; k < size; k++) {
      const i = basket.items[k] as number;
      const w = basket.weights[k] as number;
      count[i] = (count[i] ?? 0) + 1;
      norm[i] = (norm[i] ?? 0) + w * w;
      spread[i] = (spread[i] ?? 0) + size - 1;
      (postings[i] as number[]).push(b, k);
    }
  }
  const co = new Float64Array(n);
  const pairs = new Float64Array(n);
  const touched: number[] = [];
  for (let i = 0; i < n; i++) {
    const post = postings[i] as number[];
    for (let p = 0; p < post.length; p += 2) {
      const basket = bs[post[p] as number] as Basket;
      const wi = basket.weights[post[p + 1] as number] as number;
      for (let k = 0; k < basket.items.length; k++) {
        const j = basket.items[k] as number;
        if (j === i) continue;
        if (pairs[j] === 0) touched.push(j);
        co[j] = (co[j] ?? 0) + wi * (basket.weights[k] as number);
        pairs[j] = (pairs[j] ?? 0) + 1;
      }
    }
    const normI = norm[i] as number;
    const spreadI = spread[i] as number;
    for (const j of touched) {
      const pc = pairs[j] as number;
      if (pc >= minPairs) {
        const expected = (spreadI * (count[j] as number)) / total;
        visit(
          {
            item: i,
            neighbour: j,
            co: co[j] as number,
            pairs: pc,
            cosine: (co[j] as number) / Math.sqrt(normI * (norm[j] as number)),
            chance: expected > 0 ? (pc - expected) / Math.sqrt(expected) : 0,
          },
          norm,
        );
      }
      co[j] = 0;
      pairs[j] = 0;
    }
    touched.length = 0;
  }
}

/**
 * Top-K neighbours per item under one similarity measure, best first (ties: neighbour id
 * ascending, as the SQL orders them). Only positive scores are kept. With the default options
 * the cosine is exactly the SQL's; `alpha` and `shrinkage` are refinements of the TypeScript
 * models, picked on the validation split.
 */
export function topNeighbours(
  data: TrainingData,
  measure: SimilarityMeasure,
  options: CooccurrenceOptions = {},
): Neighbour[][] {
  const k = options.neighbours ?? DEFAULT_NEIGHBOURS;
  const names = data.vocab.items;
  const out: Neighbour[][] = Array.from({ length: names.length }, () => []);
  const alpha = options.alpha ?? 0.5;
  const shrinkage = options.shrinkage ?? 0;
  // Plain cosine (the SQL's number) unless the options ask for the asymmetric / shrunk variant.
  const plain = measure !== 'cosine' || (alpha === 0.5 && shrinkage === 0);
  let current = -1;
  let row: Neighbour[] = [];
  const flush = () => {
    if (current < 0) return;
    out[current] = selectTop(row, k, names);
    row = [];
  };
  forEachPair(data, options, (p, norm) => {
    if (p.item !== current) {
      flush();
      current = p.item;
    }
    let score = measure === 'cosine' ? p.cosine : p.chance;
    if (!plain) {
      // co / (‖i‖^{2α}‖j‖^{2(1−α)}) = cosine · (‖j‖²/‖i‖²)^{α−½}
      const ratio = (norm[p.neighbour] as number) / (norm[p.item] as number);
      score = p.cosine * ratio ** (alpha - 0.5) * (p.pairs / (p.pairs + shrinkage));
    }
    if (score > 0) row.push({ idx: p.neighbour, score });
  });
  flush();
  return out;
}

/** Sorts by score descending, then item id ascending, and keeps `k`. */
export function selectTop(row: Neighbour[], k: number, names: readonly string[]): Neighbour[] {
  row.sort((a, b) => {
    if (b.score !== a.score) return b.score - a.score;
    const na = names[a.idx] ?? '';
    const nb = names[b.idx] ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
  return row.length > k ? row.slice(0, k) : row;
}

/**
 * Next-item transitions: in each shopper's time-ordered history, item a is followed by b
 * within `window` steps, weighted `decay^(gap−1)`; normalised per a to P(b | a), top-K kept.
 */
export function transitionNeighbours(
  data: TrainingData,
  options: { window?: number; decay?: number; neighbours?: number } = {},
): Neighbour[][] {
  const n = data.vocab.items.length;
  const window = options.window ?? 3;
  const decay = options.decay ?? 0.5;
  const k = options.neighbours ?? DEFAULT_NEIGHBOURS;
  const rows: Map<number, number>[] = Array.from({ length: n }, () => new Map());
  for (const s of data.shoppers) {
    const items = s.items;
    for (let p = 0; p < items.length; p++) {
      const a = items[p] as number;
      const row = rows[a] as Map<number, number>;
      let w = 1;
      for (let q = p + 1; q < Math.min(items.length, p + 1 + window); q++) {
        const b = items[q] as number;
        row.set(b, (row.get(b) ?? 0) + w);
        w *= decay;
      }
    }
  }
  return rows.map((row) => {
    let sum = 0;
    for (const v of row.values()) sum += v;
    const list: Neighbour[] = [];
    for (const [idx, v] of row) list.push({ idx, score: v / sum });
    return selectTop(list, k, data.vocab.items);
  });
}

/**
 * Time-decayed popularity: Σ over shoppers of the item's event weight × 2^(−age/halfLife),
 * age measured from the last interaction to `data.now`; `halfLifeDays` 0 = no decay.
 * Normalised to [0, 1].
 */
export function popularity(data: TrainingData, halfLifeDays: number): Float64Array {
  const pop = new Float64Array(data.vocab.items.length);
  const halfLifeMs = halfLifeDays * 86_400_000;
  for (const s of data.shoppers) {
    for (let k = 0; k < s.items.length; k++) {
      const age = data.now - (s.lastTimes[k] as number);
      const decay = halfLifeMs > 0 ? 2 ** (-age / halfLifeMs) : 1;
      const i = s.items[k] as number;
      pop[i] = (pop[i] ?? 0) + (s.weights[k] as number) * decay;
    }
  }
  let max = 0;
  for (const v of pop) if (v > max) max = v;
  if (max > 0) for (let i = 0; i < pop.length; i++) pop[i] = (pop[i] as number) / max;
  return pop;
}
