/**
 * FeatureStore on a DynamoDB table (the real one on AWS, the emulator locally), through the
 * document client. Every batch call retries its unprocessed keys/items with jittered backoff
 * and throws if some are still left: a write that did not happen is never reported as done.
 * Throttling and 5xx of single calls are retried by the SDK (`maxAttempts` in aws-clients.ts).
 */

import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { batchPutChunk } from '../dynamo-batch.ts';
import { type BackoffPolicy, retryPending } from '../retry.ts';
import type { FeatureKey } from './feature-keys.ts';
import {
  DYNAMO_LIMITS,
  type FeatureItem,
  type FeatureStore,
  newStats,
  type StoreStats,
  type WindowUpdate,
} from './store.ts';

export class UnprocessedItemsError extends Error {
  constructor(
    readonly operation: 'BatchGetItem' | 'BatchWriteItem',
    readonly remaining: number,
  ) {
    super(`${operation}: ${remaining} keys/items still unprocessed after retries`);
    this.name = 'UnprocessedItemsError';
  }
}

export interface DynamoFeatureStoreOptions {
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly tableName: string;
  /** Attempts for unprocessed batch keys/items. @default 8 */
  readonly maxBatchAttempts?: number;
  /** Delay ceiling before the first batch retry, ms; doubles up to 2 s, full jitter. @default 50 */
  readonly backoffBaseMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export const DEFAULT_MAX_BATCH_ATTEMPTS = 8;
export const DEFAULT_BACKOFF_BASE_MS = 50;
const BACKOFF_CAP_MS = 2_000;

type Key = Record<string, unknown>;

function isItem(value: unknown): value is FeatureItem {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Record<string, unknown>).pk === 'string' &&
    typeof (value as Record<string, unknown>).sk === 'string'
  );
}

function isConditionalFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === 'ConditionalCheckFailedException')
  );
}

export class DynamoFeatureStore implements FeatureStore {
  readonly stats: StoreStats = newStats();
  readonly tableName: string;
  private readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  private readonly maxBatchAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(options: DynamoFeatureStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.maxBatchAttempts = options.maxBatchAttempts ?? DEFAULT_MAX_BATCH_ATTEMPTS;
    this.backoffBaseMs = options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
  }

  private get retryPolicy(): BackoffPolicy {
    return { maxAttempts: this.maxBatchAttempts, baseMs: this.backoffBaseMs, capMs: BACKOFF_CAP_MS };
  }

  async batchGet(keys: readonly FeatureKey[]): Promise<FeatureItem[]> {
    const out: FeatureItem[] = [];
    for (let i = 0; i < keys.length; i += DYNAMO_LIMITS.batchGetKeys) {
      const chunk: Key[] = keys.slice(i, i + DYNAMO_LIMITS.batchGetKeys).map((k) => ({ pk: k.pk, sk: k.sk }));
      const { left } = await retryPending(
        chunk,
        this.retryPolicy,
        async (pending) => {
          this.stats.readRequests += 1;
          const res = await this.client.send(
            new BatchGetCommand({
              RequestItems: { [this.tableName]: { Keys: [...pending], ConsistentRead: true } },
            }),
          );
          for (const item of res.Responses?.[this.tableName] ?? []) if (isItem(item)) out.push(item);
          return res.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        },
        { sleep: this.sleep, random: this.random },
      );
      if (left.length > 0) throw new UnprocessedItemsError('BatchGetItem', left.length);
    }
    return out;
  }

  async get(key: FeatureKey): Promise<FeatureItem | undefined> {
    this.stats.readRequests += 1;
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { pk: key.pk, sk: key.sk }, ConsistentRead: true }),
    );
    return isItem(res.Item) ? res.Item : undefined;
  }

  async queryPartition(pk: string): Promise<FeatureItem[]> {
    const out: FeatureItem[] = [];
    let start: Key | undefined;
    do {
      this.stats.readRequests += 1;
      const res = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': 'pk' },
          ExpressionAttributeValues: { ':pk': pk },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of res.Items ?? []) if (isItem(item)) out.push(item);
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async scanAll(): Promise<FeatureItem[]> {
    const out: FeatureItem[] = [];
    let start: Key | undefined;
    do {
      this.stats.readRequests += 1;
      const res = await this.client.send(
        new ScanCommand({ TableName: this.tableName, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      for (const item of res.Items ?? []) if (isItem(item)) out.push(item);
      start = res.LastEvaluatedKey;
    } while (start);
    return out;
  }

  async applyWindowUpdate(key: FeatureKey, update: WindowUpdate): Promise<boolean> {
    const names: Record<string, string> = { '#seq': 'seq', '#exp': 'expires_at' };
    const values: Record<string, unknown> = {
      ':first': update.firstSeq,
      ':last': update.lastSeq,
      ':exp': update.expiresAt,
    };
    const adds: string[] = [];
    let i = 0;
    for (const [name, delta] of update.add) {
      // Base-36 placeholders keep the expression short: 300 counters stay under ~3.3 KB.
      const id = i.toString(36);
      names[`#a${id}`] = name;
      values[`:a${id}`] = delta;
      adds.push(`#a${id} :a${id}`);
      i += 1;
    }
    const expression = `${adds.length > 0 ? `ADD ${adds.join(', ')} ` : ''}SET #seq = :last, #exp = :exp`;
    return this.conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: key.pk, sk: key.sk },
          UpdateExpression: expression,
          ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :first',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      ),
    );
  }

  async putIfVersion(item: FeatureItem, expectedVersion: number | null): Promise<boolean> {
    return this.conditionalWrite(() =>
      this.client.send(
        new PutCommand(
          expectedVersion === null
            ? {
                TableName: this.tableName,
                Item: item,
                ConditionExpression: 'attribute_not_exists(#pk)',
                ExpressionAttributeNames: { '#pk': 'pk' },
              }
            : {
                TableName: this.tableName,
                Item: item,
                ConditionExpression: '#v = :v',
                ExpressionAttributeNames: { '#v': 'version' },
                ExpressionAttributeValues: { ':v': expectedVersion },
              },
        ),
      ),
    );
  }

  /** Counts and sends one conditional write: true if it applied, false if its condition failed. */
  private async conditionalWrite(send: () => Promise<unknown>): Promise<boolean> {
    this.stats.writeRequests += 1;
    try {
      await send();
      return true;
    } catch (error: unknown) {
      if (isConditionalFailure(error)) {
        this.stats.conditionalFailures += 1;
        return false;
      }
      throw error;
    }
  }

  async batchPut(items: readonly FeatureItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += DYNAMO_LIMITS.batchWriteItems) {
      await batchPutChunk({
        client: this.client,
        tableName: this.tableName,
        items: items.slice(i, i + DYNAMO_LIMITS.batchWriteItems),
        policy: this.retryPolicy,
        retry: { sleep: this.sleep, random: this.random },
        onRequest: () => {
          this.stats.writeRequests += 1;
        },
        exhausted: (remaining) => new UnprocessedItemsError('BatchWriteItem', remaining),
      });
    }
  }
}
