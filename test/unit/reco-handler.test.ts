import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import {
  createRecommendationsHandler,
  modelVersionOfRecId,
  type RecommendationReader,
  recId,
} from '../../lambdas/recommendations/recommendations.ts';
import { ID_PATTERN, parseEvent, type ShopEvent } from '../../lambdas/shared/event-schema.ts';
import { applyRecentItems, applyWindowAggregates } from '../../lambdas/shared/features/apply.ts';
import { padSequence } from '../../lambdas/shared/features/feature-keys.ts';
import { MemoryFeatureStore } from '../../lambdas/shared/features/memory-store.ts';
import type { ItemListItem, StoredList, UserListItem } from '../../lambdas/shared/recommender/store.ts';

const NOW = Date.parse('2026-11-21T10:02:00Z');

function fakeStore(version: string | null): RecommendationReader {
  const users = new Map<string, UserListItem>([
    [
      'u1',
      {
        ids: ['p9', 'p8', 'p7'],
        scores: [0.9, 0.8, 0.7],
        cats: ['Books', 'Toys', 'Books'],
        purchased: ['p1'],
      },
    ],
  ]);
  const items = new Map<string, ItemListItem>([
    [
      'p1',
      {
        ids: ['p2', 'p3'],
        scores: [0.6, 0.5],
        cats: ['Books', 'Toys'],
        category: 'Books',
        next_ids: [],
        next_scores: [],
      },
    ],
    [
      'p5',
      {
        ids: ['p6', 'p9'],
        scores: [0.9, 0.4],
        cats: ['Toys', 'Books'],
        category: 'Toys',
        next_ids: ['p4'],
        next_scores: [1],
      },
    ],
  ]);
  const popular: StoredList = {
    ids: ['p1', 'p2', 'p3', 'p4'],
    scores: [1, 0.8, 0.5, 0.1],
    cats: ['Books', 'Books', 'Toys', 'Toys'],
  };
  return {
    getActive: async () =>
      version ? { version, previous: null, activated_at: '2026-11-21T09:00:00Z' } : undefined,
    getUserList: async (_v, id) => users.get(id),
    getItemList: async (_v, id) => items.get(id),
    getItemLists: async (_v, ids) =>
      new Map(ids.flatMap((id) => (items.has(id) ? [[id, items.get(id) as ItemListItem]] : []))),
    getPopular: async (_v, category) =>
      category === undefined
        ? popular
        : {
            ids: popular.ids.filter((_, i) => popular.cats[i] === category),
            scores: popular.scores.filter((_, i) => popular.cats[i] === category),
            cats: popular.cats.filter((c) => c === category),
          },
  };
}

function request(path: string, query: Record<string, string> = {}): APIGatewayProxyEvent {
  const m = /^\/users\/([^/]+)\/recommendations$|^\/items\/([^/]+)\/similar$/.exec(path);
  const resource = path.startsWith('/users/')
    ? '/users/{userId}/recommendations'
    : path.startsWith('/items/')
      ? '/items/{itemId}/similar'
      : path;
  return {
    httpMethod: 'GET',
    path,
    resource,
    pathParameters: m
      ? m[1]
        ? { userId: decodeURIComponent(m[1]) }
        : { itemId: decodeURIComponent(m[2] ?? '') }
      : null,
    queryStringParameters: Object.keys(query).length ? query : null,
    multiValueQueryStringParameters: null,
    headers: {},
    multiValueHeaders: {},
    body: null,
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {} as APIGatewayProxyEvent['requestContext'],
  };
}

async function viewEvents(store: MemoryFeatureStore, events: Record<string, unknown>[]) {
  const parsed: ShopEvent[] = events.map((e) => {
    const r = parseEvent(e, { now: () => NOW });
    if (!r.ok) throw new Error(r.detail);
    return r.event;
  });
  const records = parsed.map((event, n) => ({
    event,
    shardId: 'shard-0',
    seq: padSequence(String(1000 + n)),
  }));
  await applyWindowAggregates(store, records);
  await applyRecentItems(store, records, 20);
}

function setup(version: string | null = 'v1') {
  const features = new MemoryFeatureStore();
  const handle = createRecommendationsHandler({
    store: fakeStore(version),
    features,
    now: () => NOW,
    newRecId: () => 'rec-1',
  });
  const call = async (path: string, query?: Record<string, string>) => {
    const res = await handle(request(path, query));
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  };
  return { features, call };
}

const view = (n: number, user: string, product: string, category: string, minute = 0) => ({
  event_id: `e${n}`,
  event_type: 'product_view',
  event_time: new Date(NOW - 60_000 + minute * 1000).toISOString(),
  session_id: 's1',
  user_id: user,
  product_id: product,
  category,
});

describe('rec_id', () => {
  it('carries the model version and is a valid event id', () => {
    const id = recId('v20261121T101500Z-3fa2');
    expect(id).toMatch(/^v20261121T101500Z-3fa2:[0-9a-f]{12}$/);
    expect(ID_PATTERN.test(id)).toBe(true);
    expect(modelVersionOfRecId(id)).toBe('v20261121T101500Z-3fa2');
    expect(modelVersionOfRecId(recId(null))).toBeNull();
    expect(recId('v1')).not.toBe(recId('v1'));
  });
});

