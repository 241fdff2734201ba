/**
 * Ranking metrics of the offline evaluation. Leave-one-out protocols have one relevant item per
 * user, so HR/NDCG/MRR follow from its rank; the time split has a set of relevant items.
 */
import type { Rng } from './rng.ts';

export type TieBreak = 'random' | 'pessimistic';

/**
 * 1-based rank of the relevant item given how many candidates score strictly better and how
 * many tie with it. Ties never favour the relevant item: `pessimistic` puts it after all of
 * them, `random` at a seeded uniformly random place among them.
 */
export function rankWithTies(better: number, ties: number, tieBreak: TieBreak, rng: Rng): number {
  if (ties === 0) return better + 1;
  if (tieBreak === 'pessimistic') return better + ties + 1;
  return better + 1 + Math.floor(rng() * (ties + 1));
}

/** Hit ratio at k for one relevant item: 1 when it is in the top k. */
export function hitAt(rank: number, k: number): number {
  return rank <= k ? 1 : 0;
}

/** NDCG at k for one relevant item: 1/log2(rank+1) in the top k (the ideal DCG is 1). */
export function ndcgAt(rank: number, k: number): number {
  return rank <= k ? 1 / Math.log2(rank + 1) : 0;
}

/** Reciprocal rank over the full ranking. */
export function reciprocalRank(rank: number): number {
  return 1 / rank;
}

/** Recall at k: share of the relevant items found in the top-k list. */
export function recallAt(list: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  if (relevant.size === 0) return 0;
  let hits = 0;
  for (let i = 0; i < Math.min(k, list.length); i++) if (relevant.has(list[i] as string)) hits++;
  return hits / relevant.size;
}

/** NDCG at k with binary relevance; the ideal list puts min(k, |relevant|) hits first. */
export function ndcgListAt(list: readonly string[], relevant: ReadonlySet<string>, k: number): number {
  let dcg = 0;
  for (let i = 0; i < Math.min(k, list.length); i++) {
    if (relevant.has(list[i] as string)) dcg += 1 / Math.log2(i + 2);
  }
  let idcg = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) idcg += 1 / Math.log2(i + 2);
  return idcg === 0 ? 0 : dcg / idcg;
}

/** Running mean of named metrics. */
export class MetricMeans {
  private readonly sums = new Map<string, number>();
  count = 0;

  add(values: Readonly<Record<string, number>>): void {
    this.count++;
    for (const [k, v] of Object.entries(values)) this.sums.set(k, (this.sums.get(k) ?? 0) + v);
  }

  means(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [k, v] of this.sums) out[k] = this.count === 0 ? 0 : v / this.count;
    return out;
  }
}
