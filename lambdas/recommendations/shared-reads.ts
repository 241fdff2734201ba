/**
 * Reads that every request would repeat (live trending windows: the same for all shoppers),
 * shared per container:
 *  - within `ttlMs` of a read, requests reuse it (concurrent requests share one in-flight read);
 *  - after that, for up to `staleMs`, a request gets the last value at once while one
 *    background read refreshes it, so no request waits on a refresh;
 *  - older than `staleMs` (or never read), the request reads and waits.
 * A failed read is never reused: the next request reads again. Times come from `now`, so tests
 * drive expiry with a fake clock.
 */
export interface SharedReadsOptions {
  readonly ttlMs: number;
  /** Age up to which a value is served while it refreshes; ≥ `ttlMs`. */
  readonly staleMs: number;
  /** Keys kept; beyond it the oldest read is dropped (keys can come from requests). */
  readonly maxEntries: number;
  readonly now: () => number;
}

interface Entry<T> {
  at: number;
  value: Promise<T>;
  settled: boolean;
  refreshing: boolean;
}

export function sharedReads<T>(
  options: SharedReadsOptions,
): (key: string, load: (now: number) => Promise<T>) => Promise<T> {
  const entries = new Map<string, Entry<T>>();

  function start(key: string, load: (now: number) => Promise<T>, t: number): Entry<T> {
    const entry: Entry<T> = { at: t, value: load(t), settled: false, refreshing: false };
    entry.value.then(
      () => {
        entry.settled = true;
      },
      () => {
        if (entries.get(key) === entry) entries.delete(key);
      },
    );
    return entry;
  }

  function put(key: string, entry: Entry<T>): void {
    entries.delete(key); // re-insert: Map order is then oldest read first
    entries.set(key, entry);
    if (entries.size > options.maxEntries) {
      const oldest = entries.keys().next().value;
      if (oldest !== undefined) entries.delete(oldest);
    }
  }

  /** `load` reads the value of `key` (the same for every call with that key). */
  return (key: string, load: (now: number) => Promise<T>): Promise<T> => {
    const t = options.now();
    if (options.ttlMs <= 0) return load(t);
    const hit = entries.get(key);
    if (hit && t - hit.at < options.ttlMs) return hit.value;
    if (hit?.settled && t - hit.at < options.staleMs) {
      if (!hit.refreshing) {
        hit.refreshing = true;
        const next = start(key, load, t);
        next.value.then(
          () => {
            if (entries.get(key) === hit) put(key, next);
          },
          () => {
            hit.refreshing = false; // keep serving the last value; the next request retries
          },
        );
      }
      return hit.value;
    }
    const entry = start(key, load, t);
    put(key, entry);
    return entry.value;
  };
}
