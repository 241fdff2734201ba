/** lambdas/shared/retry.ts: the one backoff loop every retry in shoplake goes through. */
import { describe, expect, it } from 'vitest';
import { backoffDelay, retryPending, retryWithBackoff } from '../../lambdas/shared/retry.ts';

describe('backoffDelay', () => {
  const policy = { maxAttempts: 10, baseMs: 50, capMs: 2_000 };

  it('doubles the ceiling from baseMs up to capMs, with full jitter by default', () => {
    expect([1, 2, 3, 6, 7, 20].map((r) => backoffDelay(r, { ...policy, jitter: 'none' }))).toEqual([
      50, 100, 200, 1_600, 2_000, 2_000,
    ]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.5)).toBe(100);
    expect(backoffDelay(3, policy, () => 0.999)).toBeLessThan(200);
  });

  it('equal jitter never waits less than half the ceiling', () => {
    expect(backoffDelay(3, { ...policy, jitter: 'equal' }, () => 0)).toBe(100);
    expect(backoffDelay(3, { ...policy, jitter: 'equal' }, () => 0.999)).toBeLessThan(200);
  });
});

describe('retryWithBackoff / retryPending', () => {
  it('retries only what is left, waits between attempts but not after the last, and reports the rest', async () => {
    const sleeps: number[] = [];
    const sent: number[][] = [];
    const result = await retryPending(
      [1, 2, 3, 4],
      { maxAttempts: 3, baseMs: 10, capMs: 1_000, jitter: 'none' },
      async (pending) => {
        sent.push([...pending]);
        return pending.filter((x) => x % 2 === 0 || sent.length === 1); // 1 and 3 go through on the 2nd try
      },
      { sleep: async (ms) => void sleeps.push(ms) },
    );
    expect(sent).toEqual([
      [1, 2, 3, 4],
      [1, 2, 3, 4],
      [2, 4],
    ]);
    expect(sleeps).toEqual([10, 20]);
    expect(result).toEqual({ left: [2, 4], attempts: 3 });
  });

  it('stops at the first attempt that is done', async () => {
    let calls = 0;
    const retries: number[] = [];
    const r = await retryWithBackoff(
      { maxAttempts: 5, baseMs: 1, capMs: 1 },
      async (n) => {
        calls += 1;
        return n < 2 ? { retry: n } : { done: 'ok' };
      },
      { sleep: async () => undefined, onRetry: (n) => void retries.push(n) },
    );
    expect(r).toEqual({ ok: true, value: 'ok', attempts: 2 });
    expect(calls).toBe(2);
    expect(retries).toEqual([1]);
  });

  it('sends nothing for nothing, and refuses a policy without attempts', async () => {
    expect(await retryPending([], { maxAttempts: 3, baseMs: 1, capMs: 1 }, async () => [1])).toEqual({
      left: [],
      attempts: 0,
    });
    await expect(
      retryWithBackoff({ maxAttempts: 0, baseMs: 1, capMs: 1 }, async () => ({ done: 1 })),
    ).rejects.toThrow(/maxAttempts/);
  });
});