describe('recommendations handler validation', () => {
  it.each([
    ['/users/a%23b/recommendations', {}, 'userId must be'],
    ['/users/u1/recommendations', { k: '0' }, 'k must be an integer between 1 and 100'],
    ['/users/u1/recommendations', { k: '101' }, 'k must be'],
    ['/users/u1/recommendations', { k: '1e2' }, 'k must be'],
    ['/users/u1/recommendations', { session_id: '../x' }, 'session_id must be'],
    ['/users/u1/recommendations', { exclude_purchased: 'maybe' }, 'exclude_purchased must be true or false'],
    ['/users/u1/recommendations', { category: 'a\u0000b' }, 'category must be'],
    ['/users/u1/recommendations', { kk: '1' }, 'unknown query parameter'],
    ['/items/p1/similar', { k: '-1' }, 'k must be'],
    ['/trending', { window: '2h' }, 'window must be one of 5m, 1h, 1d'],
  ])('answers 400 for %s %j', async (path, query, message) => {
    const { call } = setup();
    const r = await call(path, query);
    expect(r.status).toBe(400);
    expect(r.body.error).toBe('bad_request');
    expect(String(r.body.message)).toContain(message);
  });

  it('answers 404 only for an unknown item on /similar', async () => {
    const { call } = setup();
    expect((await call('/items/nope/similar')).status).toBe(404);
    const ok = await call('/items/p1/similar', { k: '1' });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ rec_id: 'rec-1', model_version: 'v1', items: [{ product_id: 'p2' }] });
  });
});

describe('recommendations handler blending', () => {
  it('serves the precomputed list, excluding purchases, with model version and rec_id', async () => {
    const { call } = setup();
    const r = await call('/users/u1/recommendations', { k: '2' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ rec_id: 'rec-1', model_version: 'v1', strategy: 'personalized' });
    expect((r.body.items as { product_id: string }[]).map((i) => i.product_id)).toEqual(['p9', 'p8']);
  });

  it('changes the answer after the shopper views items (real-time features)', async () => {
    const { features, call } = setup();
    const before = await call('/users/u1/recommendations', { k: '3' });
    await viewEvents(features, [view(1, 'u1', 'p5', 'Toys')]);
    const after = await call('/users/u1/recommendations', { k: '3' });
    const ids = (after.body.items as { product_id: string; reason: string }[]).map((i) => i.product_id);
    expect(ids).not.toEqual((before.body.items as { product_id: string }[]).map((i) => i.product_id));
    expect(ids[0]).toBe('p6'); // p5's nearest neighbour
    expect(ids).not.toContain('p5'); // the item just viewed is not recommended back
  });

  it('filters by category', async () => {
    const { call } = setup();
    const r = await call('/users/u1/recommendations', { k: '5', category: 'Books' });
    const items = r.body.items as { product_id: string; category?: string }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.category === 'Books')).toBe(true);
  });

  it('serves unknown users and anonymous sessions from trending and session context', async () => {
    const { features, call } = setup();
    const unknown = await call('/users/stranger/recommendations', { k: '2' });
    expect(unknown.body).toMatchObject({ strategy: 'trending', model_version: 'v1' });
    expect((unknown.body.items as { product_id: string }[]).map((i) => i.product_id)).toEqual(['p1', 'p2']);
    await viewEvents(features, [{ ...view(2, 'x', 'p5', 'Toys'), user_id: undefined, session_id: 'anon-1' }]);
    const anon = await call('/users/anonymous/recommendations', { session_id: 'anon-1', k: '2' });
    expect((anon.body.items as { product_id: string }[])[0]?.product_id).toBe('p6');
    expect(anon.body.user_id).toBeNull();
  });

  it('ranks real-time trending by window and falls back to the model without events', async () => {
    const { features, call } = setup();
    const empty = await call('/trending', { window: '5m', k: '2' });
    expect(empty.body).toMatchObject({ source: 'model', window: '5m' });
    await viewEvents(features, [
      view(3, 'a', 'p7', 'Books'),
      view(4, 'b', 'p7', 'Books'),
      view(5, 'c', 'p3', 'Toys'),
    ]);
    const r = await call('/trending', { window: '1h', k: '2' });
    expect(r.body.source).toBe('realtime');
    expect((r.body.items as { product_id: string }[]).map((i) => i.product_id)).toEqual(['p7', 'p3']);
    const day = await call('/trending', { window: '1d', k: '1', category: 'Toys' });
    expect((day.body.items as { product_id: string }[]).map((i) => i.product_id)).toEqual(['p3']);
  });

  it('shares live trending reads for trendingCacheMs, then shows new events', async () => {
    const features = new MemoryFeatureStore();
    let t = NOW;
    let windowReads = 0;
    const counting: typeof features = Object.assign(Object.create(features) as typeof features, {
      queryPartition: (pk: string) => {
        windowReads++;
        return features.queryPartition(pk);
      },
    });
    const handle = createRecommendationsHandler({
      store: fakeStore('v1'),
      features: counting,
      now: () => t,
      trendingCacheMs: 1_000,
    });
    const top = async (q: Record<string, string>) => {
      const res = await handle(request('/trending', q));
      return (JSON.parse(res.body).items as { product_id: string }[]).map((i) => i.product_id);
    };
    await viewEvents(features, [view(3, 'a', 'p7', 'Books')]);
    expect(await top({ window: '1h', k: '1' })).toEqual(['p7']);
    expect(windowReads).toBe(2); // current + previous bucket
    await viewEvents(features, [view(4, 'b', 'p3', 'Toys'), view(5, 'c', 'p3', 'Toys')]);
    t += 500;
    expect(await top({ window: '1h', k: '1' })).toEqual(['p7']); // within the TTL: shared read
    expect(await top({ window: '1h', k: '1', category: 'Toys' })).toEqual(['p3']); // own key
    expect(windowReads).toBe(4);
    t += 1_000;
    expect(await top({ window: '1h', k: '1' })).toEqual(['p7']); // stale answer, refresh started
    await new Promise((r) => setTimeout(r, 0));
    expect(await top({ window: '1h', k: '1' })).toEqual(['p3']);
    expect(windowReads).toBe(6);
  });

  it('answers 503, not 500, when a dependency fails', async () => {
    const failing: RecommendationReader = {
      ...fakeStore('v1'),
      getUserList: async () => {
        throw new Error('ProvisionedThroughputExceededException');
      },
    };
    const handle = createRecommendationsHandler({
      store: failing,
      features: new MemoryFeatureStore(),
      now: () => NOW,
    });
    const res = await handle(request('/users/u1/recommendations'));
    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body)).toEqual({
      error: 'unavailable',
      message: 'recommendations are temporarily unavailable',
    });
  });

  it('serves trending with no active model and never answers 500', async () => {
    const { call } = setup(null);
    const r = await call('/users/u1/recommendations');
    expect(r.status).toBe(200);
    expect(r.body.model_version).toBeNull();
  });
});

