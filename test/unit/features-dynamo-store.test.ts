import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { DynamoFeatureStore, UnprocessedItemsError } from '../../lambdas/shared/features/dynamo-store.ts';
import { DYNAMO_LIMITS } from '../../lambdas/shared/features/store.ts';

type Sent = { name: string; input: Record<string, unknown> };

/** A scripted document client: answers each command with the next scripted reply for its type. */
function fakeClient(script: Partial<Record<string, ((input: Record<string, unknown>) => unknown)[]>>) {
  const sent: Sent[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: unknown }) {
      const name = command.constructor.name;
      const input = command.input as Record<string, unknown>;
      sent.push({ name, input: structuredClone(input) });
      const next = script[name]?.shift();
      if (!next) throw new Error(`unexpected ${name}`);
      return next(input);
    },
  };
  return { client: client as unknown as ConstructorParameters<typeof DynamoFeatureStore>[0]['client'], sent };
}

const noSleep = async () => undefined;

describe('DynamoFeatureStore', () => {
  it('batchGet uses consistent reads in chunks of 100 and retries unprocessed keys', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => ({ pk: `EVENT#e${i}`, sk: 'EVENT' }));
    const { client, sent } = fakeClient({
      BatchGetCommand: [
        (input) => {
          const ks = (input.RequestItems as Record<string, { Keys: unknown[] }>).t?.Keys ?? [];
          return { Responses: { t: ks.slice(0, 90) }, UnprocessedKeys: { t: { Keys: ks.slice(90) } } };
        },
        (input) => ({
          Responses: { t: (input.RequestItems as Record<string, { Keys: unknown[] }>).t?.Keys },
        }),
        (input) => ({
          Responses: { t: (input.RequestItems as Record<string, { Keys: unknown[] }>).t?.Keys },
        }),
      ],
    });
    const store = new DynamoFeatureStore({ client, tableName: 't', sleep: noSleep });
    const items = await store.batchGet(keys);
    expect(items).toHaveLength(150);
    expect(
      sent.map((s) => (s.input.RequestItems as Record<string, { Keys: unknown[] }>).t?.Keys.length),
    ).toEqual([100, 10, 50]);
    expect(
      sent.every(
        (s) => (s.input.RequestItems as Record<string, { ConsistentRead: boolean }>).t?.ConsistentRead,
      ),
    ).toBe(true);
    expect(store.stats.readRequests).toBe(3);
    expect(sent[0]?.name).toBe(BatchGetCommand.name);
  });

  it('batchPut writes 25 per request, retries UnprocessedItems with backoff, never ignores them', async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ pk: `EVENT#e${i}`, sk: 'EVENT', seq: '1' }));
    const sleeps: number[] = [];
    const { client, sent } = fakeClient({
      BatchWriteCommand: [
        (input) => ({
          UnprocessedItems: { t: (input.RequestItems as Record<string, unknown[]>).t?.slice(0, 5) },
        }),
        () => ({ UnprocessedItems: {} }),
        () => ({}),
      ],
    });
    const store = new DynamoFeatureStore({
      client,
      tableName: 't',
      random: () => 0.5,
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    });
    await store.batchPut(items);
    expect(sent.map((s) => (s.input.RequestItems as Record<string, unknown[]>).t?.length)).toEqual([
      25, 5, 5,
    ]);
    expect(store.stats.writeRequests).toBe(3);
    expect(sleeps).toEqual([25]);
    expect(sent[0]?.name).toBe(BatchWriteCommand.name);
  });

  it('batchPut throws when items stay unprocessed', async () => {
    const stuck = (input: Record<string, unknown>) => ({ UnprocessedItems: input.RequestItems });
    const { client } = fakeClient({ BatchWriteCommand: [stuck, stuck, stuck] });
    const store = new DynamoFeatureStore({ client, tableName: 't', sleep: noSleep, maxBatchAttempts: 3 });
    await expect(store.batchPut([{ pk: 'a', sk: 'b' }])).rejects.toBeInstanceOf(UnprocessedItemsError);
  });

  it('applyWindowUpdate sends one ADD with placeholders and the sequence condition', async () => {
    const { client, sent } = fakeClient({
      UpdateCommand: [
        () => ({}),
        () => {
          throw new ConditionalCheckFailedException({ message: 'conditional', $metadata: {} });
        },
      ],
    });
    const store = new DynamoFeatureStore({ client, tableName: 't' });
    const update = {
      add: new Map([
        ['p#p-1#Home%20%26%20Garden', 2],
        ['revenue_cents', 2525],
      ]),
      firstSeq: '0001',
      lastSeq: '0009',
      expiresAt: 123,
    };
    expect(await store.applyWindowUpdate({ pk: 'TREND#5m#x', sk: 'SHARD#s' }, update)).toBe(true);
    expect(sent[0]?.name).toBe(UpdateCommand.name);
    expect(sent[0]?.input).toMatchObject({
      Key: { pk: 'TREND#5m#x', sk: 'SHARD#s' },
      UpdateExpression: 'ADD #a0 :a0, #a1 :a1 SET #seq = :last, #exp = :exp',
      ConditionExpression: 'attribute_not_exists(#seq) OR #seq < :first',
      ExpressionAttributeNames: {
        '#a0': 'p#p-1#Home%20%26%20Garden',
        '#a1': 'revenue_cents',
        '#seq': 'seq',
        '#exp': 'expires_at',
      },
      ExpressionAttributeValues: { ':a0': 2, ':a1': 2525, ':first': '0001', ':last': '0009', ':exp': 123 },
    });
    expect(await store.applyWindowUpdate({ pk: 'TREND#5m#x', sk: 'SHARD#s' }, update)).toBe(false);
    expect(store.stats).toMatchObject({ writeRequests: 2, conditionalFailures: 1 });
  });

  it('an update with the maximum number of counters keeps its expression under 3,500 characters', async () => {
    const { client, sent } = fakeClient({ UpdateCommand: [() => ({})] });
    const store = new DynamoFeatureStore({ client, tableName: 't' });
    const add = new Map<string, number>();
    for (let i = 0; i < DYNAMO_LIMITS.maxAddAttributesPerUpdate; i += 1) add.set(`p#product-${i}`, 1);
    await store.applyWindowUpdate({ pk: 'p', sk: 's' }, { add, firstSeq: '1', lastSeq: '2', expiresAt: 1 });
    const expression = String(sent[0]?.input.UpdateExpression);
    expect(expression.length).toBeLessThan(3_500);
    expect(Object.keys(sent[0]?.input.ExpressionAttributeNames ?? {})).toHaveLength(
      DYNAMO_LIMITS.maxAddAttributesPerUpdate + 2,
    );
  });

  it('putIfVersion conditions on absence or on the expected version; other errors propagate', async () => {
    const { client, sent } = fakeClient({
      PutCommand: [
        () => ({}),
        () => {
          throw Object.assign(new Error('conditional'), { name: 'ConditionalCheckFailedException' });
        },
        () => {
          throw Object.assign(new Error('throttled'), { name: 'ProvisionedThroughputExceededException' });
        },
      ],
    });
    const store = new DynamoFeatureStore({ client, tableName: 't' });
    expect(await store.putIfVersion({ pk: 'USER#u', sk: 'RECENT', version: 1 }, null)).toBe(true);
    expect(sent[0]?.input).toMatchObject({ ConditionExpression: 'attribute_not_exists(#pk)' });
    expect(await store.putIfVersion({ pk: 'USER#u', sk: 'RECENT', version: 3 }, 2)).toBe(false);
    expect(sent[1]?.input).toMatchObject({
      ConditionExpression: '#v = :v',
      ExpressionAttributeValues: { ':v': 2 },
    });
    await expect(store.putIfVersion({ pk: 'USER#u', sk: 'RECENT', version: 3 }, 2)).rejects.toThrow(
      'throttled',
    );
    expect(sent[0]?.name).toBe(PutCommand.name);
  });

  it('get and queryPartition read consistently and paginate', async () => {
    const { client, sent } = fakeClient({
      GetCommand: [() => ({ Item: { pk: 'a', sk: 'b', n: 1 } }), () => ({})],
      QueryCommand: [
        () => ({ Items: [{ pk: 'T', sk: '1' }], LastEvaluatedKey: { pk: 'T', sk: '1' } }),
        () => ({ Items: [{ pk: 'T', sk: '2' }] }),
      ],
    });
    const store = new DynamoFeatureStore({ client, tableName: 't' });
    expect(await store.get({ pk: 'a', sk: 'b' })).toEqual({ pk: 'a', sk: 'b', n: 1 });
    expect(await store.get({ pk: 'a', sk: 'c' })).toBeUndefined();
    expect((await store.queryPartition('T')).map((i) => i.sk)).toEqual(['1', '2']);
    expect(sent.filter((s) => s.name === GetCommand.name).every((s) => s.input.ConsistentRead === true)).toBe(
      true,
    );
    expect(sent.filter((s) => s.name === QueryCommand.name)[1]?.input.ExclusiveStartKey).toEqual({
      pk: 'T',
      sk: '1',
    });
  });
});
