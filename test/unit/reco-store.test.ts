import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  itemListKey,
  popularKey,
  RecommendationStore,
  UnprocessedWritesError,
  userListKey,
} from '../../lambdas/shared/recommender/store.ts';

type Sent = { RequestItems: Record<string, { PutRequest: { Item: { pk: string } } }[]> };

/** A DynamoDB client that leaves the first `unprocessed` items of a call unprocessed `times` times. */
function flakyClient(unprocessed: number, times: number) {
  const sent: string[][] = [];
  let left = times;
  return {
    sent,
    send: async (command: unknown) => {
      if (!(command instanceof BatchWriteCommand)) throw new Error('unexpected command');
      const input = command.input as unknown as Sent;
      const requests = input.RequestItems.t ?? [];
      sent.push(requests.map((r) => r.PutRequest.Item.pk));
      if (left > 0) {
        left--;
        return { UnprocessedItems: { t: requests.slice(0, unprocessed) } };
      }
      return { UnprocessedItems: {} };
    },
  };
}

const items = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ ...userListKey('v1', `u${i}`), ids: [] }));

describe('publishing writes', () => {
  it('writes in batches of 25 and retries UnprocessedItems until all are written', async () => {
    const client = flakyClient(3, 2);
    const store = new RecommendationStore({
      client,
      tableName: 't',
      sleep: async () => {},
      writeConcurrency: 1,
    });
    expect(await store.putItems(items(60))).toBe(60);
    expect(client.sent.map((b) => b.length)).toEqual([25, 3, 3, 25, 10]);
    const written = new Set(client.sent.flat());
    expect(written.size).toBe(60);
    expect(store.stats.retries).toBe(2);
  });

  it('fails loudly when items stay unprocessed', async () => {
    const client = flakyClient(2, 100);
    const store = new RecommendationStore({
      client,
      tableName: 't',
      sleep: async () => {},
      maxBatchAttempts: 3,
    });
    await expect(store.putItems(items(5))).rejects.toThrow(UnprocessedWritesError);
  });
});

describe('table keys', () => {
  it('builds versioned keys and refuses forged ids', () => {
    expect(userListKey('v1', 'u1')).toEqual({ pk: 'MODEL#v1#USER#u1', sk: 'TOPK' });
    expect(itemListKey('v1', 'p1')).toEqual({ pk: 'MODEL#v1#ITEM#p1', sk: 'SIMILAR' });
    expect(popularKey('v1', 'Home & Kitchen')).toEqual({
      pk: 'MODEL#v1#POPULAR',
      sk: 'CAT#Home%20%26%20Kitchen',
    });
    expect(() => userListKey('v1', 'u1#ITEM#x')).toThrow();
    expect(() => itemListKey('../v', 'p1')).toThrow();
  });
});
