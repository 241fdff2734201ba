import { describe, expect, it } from 'vitest';
import { AbSplitError, abBucket, assignArm, validateSplit } from '../../lambdas/shared/recommender/ab.ts';

const split = { experiment: 'exp-1', versionA: 'v1', versionB: 'v2', shareB: 0.2 };
const ids = Array.from({ length: 10_000 }, (_, i) => `user-${i}`);

describe('A/B assignment', () => {
  it('is stable per shopper and close to the configured share over 10,000 ids', () => {
    const first = ids.map((u) => assignArm(split, u).arm);
    const again = ids.map((u) => assignArm(split, u).arm);
    expect(again).toEqual(first);
    const b = first.filter((a) => a === 'B').length / ids.length;
    // Binomial standard error at n = 10,000, p = 0.2 is 0.004: ±4 SE.
    expect(Math.abs(b - 0.2)).toBeLessThan(0.016);
    for (const share of [0, 0.5, 1]) {
      const s = ids.filter((u) => assignArm({ ...split, shareB: share }, u).arm === 'B').length / ids.length;
      expect(Math.abs(s - share)).toBeLessThan(0.02);
    }
    expect(assignArm(split, 'user-1').version).toBe(assignArm(split, 'user-1').arm === 'B' ? 'v2' : 'v1');
  });

  it('reshuffles with the experiment name and grows arm B monotonically with the share', () => {
    const other = ids.map((u) => assignArm({ ...split, experiment: 'exp-2' }, u).arm);
    const first = ids.map((u) => assignArm(split, u).arm);
    const same = other.filter((a, i) => a === first[i]).length / ids.length;
    expect(same).toBeLessThan(0.75); // independent 20 % splits agree on 0.8² + 0.2² = 68 %
    // A shopper in B at 20 % stays in B at 50 %.
    for (const u of ids.slice(0, 2000)) {
      if (assignArm(split, u).arm === 'B') expect(assignArm({ ...split, shareB: 0.5 }, u).arm).toBe('B');
    }
    expect(abBucket('e', 'u')).toBeGreaterThanOrEqual(0);
    expect(abBucket('e', 'u')).toBeLessThan(1);
  });

  it('refuses invalid splits', () => {
    expect(() => validateSplit({ ...split, shareB: 1.5 })).toThrow(AbSplitError);
    expect(() => validateSplit({ ...split, versionB: 'v1' })).toThrow(AbSplitError);
    expect(() => validateSplit({ ...split, experiment: ' ' })).toThrow(AbSplitError);
    expect(validateSplit(split)).toBe(split);
  });
});
