/**
 * The one retry loop of shoplake: capped exponential backoff with jitter between attempts, as
 * the AWS Architecture Blog's "Exponential Backoff and Jitter" recommends. Every retry in the
 * code goes through here — DynamoDB batch writes (`UnprocessedItems`) and reads
 * (`UnprocessedKeys`), Kinesis PutRecords (per-record `ErrorCode`), the CLI's replay through
 * the ingest API, the local Iceberg commit (a lost optimistic race) — so attempts, delays and
 * "what happens after the last attempt" are decided once and tested once.
 *
 * No library: the loops retry the *part* of a batch that failed (not a call that threw), which
 * p-retry and friends do not model, and this module must stay tiny inside every Lambda bundle.
 */

export interface BackoffPolicy {
  /** Attempts in all, the first one included (≥ 1). */
  readonly maxAttempts: number;
  /** Delay ceiling before the first retry, ms; it doubles with every further retry. */
  readonly baseMs: number;
  /** Largest delay ceiling, ms. */
  readonly capMs: number;
  /**
   * `full`: a uniform delay in [0, ceiling) (spreads competing clients best); `equal`: in
   * [ceiling/2, ceiling) (never retries at once); `none`: the ceiling itself.
   * @default 'full'
   */
  readonly jitter?: 'full' | 'equal' | 'none';
}

export interface RetryDeps {
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1). @default Math.random */
  readonly random?: () => number;
  /** Called before each retry's wait (retry = 1, 2, …), e.g. to count retries. */
  readonly onRetry?: (retry: number, delayMs: number) => void;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The wait before retry `retry` (1, 2, …): min(cap, base · 2^(retry-1)), jittered. */
export function backoffDelay(
  retry: number,
  policy: BackoffPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, retry - 1));
  switch (policy.jitter ?? 'full') {
    case 'none':
      return ceiling;
    case 'equal':
      return Math.floor(ceiling / 2 + random() * (ceiling / 2));
    default:
      return Math.floor(random() * ceiling);
  }
}

/** One attempt's outcome: finished with a value, or something is left to retry. */
export type AttemptOutcome<T, P> = { readonly done: T } | { readonly retry: P };

export type RetryResult<T, P> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | { readonly ok: false; readonly left: P; readonly attempts: number };

/**
 * Runs `attempt(n)` (n = 1, 2, …) until it reports `done` or `maxAttempts` ran, waiting
 * `backoffDelay` between attempts (never after the last). When attempts run out it returns
 * what the last attempt left, so the caller decides how to fail — it never gives up silently.
 */
export async function retryWithBackoff<T, P>(
  policy: BackoffPolicy,
  attempt: (n: number) => Promise<AttemptOutcome<T, P>>,
  deps: RetryDeps = {},
): Promise<RetryResult<T, P>> {
  if (!(policy.maxAttempts >= 1)) throw new RangeError(`maxAttempts must be ≥ 1, got ${policy.maxAttempts}`);
  const sleep = deps.sleep ?? realSleep;
  const random = deps.random ?? Math.random;
  for (let n = 1; ; n += 1) {
    const outcome = await attempt(n);
    if ('done' in outcome) return { ok: true, value: outcome.done, attempts: n };
    if (n >= policy.maxAttempts) return { ok: false, left: outcome.retry, attempts: n };
    const delay = backoffDelay(n, policy, random);
    deps.onRetry?.(n, delay);
    await sleep(delay);
  }
}

/**
 * The batch shape of `retryWithBackoff`: `send` gets what is still pending and returns what
 * still is afterwards (DynamoDB's unprocessed items, Kinesis's failed records…). Returns the
 * items left after the last attempt (empty when everything went through).
 */
export async function retryPending<I>(
  items: readonly I[],
  policy: BackoffPolicy,
  send: (pending: readonly I[], attempt: number) => Promise<readonly I[]>,
  deps: RetryDeps = {},
): Promise<{ readonly left: readonly I[]; readonly attempts: number }> {
  if (items.length === 0) return { left: [], attempts: 0 };
  let pending = items;
  const result = await retryWithBackoff<undefined, readonly I[]>(
    policy,
    async (n) => {
      pending = await send(pending, n);
      return pending.length === 0 ? { done: undefined } : { retry: pending };
    },
    deps,
  );
  return { left: result.ok ? [] : result.left, attempts: result.attempts };
}
