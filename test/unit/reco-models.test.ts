import { describe, expect, it } from 'vitest';
import {
  type CooccurrencePair,
  forEachPair,
  topNeighbours,
  transitionNeighbours,
} from '../../lambdas/shared/recommender/cooccurrence.ts';
import { buildTrainingData, shopperHistories } from '../../lambdas/shared/recommender/data.ts';
import { evaluate } from '../../lambdas/shared/recommender/evaluate.ts';
import { itemCfModel, popularityModel, topK } from '../../lambdas/shared/recommender/models.ts';
import { seededRng } from '../../lambdas/shared/recommender/rng.ts';
import { DEFAULT_EVENT_WEIGHTS, type Interaction } from '../../lambdas/shared/recommender/types.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');

function data(list: Interaction[]) {
  return buildTrainingData(shopperHistories(list, DEFAULT_EVENT_WEIGHTS), DEFAULT_EVENT_WEIGHTS);
}

const i = (user: string, item: string, minute: number, type: Interaction['type'] = 'view'): Interaction => ({
  user,
  item,
  ts: T0 + minute * 60_000,
  type,
});

describe('item-to-item scoring', () => {
  // b1 {A:1, B:1}, b2 {A:1, B:5 (purchase)}, b3 {A:1, C:1}
  const d = data([
    i('b1', 'A', 1),
    i('b1', 'B', 2),
    i('b2', 'A', 1),
    i('b2', 'B', 2, 'purchase'),
    i('b3', 'A', 1),
    i('b3', 'C', 2),
  ]);
  const name = (idx: number) => d.vocab.items[idx];

  it('computes weighted co-occurrence, cosine and the "more often than chance" score by hand', () => {
    const pairs: CooccurrencePair[] = [];
    forEachPair(d, { minPairs: 1 }, (p) => pairs.push(p));
    const ab = pairs.find((p) => name(p.item) === 'A' && name(p.neighbour) === 'B');
    expect(ab?.co).toBe(6); // 1·1 + 1·5
    expect(ab?.pairs).toBe(2);
    expect(ab?.cosine).toBeCloseTo(6 / Math.sqrt(3 * 26), 12); // ‖A‖² = 3, ‖B‖² = 1 + 25
    // S_A = Σ(|b|−1) = 3, n_B = 2, N = 6 → E = 1 → (2 − 1)/√1
    expect(ab?.chance).toBeCloseTo(1, 12);
    const ba = pairs.find((p) => name(p.item) === 'B' && name(p.neighbour) === 'A');
    // S_B = 2, n_A = 3 → E = 1 → 1
    expect(ba?.chance).toBeCloseTo(1, 12);
    expect(pairs).toHaveLength(4); // A-B, A-C, B-A, C-A
  });

  it('scores the asymmetric cosine with shrinkage by hand, and the plain cosine by default', () => {
    const idx = (n: string) => d.vocab.index.get(n) ?? -1;
    const row = (lists: { idx: number; score: number }[][], item: string) =>
      (lists[idx(item)] ?? []).map((n) => [name(n.idx), n.score] as const);
    const plain = row(topNeighbours(d, 'cosine', { minPairs: 1 }), 'A');
    expect(plain[0]?.[0]).toBe('B');
    expect(plain[0]?.[1]).toBeCloseTo(6 / Math.sqrt(3 * 26), 12);
    expect(plain[1]?.[1]).toBeCloseTo(1 / Math.sqrt(3 * 1), 12);
    // α = 0.7, shrinkage 5: co / (‖A‖²^0.7 · ‖B‖²^0.3) · pairs / (pairs + 5)
    const asym = row(topNeighbours(d, 'cosine', { minPairs: 1, alpha: 0.7, shrinkage: 5 }), 'A');
    expect(asym[0]?.[0]).toBe('B');
    expect(asym[0]?.[1]).toBeCloseTo((6 / (3 ** 0.7 * 26 ** 0.3)) * (2 / 7), 12);
    expect(asym[1]?.[1]).toBeCloseTo((1 / 3 ** 0.7) * (1 / 6), 12);
    // α = 1 is the weighted conditional co-occurrence co(i,j) / ‖i‖²; shrinkage alone damps
    // single-basket pairs most.
    const cond = row(topNeighbours(d, 'cosine', { minPairs: 1, alpha: 1 }), 'B');
    expect(cond.map((p) => p[0])).toEqual(['A']);
    expect(cond[0]?.[1]).toBeCloseTo(6 / 26, 12);
    const shrunk = row(topNeighbours(d, 'cosine', { minPairs: 1, shrinkage: 1 }), 'A');
    expect(shrunk[1]?.[1]).toBeCloseTo((1 / Math.sqrt(3)) * (1 / 2), 12);
    // The chance score ignores both options.
    expect(topNeighbours(d, 'chance', { minPairs: 1, alpha: 0.9, shrinkage: 5 })).toEqual(
      topNeighbours(d, 'chance', { minPairs: 1 }),
    );
  });

  it('tunes the cosine variants on validation and records the chosen ones', () => {
    expect(itemCfModel.grid[0]).toMatchObject({ alpha: 0.5, shrinkage: 0 });
    expect(itemCfModel.grid.some((p) => (p.alpha ?? 0.5) !== 0.5 && (p.shrinkage ?? 0) > 0)).toBe(true);
    const m = itemCfModel.fit(d, { minPairs: 1, alpha: 0.7, shrinkage: 5 });
    expect(m.params).toMatchObject({ measure: 'cosine', alpha: 0.7, shrinkage: 5 });
    const b = m.neighbours(d.vocab.index.get('B') ?? -1);
    expect(b[0]?.score).toBeCloseTo((6 / (26 ** 0.7 * 3 ** 0.3)) * (2 / 7), 12);
  });

  it('recommends the strongest co-purchase first and excludes what the shopper has', () => {
    const model = itemCfModel.fit(d, { minPairs: 1, historyDecay: 1 });
    const idxB = d.vocab.index.get('B') ?? -1;
    const recs = topK(model, [{ idx: idxB, weight: 1, ts: T0 }], 2, new Set([idxB]));
    expect(recs.map((r) => r.item)).toEqual(['A', 'C']);
    expect(recs[0]?.score).toBeGreaterThan(0.5);
  });

  it('counts next-item transitions with decay and normalises them', () => {
    const t = data([i('u', 'A', 1), i('u', 'B', 2), i('u', 'C', 3)]);
    const lists = transitionNeighbours(t, { window: 2, decay: 0.5 });
    const a = lists[t.vocab.index.get('A') ?? -1] ?? [];
    // A→B weight 1, A→C weight 0.5 → P = 2/3, 1/3
    expect(a.map((n) => [t.vocab.items[n.idx], n.score])).toEqual([
      ['B', 2 / 3],
      ['C', 1 / 3],
    ]);
  });
});

describe('models on data with co-purchase structure', () => {
  it('item-to-item beats popularity under loo-sampled', () => {
    // 40 themes of 5 items; each shopper buys within one theme; popularity is uniform-ish.
    const rng = seededRng(11);
    const list: Interaction[] = [];
    for (let u = 0; u < 600; u++) {
      const theme = Math.floor(rng() * 40);
      const picked = new Set<number>();
      while (picked.size < 4) picked.add(Math.floor(rng() * 5));
      let m = 0;
      for (const p of picked) list.push(i(`u${u}`, `t${theme}-${p}`, u * 10 + m++));
    }
    const r = evaluate(list, { protocol: 'loo-sampled', models: [popularityModel, itemCfModel], seed: 5 });
    const pop = r.results[0]?.metrics['HR@10'] ?? 1;
    const cf = r.results[1]?.metrics['HR@10'] ?? 0;
    expect(r.results[0]?.users).toBe(600);
    expect(cf).toBeGreaterThan(pop * 1.25);
    expect(cf).toBeGreaterThan(0.9);
  });
});
