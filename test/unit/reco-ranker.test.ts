import { describe, expect, it } from 'vitest';
import { buildTrainingData, shopperHistories } from '../../lambdas/shared/recommender/data.ts';
import { evaluate } from '../../lambdas/shared/recommender/evaluate.ts';
import { popularityModel, priorOrder, topK } from '../../lambdas/shared/recommender/models.ts';
import {
  holdOutLast,
  itemFeatures,
  logPopularity,
  pairStats,
  quantileEdges,
  rankerModelFactory,
} from '../../lambdas/shared/recommender/ranker.ts';
import { seededRng } from '../../lambdas/shared/recommender/rng.ts';
import { DEFAULT_EVENT_WEIGHTS, type Interaction } from '../../lambdas/shared/recommender/types.ts';

function data(list: Interaction[]) {
  return buildTrainingData(shopperHistories(list, DEFAULT_EVENT_WEIGHTS), DEFAULT_EVENT_WEIGHTS);
}

/** One shopper per string of item letters, in order: "ABC" = A then B then C. */
function sequences(...seqs: string[]): Interaction[] {
  const out: Interaction[] = [];
  let t = 0;
  seqs.forEach((s, u) => {
    for (const item of s) out.push({ user: `u${u}`, item, ts: t++, type: 'view' });
  });
  return out;
}

describe('ranker pair statistics', () => {
  // u0: A B C, u1: A B, u2: B A
  const d = data(sequences('ABC', 'AB', 'BA'));
  const st = pairStats(d, { window: 3, decay: 0.5 });
  const idx = (n: string) => d.vocab.index.get(n) ?? -1;
  const entry = (a: string, b: string) => {
    for (let e = st.rowStart[idx(a)] as number; e < (st.rowStart[idx(a) + 1] as number); e++) {
      if (st.nbr[e] === idx(b)) {
        return { pairs: st.pairs[e], fwd: st.fwd[e], bwd: st.bwd[e], close: st.close[e] };
      }
    }
    return undefined;
  };

  it('counts pairs, gap-decayed forward/backward transitions and closeness by hand', () => {
    expect(Array.from(st.count)).toEqual([3, 3, 1]); // A, B, C
    // A→B: u0 gap 1, u1 gap 1 (forward 1 + 1); u2 B before A (backward, gap 1)
    expect(entry('A', 'B')).toEqual({ pairs: 3, fwd: 2, bwd: 1, close: 3 });
    // A→C: u0 gap 2 → 0.5^(2−1); closeness 1/2
    expect(entry('A', 'C')).toEqual({ pairs: 1, fwd: 0.5, bwd: 0, close: 0.5 });
    expect(entry('C', 'A')).toEqual({ pairs: 1, fwd: 0, bwd: 0.5, close: 0.5 });
    expect(st.fwdOut[idx('A')]).toBe(2.5);
    // Two-hop co-occurrence of C: C–A–B and C–B–A (cosines 1/√3 · 1 each) → B and A, never C.
    const hop = Array.from(st.hopCoIdx[idx('C')] ?? [], (i) => d.vocab.items[i]);
    expect(hop.sort()).toEqual(['A', 'B']);
  });

  it('holds out each qualifying shopper’s last item and computes item-level features', () => {
    const { inner, targets } = holdOutLast(d);
    expect(targets).toEqual([{ shopper: 0, item: idx('C') }]);
    expect(Array.from(inner.shoppers[0]?.items ?? [])).toEqual([idx('A'), idx('B')]);
    const [latest, position] = itemFeatures(d);
    // Latest items: C (u0), B (u1), A (u2) → each once → log(2)/log(2) = 1
    expect(Array.from(latest ?? [])).toEqual([1, 1, 1]);
    // Mean relative position: A at 0, 0, 1 → 1/3; B at 0.5, 1, 0 → 0.5; C at 1
    expect(position?.[idx('A')]).toBeCloseTo(1 / 3, 12);
    expect(position?.[idx('B')]).toBeCloseTo(0.5, 12);
    expect(position?.[idx('C')]).toBe(1);
    expect(Array.from(logPopularity(Float64Array.from([0, 1, 3])))).toEqual([
      0,
      Math.log(2) / Math.log(4),
      1,
    ]);
    expect(Array.from(quantileEdges([4, 1, 3, 2], 2))).toEqual([3]);
  });
});

/** Themed sequential data: shoppers walk a chain inside one of several themes. */
function chains(users: number, seed: number): Interaction[] {
  const rng = seededRng(seed);
  const out: Interaction[] = [];
  let t = 0;
  for (let u = 0; u < users; u++) {
    const theme = Math.floor(rng() * 10);
    let pos = Math.floor(rng() * 20);
    const len = 4 + Math.floor(rng() * 6);
    for (let k = 0; k < len; k++) {
      // Mostly the next item of the theme's chain, sometimes a popular item or a random one.
      const r = rng();
      const item =
        r < 0.7
          ? `t${theme}-${pos % 20}`
          : r < 0.85
            ? `pop${Math.floor(rng() * 5)}`
            : `x${Math.floor(rng() * 300)}`;
      out.push({ user: `u${u}`, item, ts: t++, type: 'view' });
      pos++;
    }
  }
  return out;
}

describe('ranker model', () => {
  const interactions = chains(1500, 11);

  it('learns to follow the chains: the next item of the theme ranks first', () => {
    const d = data(interactions);
    const model = rankerModelFactory.fit(d, rankerModelFactory.grid[0] ?? {});
    const h = ['t3-4', 't3-5', 't3-6'].map((n) => ({ idx: d.vocab.index.get(n) ?? -1, weight: 1, ts: 0 }));
    const top = topK(model, h, 5, new Set(h.map((e) => e.idx)), undefined, priorOrder(model));
    expect(top[0]?.item).toBe('t3-7');
    expect(top.map((s) => s.item)).toContain('t3-8');
    expect(top.filter((s) => s.item.startsWith('t3-')).length).toBeGreaterThanOrEqual(3);
    // Every candidate has a score: the prior covers the whole catalogue, in [0, 1].
    expect(model.prior.length).toBe(d.vocab.items.length);
    expect(Math.min(...model.prior)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...model.prior)).toBeCloseTo(1, 12);
    expect(model.neighbours(d.vocab.index.get('t3-4') ?? -1)[0]?.idx).toBe(d.vocab.index.get('t3-5'));
  });

  it('is deterministic for a seed and beats popularity by a wide margin on sequential data', () => {
    const run = () =>
      evaluate(interactions, {
        protocol: 'loo-sampled',
        models: [popularityModel, rankerModelFactory],
        seed: 3,
      });
    const a = run();
    const b = run();
    expect(a.results.map((r) => r.metrics)).toEqual(b.results.map((r) => r.metrics));
    expect(a.results[1]?.params).toEqual(b.results[1]?.params);
    const hr = (m: string) => a.results.find((r) => r.model === m)?.metrics['HR@10'] ?? 0;
    expect(hr('ranker')).toBeGreaterThan(1.3 * hr('popularity'));
  });
});
