/**
 * One BatchWriteItem chunk, retried until DynamoDB has processed every item. Shared by the
 * feature store and the recommendation store: `UnprocessedItems` are never ignored, and a
 * chunk still unprocessed after the last attempt fails loudly (the caller's error says what).
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type BackoffPolicy, type RetryDeps, retryPending } from './retry.ts';

/** DynamoDB's limit of requests in one BatchWriteItem. */
export const BATCH_WRITE_LIMIT = 25;

export interface BatchPutChunkOptions {
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly tableName: string;
  /** At most `BATCH_WRITE_LIMIT` items. */
  readonly items: readonly Record<string, unknown>[];
  /** Attempts and backoff for unprocessed items (lambdas/shared/retry.ts). */
  readonly policy: BackoffPolicy;
  readonly retry?: RetryDeps;
  /** Called once per request sent (request counters for benchmarks and metrics). */
  readonly onRequest?: () => void;
  /** The error to throw when items are still unprocessed after `maxAttempts` requests. */
  readonly exhausted: (remaining: number) => Error;
}

export async function batchPutChunk(options: BatchPutChunkOptions): Promise<void> {
  if (options.items.length > BATCH_WRITE_LIMIT) {
    throw new RangeError(
      `a BatchWriteItem takes at most ${BATCH_WRITE_LIMIT} items, got ${options.items.length}`,
    );
  }
  type WriteRequest = NonNullable<
    ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']
  >[string][number];
  const requests: WriteRequest[] = options.items.map((Item) => ({ PutRequest: { Item } }));
  const { left } = await retryPending(
    requests,
    options.policy,
    async (pending) => {
      options.onRequest?.();
      const res = await options.client.send(
        new BatchWriteCommand({ RequestItems: { [options.tableName]: [...pending] } }),
      );
      return res.UnprocessedItems?.[options.tableName] ?? [];
    },
    options.retry,
  );
  if (left.length > 0) throw options.exhausted(left.length);
}
