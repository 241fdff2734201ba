import { BatchGetCommand, BatchWriteCommand, GetCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  itemListKey,
  popularKey,
  RecommendationStore,
  splitOf,
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

describe('list cache of the serving container', () => {
  /** A table of item and popular lists answering GetItem and BatchGetItem, counting calls. */
  function tableClient() {
    const rows = new Map<string, Record<string, unknown>>();
    const put = (k: { pk: string; sk: string }, attrs: Record<string, unknown>) =>
      rows.set(`${k.pk}|${k.sk}`, { ...k, ...attrs });
    put(itemListKey('v1', 'p1'), { ids: ['p2'], scores: [1], cats: ['Books'], category: 'Books' });
    put(itemListKey('v1', 'p2'), { ids: ['p1'], scores: [1], cats: ['Books'], category: 'Books' });
    put(popularKey('v1'), { ids: ['p1', 'p2'], scores: [2, 1], cats: ['Books', 'Books'] });
    const calls = { get: 0, batchGet: 0, keys: 0 };
    const send = async (command: unknown) => {
      if (command instanceof GetCommand) {
        calls.get++;
        const k = command.input.Key as { pk: string; sk: string };
        return { Item: rows.get(`${k.pk}|${k.sk}`) };
      }
      if (command instanceof BatchGetCommand) {
        calls.batchGet++;
        const keys = (command.input.RequestItems?.t?.Keys ?? []) as { pk: string; sk: string }[];
        calls.keys += keys.length;
        return { Responses: { t: keys.flatMap((k) => rows.get(`${k.pk}|${k.sk}`) ?? []) } };
      }
      throw new Error('unexpected command');
    };
    return { send, calls };
  }

  it('is off by default: every lookup reads the table', async () => {
    const client = tableClient();
    const store = new RecommendationStore({ client, tableName: 't' });
    await store.getItemList('v1', 'p1');
    await store.getItemList('v1', 'p1');
    await store.getPopular('v1');
    await store.getPopular('v1');
    expect(client.calls.get).toBe(4);
    expect(store.stats.cacheHits).toBe(0);
  });

  it('reads each list of a version once, remembers unknown items, and reads only misses in batches', async () => {
    const client = tableClient();
    const store = new RecommendationStore({ client, tableName: 't', listCacheEntries: 100 });
    const first = await store.getItemLists('v1', ['p1', 'p9']);
    expect([...first.keys()]).toEqual(['p1']);
    expect(client.calls).toEqual({ get: 0, batchGet: 1, keys: 2 });
    const second = await store.getItemLists('v1', ['p1', 'p9', 'p2']);
    expect([...second.keys()].sort()).toEqual(['p1', 'p2']);
    expect(client.calls).toEqual({ get: 0, batchGet: 2, keys: 3 }); // only p2 was read
    expect(second.get('p1')).toEqual(first.get('p1'));
    expect(await store.getItemList('v1', 'p9')).toBeUndefined(); // cached as unknown
    expect((await store.getItemList('v1', 'p2'))?.ids).toEqual(['p1']);
    expect((await store.getPopular('v1')).ids).toEqual(['p1', 'p2']);
    expect((await store.getPopular('v1')).ids).toEqual(['p1', 'p2']);
    expect((await store.getPopular('v1', 'Toys')).ids).toEqual([]);
    expect(client.calls.get).toBe(2); // popular ALL once, CAT#Toys once
    // Another version is another key: nothing leaks across versions.
    expect(await store.getItemList('v2', 'p1')).toBeUndefined();
    expect(client.calls.get).toBe(3);
  });

  it('hands out frozen lists, so no request can change what the next one sees', async () => {
    const client = tableClient();
    const store = new RecommendationStore({ client, tableName: 't', listCacheEntries: 100 });
    const list = await store.getItemList('v1', 'p1');
    expect(() => list?.ids.push('x')).toThrow(TypeError);
    expect((await store.getItemList('v1', 'p1'))?.ids).toEqual(['p2']);
  });

  it('keeps at most listCacheEntries lists', async () => {
    const client = tableClient();
    const store = new RecommendationStore({ client, tableName: 't', listCacheEntries: 1 });
    await store.getItemList('v1', 'p1');
    await store.getItemList('v1', 'p2');
    await store.getItemList('v1', 'p1');
    expect(client.calls.get).toBe(3);
  });
});

describe('active pointer with an A/B test', () => {
  const storeWith = (item: Record<string, unknown> | undefined) =>
    new RecommendationStore({
      client: {
        send: async (command: unknown) => {
          if (!(command instanceof GetCommand)) throw new Error('unexpected command');
          return { Item: item };
        },
      },
      tableName: 't',
    });
  const experiment = {
    name: 'exp-1',
    control: 'v1',
    treatment: 'v2',
    split: 0.3,
    started_at: '2026-12-01T00:00:00Z',
  };
  const base = {
    pk: 'REGISTRY',
    sk: 'ACTIVE',
    version: 'v1',
    previous: 'v0',
    activated_at: '2026-11-30T00:00:00Z',
  };

  it('reads a running test and the last finished one', async () => {
    const last = { ...experiment, name: 'exp-0', stopped_at: '2026-11-30T00:00:00Z', winner: 'v1' };
    const p = await storeWith({ ...base, experiment, last_experiment: last }).getActive(true);
    expect(p).toEqual({
      version: 'v1',
      previous: 'v0',
      activated_at: '2026-11-30T00:00:00Z',
      experiment,
      last_experiment: last,
    });
    expect(splitOf(experiment)).toEqual({ experiment: 'exp-1', versionA: 'v1', versionB: 'v2', shareB: 0.3 });
  });

  it.each([
    ['a split outside [0, 1]', { ...experiment, split: 1.5 }],
    ['a split that is not a number', { ...experiment, split: '0.5' }],
    ['the same version twice', { ...experiment, treatment: 'v1' }],
    ['a control that is not the pointer version', { ...experiment, control: 'v9' }],
    ['no name', { ...experiment, name: undefined }],
  ])('serves the pointer version alone when the stored test has %s', async (_why, bad) => {
    const p = await storeWith({ ...base, experiment: bad }).getActive(true);
    expect(p?.version).toBe('v1');
    expect(p?.experiment).toBeUndefined();
  });
});
