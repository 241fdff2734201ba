import { describe, expect, it } from 'vitest';
import { evaluate } from '../../lambdas/shared/recommender/evaluate.ts';
import {
  hitAt,
  ndcgAt,
  ndcgListAt,
  rankWithTies,
  recallAt,
  reciprocalRank,
} from '../../lambdas/shared/recommender/metrics.ts';
import { popularityModel } from '../../lambdas/shared/recommender/models.ts';
import { seededRng } from '../../lambdas/shared/recommender/rng.ts';
import type { Interaction, ModelFactory } from '../../lambdas/shared/recommender/types.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const views = (user: string, items: string[]): Interaction[] =>
  items.map((item, n) => ({ user, item, ts: T0 + n * 60_000, type: 'view' as const }));

describe('ranking metrics', () => {
  it('computes HR and NDCG from the rank of the held-out item (hand-computed case)', () => {
    // Three users whose test items rank 1, 3 and 11.
    const ranks = [1, 3, 11];
    const hr = ranks.map((r) => hitAt(r, 10));
    const ndcg = ranks.map((r) => ndcgAt(r, 10));
    expect(hr).toEqual([1, 1, 0]);
    expect(ndcg[0]).toBe(1);
    expect(ndcg[1]).toBeCloseTo(0.5, 12); // 1 / log2(3 + 1)
    expect(ndcg[2]).toBe(0);
    expect(hr.reduce((a, b) => a + b) / 3).toBeCloseTo(2 / 3, 12);
    expect(ndcg.reduce((a, b) => a + b) / 3).toBeCloseTo(0.5, 12);
    expect(reciprocalRank(4)).toBe(0.25);
  });

  it('never lets ties favour the held-out item', () => {
    expect(rankWithTies(2, 3, 'pessimistic', seededRng(1))).toBe(6);
    const rng = seededRng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(rankWithTies(2, 3, 'random', rng));
    expect([...seen].sort()).toEqual([3, 4, 5, 6]);
    expect(rankWithTies(4, 0, 'random', rng)).toBe(5);
  });

  it('computes Recall@k and NDCG@k on lists', () => {
    const relevant = new Set(['a', 'b']);
    expect(recallAt(['x', 'a', 'y'], relevant, 3)).toBe(0.5);
    // DCG = 1/log2(3); IDCG = 1 + 1/log2(3)
    expect(ndcgListAt(['x', 'a', 'y'], relevant, 3)).toBeCloseTo(
      1 / Math.log2(3) / (1 + 1 / Math.log2(3)),
      12,
    );
    expect(ndcgListAt(['a', 'b'], relevant, 2)).toBeCloseTo(1, 12);
  });
});

describe('leave-one-out evaluation end to end (hand-computed)', () => {
  // u1: q r a → test a; u2: q r b → test b; fillers (< 3 items) only train.
  // Popularity seen at test time: q 2, r 2, a 2, b 1. u1 ranks a against {b}: rank 1.
  // u2 ranks b against {a}: rank 2.
  const data = [
    ...views('u1', ['q', 'r', 'a']),
    ...views('u2', ['q', 'r', 'b']),
    ...views('f1', ['a', 'b']),
    ...views('f2', ['a']),
  ];
  const plainPopularity: ModelFactory = { ...popularityModel, grid: [{ halfLifeDays: 0 }] };

  it('ranks against the full catalogue (loo-full)', () => {
    const r = evaluate(data, { protocol: 'loo-full', models: [plainPopularity], k: 2, seed: 1 });
    const m = r.results[0];
    expect(m?.users).toBe(2);
    expect(m?.metrics['HR@2']).toBe(1);
    expect(m?.metrics['NDCG@2']).toBeCloseTo((1 + 1 / Math.log2(3)) / 2, 12);
    expect(m?.metrics.MRR).toBeCloseTo(0.75, 12);
    const k1 = evaluate(data, { protocol: 'loo-full', models: [plainPopularity], k: 1, seed: 1 });
    expect(k1.results[0]?.metrics['HR@1']).toBe(0.5);
  });

  it('is deterministic for a seed under loo-sampled', () => {
    const a = evaluate(data, { protocol: 'loo-sampled', models: [plainPopularity], seed: 3 });
    const b = evaluate(data, { protocol: 'loo-sampled', models: [plainPopularity], seed: 3 });
    expect(a.results[0]?.metrics).toEqual(b.results[0]?.metrics);
    // Fewer than 100 unseen items: every unseen item is a negative, same ranks as loo-full.
    expect(a.results[0]?.metrics['HR@10']).toBe(1);
  });
});
