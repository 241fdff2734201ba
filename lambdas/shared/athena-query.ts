/**
 * Waiting for an Athena query, once for every caller: the analytics API's query port, the
 * ETL/training query engine (local/engine/athena.ts) and the training Lambdas' snapshot
 * lookup. GetQueryExecution is polled with a doubling delay up to a ceiling and a deadline;
 * FAILED / CANCELLED and the deadline are typed errors carrying the execution id.
 */
import { type AthenaClient, GetQueryExecutionCommand } from '@aws-sdk/client-athena';

export class AthenaQueryFailedError extends Error {
  constructor(
    readonly queryExecutionId: string,
    readonly state: string,
    readonly reason: string,
    readonly errorType?: number,
  ) {
    super(`Athena query ${queryExecutionId} ${state}: ${reason}`);
    this.name = 'AthenaQueryFailedError';
  }
}

export class AthenaQueryTimeoutError extends Error {
  constructor(
    readonly queryExecutionId: string,
    readonly waitedMs: number,
  ) {
    super(`Athena query ${queryExecutionId} still running after ${waitedMs} ms`);
    this.name = 'AthenaQueryTimeoutError';
  }
}

export interface AthenaWaitOptions {
  /** First poll delay, ms; doubles up to `pollMaxMs`. */
  readonly pollInitialMs: number;
  readonly pollMaxMs: number;
  /** Give up with `AthenaQueryTimeoutError` after this long, ms (the last wait is cut to fit). */
  readonly timeoutMs: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
}

/** Polls until the query leaves QUEUED/RUNNING; resolves on SUCCEEDED, throws otherwise. */
export async function waitForAthenaQuery(
  client: Pick<AthenaClient, 'send'>,
  queryExecutionId: string,
  options: AthenaWaitOptions,
): Promise<void> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const now = options.now ?? Date.now;
  const begin = now();
  let delay = options.pollInitialMs;
  for (;;) {
    const out = await client.send(new GetQueryExecutionCommand({ QueryExecutionId: queryExecutionId }));
    const status = out.QueryExecution?.Status;
    const state = status?.State ?? 'UNKNOWN';
    if (state === 'SUCCEEDED') return;
    if (state === 'FAILED' || state === 'CANCELLED') {
      throw new AthenaQueryFailedError(
        queryExecutionId,
        state,
        status?.StateChangeReason ?? status?.AthenaError?.ErrorMessage ?? 'no reason given',
        status?.AthenaError?.ErrorType,
      );
    }
    const waited = now() - begin;
    if (waited >= options.timeoutMs) throw new AthenaQueryTimeoutError(queryExecutionId, waited);
    await sleep(Math.min(delay, Math.max(0, options.timeoutMs - waited)));
    delay = Math.min(delay * 2, options.pollMaxMs);
  }
}