describe('recommendations during an A/B test', () => {
  const experiment = {
    name: 'exp-1',
    control: 'v1',
    treatment: 'v2',
    split: 0.5,
    started_at: '2026-11-21T09:00:00Z',
  };
  function abSetup() {
    const base = fakeStore('v1');
    const reads: string[] = [];
    const store: RecommendationReader = {
      ...base,
      getActive: async () => ({
        version: 'v1',
        previous: null,
        activated_at: '2026-11-21T09:00:00Z',
        experiment,
      }),
      getUserList: async (v, id) => {
        reads.push(v);
        return base.getUserList(v, id);
      },
      getPopular: async (v, c) => {
        reads.push(v);
        return base.getPopular(v, c);
      },
    };
    const handle = createRecommendationsHandler({
      store,
      features: new MemoryFeatureStore(),
      now: () => NOW,
    });
    const call = async (path: string, query?: Record<string, string>) =>
      JSON.parse((await handle(request(path, query))).body) as Record<string, unknown>;
    return { call, reads };
  }

  it('serves each user the version of their arm, stably, and names the arm and version', async () => {
    const { call, reads } = abSetup();
    const arms = new Map<string, string>();
    for (let i = 0; i < 200; i++) {
      const body = await call(`/users/shopper-${i}/recommendations`);
      const ab = body.ab as { experiment: string; arm: string };
      expect(ab.experiment).toBe('exp-1');
      expect(body.model_version).toBe(ab.arm === 'A' ? 'v1' : 'v2');
      // The rec_id names the version that answered, so clicks attribute to it.
      expect(modelVersionOfRecId(String(body.rec_id))).toBe(body.model_version);
      arms.set(`shopper-${i}`, ab.arm);
    }
    for (const [user, arm] of arms) {
      expect(((await call(`/users/${user}/recommendations`)).ab as { arm: string }).arm).toBe(arm);
    }
    const b = [...arms.values()].filter((a) => a === 'B').length;
    expect(b).toBeGreaterThan(70); // 200 × 0.5 ± 4 SE
    expect(b).toBeLessThan(130);
    // The stored lists read were those of the arm's version.
    expect(new Set(reads)).toEqual(new Set(['v1', 'v2']));
  });

  it('assigns anonymous visitors by session, leaves visitors without one and /similar to the control', async () => {
    const { call } = abSetup();
    const anon = await call('/users/anonymous/recommendations');
    expect(anon.ab).toBeNull();
    expect(anon.model_version).toBe('v1');
    const bySession = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        call('/users/anonymous/recommendations', { session_id: `sess-${i}` }),
      ),
    );
    expect(new Set(bySession.map((r) => (r.ab as { arm: string }).arm))).toEqual(new Set(['A', 'B']));
    const similar = await call('/items/p1/similar');
    expect(similar.model_version).toBe('v1');
    expect(similar.ab).toBeUndefined();
  });
});
