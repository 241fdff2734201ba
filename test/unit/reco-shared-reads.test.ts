import { describe, expect, it } from 'vitest';
import { sharedReads } from '../../lambdas/recommendations/shared-reads.ts';

/** A loader whose reads are resolved or rejected by the test, with a fake clock. */
function harness(ttlMs = 1_000, staleMs = 5_000, maxEntries = 10) {
  let t = 0;
  const calls: { key: string; at: number; resolve: (v: string) => void; reject: (e: Error) => void }[] = [];
  const shared = sharedReads<string>({ ttlMs, staleMs, maxEntries, now: () => t });
  const get = (key: string) =>
    shared(
      key,
      (at) =>
        new Promise<string>((resolve, reject) => {
          calls.push({ key, at, resolve, reject });
        }),
    );
  const flush = () => new Promise((r) => setTimeout(r, 0));
  return { get, calls, flush, tick: (ms: number) => (t += ms) };
}

describe('sharedReads', () => {
  it('shares one in-flight read between concurrent requests and reuses it within the TTL', async () => {
    const h = harness();
    const a = h.get('k');
    const b = h.get('k');
    expect(h.calls).toHaveLength(1);
    h.calls[0]?.resolve('v1');
    expect(await a).toBe('v1');
    expect(await b).toBe('v1');
    h.tick(999);
    expect(await h.get('k')).toBe('v1');
    expect(h.calls).toHaveLength(1);
  });

  it('serves the last value while one background read refreshes it, then the new value', async () => {
    const h = harness();
    const first = h.get('k');
    h.calls[0]?.resolve('v1');
    await first;
    h.tick(1_500);
    expect(await h.get('k')).toBe('v1'); // stale, answered at once
    expect(await h.get('k')).toBe('v1');
    expect(h.calls).toHaveLength(2); // one refresh, not one per request
    expect(h.calls[1]?.at).toBe(1_500);
    h.calls[1]?.resolve('v2');
    await h.flush();
    expect(await h.get('k')).toBe('v2');
    expect(h.calls).toHaveLength(2);
  });

  it('makes the request wait for a fresh read once the value is older than staleMs', async () => {
    const h = harness();
    const first = h.get('k');
    h.calls[0]?.resolve('v1');
    await first;
    h.tick(5_000);
    const next = h.get('k');
    expect(h.calls).toHaveLength(2);
    h.calls[1]?.resolve('v2');
    expect(await next).toBe('v2');
  });

  it('never reuses a failed read, and keeps serving the last value when a refresh fails', async () => {
    const h = harness();
    const failed = h.get('k');
    h.calls[0]?.reject(new Error('throttled'));
    await expect(failed).rejects.toThrow('throttled');
    await h.flush();
    const retry = h.get('k');
    expect(h.calls).toHaveLength(2);
    h.calls[1]?.resolve('v1');
    expect(await retry).toBe('v1');
    h.tick(2_000);
    expect(await h.get('k')).toBe('v1');
    h.calls[2]?.reject(new Error('throttled'));
    await h.flush();
    expect(await h.get('k')).toBe('v1'); // still stale-but-served, and a new refresh starts
    expect(h.calls).toHaveLength(4);
  });

  it('keys are independent and bounded by maxEntries (oldest read dropped)', async () => {
    const h = harness(1_000, 5_000, 2);
    for (const k of ['a', 'b', 'c']) {
      const p = h.get(k);
      h.calls.at(-1)?.resolve(k);
      expect(await p).toBe(k);
    }
    expect(h.calls).toHaveLength(3);
    await h.get('c');
    await h.get('b');
    expect(h.calls).toHaveLength(3);
    const again = h.get('a'); // dropped: read again
    expect(h.calls).toHaveLength(4);
    h.calls[3]?.resolve('a2');
    expect(await again).toBe('a2');
  });

  it('reads every time when the TTL is 0', async () => {
    const h = harness(0, 0);
    void h.get('k');
    void h.get('k');
    expect(h.calls).toHaveLength(2);
  });
});
