/**
 * One BatchWriteItem chunk, retried until DynamoDB has processed every item. Shared by the
 * feature store and the recommendation store: `UnprocessedItems` are never ignored, and a
 * chunk still unprocessed after the last attempt fails loudly (the caller's error says what).
 */
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** DynamoDB's limit of requests in one BatchWriteItem. */
export const BATCH_WRITE_LIMIT = 25;

export interface BatchPutChunkOptions {
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly tableName: string;
  /** At most `BATCH_WRITE_LIMIT` items. */
  readonly items: readonly Record<string, unknown>[];
  readonly maxAttempts: number;
  /** Waits before retry `attempt` (1, 2, …): jittered exponential backoff. */
  readonly backoff: (attempt: number) => Promise<void>;
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
  let pending: NonNullable<ConstructorParameters<typeof BatchWriteCommand>[0]['RequestItems']>[string] =
    options.items.map((Item) => ({ PutRequest: { Item } }));
  for (let attempt = 0; pending.length > 0; attempt += 1) {
    if (attempt >= options.maxAttempts) throw options.exhausted(pending.length);
    if (attempt > 0) await options.backoff(attempt);
    options.onRequest?.();
    const res = await options.client.send(
      new BatchWriteCommand({ RequestItems: { [options.tableName]: pending } }),
    );
    pending = res.UnprocessedItems?.[options.tableName] ?? [];
  }
}
