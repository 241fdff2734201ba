/**
 * The demand generator's oracle (local/generator/demand.ts): NegBin quantiles against the closed
 * form of the shape-3 probability mass, the oracle figures on a hand-computed series, and the
 * planted means it records being those the events were drawn from.
 */
import { describe, expect, it } from 'vitest';
import { demandOracle, generateDemandHistory, negBinQuantile } from '../../local/generator/demand.ts';

/** P(Y <= k) for NegBin(shape 3, mean m): pmf(j) = (j+1)(j+2)/2 p^3 (1-p)^j, p = 3/(3+m). */
function cdf3(m: number, k: number): number {
  const p = 3 / (3 + m);
  let s = 0;
  for (let j = 0; j <= k; j++) s += (((j + 1) * (j + 2)) / 2) * p ** 3 * (1 - p) ** j;
  return s;
}

describe('negBinQuantile', () => {
  it.each([0.05, 0.4, 1, 2.5, 12, 40])('is the smallest k with P(Y <= k) >= q (mean %s)', (m) => {
    for (const q of [0.1, 0.5, 0.9]) {
      const k = negBinQuantile(m, q);
      expect(cdf3(m, k)).toBeGreaterThanOrEqual(q - 1e-12);
      if (k > 0) expect(cdf3(m, k - 1)).toBeLessThan(q);
    }
  });

  it('is 0 for a zero mean', () => {
    expect(negBinQuantile(0, 0.9)).toBe(0);
  });
});

describe('demandOracle', () => {
  it('matches a hand computation', () => {
    // One product, 14 days, mean 1 every day; the window is the last 7 days.
    // NegBin(3, mean 1): P0 = 0.4219, P1 = 0.3164, P2 = 0.1582, P3 = 0.0659 → q10 0, median 1, q90 3.
    const units = Float64Array.from([0, 2, 1, 0, 0, 1, 3, 1, 0, 4, 2, 0, 1, 0]);
    const mean = new Float64Array(14).fill(1);
    const o = demandOracle({ mean: [mean], units: [units], gapDay: new Array(14).fill(false), shape: 3 }, 7);
    // window y = [1, 0, 4, 2, 0, 1, 0]: sum 8.
    expect(o.points).toBe(7);
    // |y - 1| = 0,1,3,1,1,0,1 → 7; median 1 gives the same.
    expect(o.wape_mean).toBeCloseTo(7 / 8);
    expect(o.wape_median).toBeCloseTo(7 / 8);
    expect(o.bias_mean).toBeCloseTo(7 / 8 - 1);
    // seasonal naive: the product counts from day 1 (its first unit), so day 7 (whose y[t-7] is
    // day 0) is left out; days 8..13: y = [0, 4, 2, 0, 1, 0] (sum 7) vs [2, 1, 0, 0, 1, 3] → 10.
    expect(o.wape_seasonal_naive).toBeCloseTo(10 / 7);
    // 4 is above q90 = 3: 6 of 7 inside [0, 3].
    expect(o.coverage80).toBeCloseTo(6 / 7);
    // no in-sample pairs before the window (days 1..6 have no t-7 inside the series) → NaN scale.
    expect(Number.isNaN(o.mase_mean)).toBe(true);
  });

  it('records the means the generated units were drawn from', () => {
    const g = generateDemandHistory({ seed: 5, products: 30, days: 120 });
    const o = demandOracle(g.expected, 56);
    let units = 0;
    for (const e of g.events)
      if (!String(e.order_id).startsWith('C')) for (const i of e.items ?? []) units += i.quantity;
    let recorded = 0;
    for (const u of g.expected.units) for (const x of u) if (!Number.isNaN(x)) recorded += x;
    expect(recorded).toBe(units);
    // Planted means are unbiased for what was drawn, up to noise and the rare bulk orders.
    expect(Math.abs(o.bias_mean)).toBeLessThan(0.15);
    expect(o.wape_zero).toBe(1);
  });
});
