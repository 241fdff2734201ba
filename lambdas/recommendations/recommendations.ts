/**
 * Recommendation API logic (API Gateway REST proxy events):
 *   GET /users/{userId}/recommendations?k=&category=&exclude_purchased=&session_id=
 *   GET /items/{itemId}/similar?k=
 *   GET /trending?window=5m|1h|1d&category=&k=
 * Clients and clock come in as dependencies, so tests, the local server and Lambda run the
 * same code. During an A/B test (the active pointer names two versions), a shopper's
 * recommendations come from the version of their arm — a stable hash of the user id, or of the
 * session id for `anonymous` — and the response names the arm (`ab`) and the version; `/similar`
 * and `/trending` name no shopper and are served by the control. Bad input always yields a 400 with a message, never a 500; 404 only when
 * `/similar` names an item the active model does not know.
 */

import { randomBytes } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { errorResult } from '../shared/api-errors.ts';
import { API_ROUTES } from '../shared/api-routes.ts';
import { ID_PATTERN } from '../shared/event-schema.ts';
import {
  getRecentItems,
  getTrending,
  type TrendingProduct,
  type TrendingResult,
} from '../shared/features/read.ts';
import type { RecentItem } from '../shared/features/recent.ts';
import type { FeatureReader } from '../shared/features/store.ts';
import { type Arm, assignArm } from '../shared/recommender/ab.ts';
import {
  type BlendedItem,
  type BlendWeights,
  blend,
  DEFAULT_BLEND_WEIGHTS,
  recentSeeds,
} from '../shared/recommender/blend.ts';
import { type RecommendationStore, type StoredList, splitOf } from '../shared/recommender/store.ts';
import { sharedReads } from './shared-reads.ts';

/** The reads the API needs from the recommendations table (a fake in unit tests). */
export type RecommendationReader = Pick<
  RecommendationStore,
  'getActive' | 'getUserList' | 'getItemList' | 'getItemLists' | 'getPopular'
>;

/** Bounds of the `k` query parameter, shared by validation, docs and tests. */
export const K_LIMITS = { default: 10, min: 1, max: 100 } as const;
/**
 * Default size of the serving container's cache of item and popular lists
 * (`RecommendationStoreOptions.listCacheEntries`; env `RECOMMENDATIONS_LIST_CACHE_ENTRIES`).
 * Those lists never change once a version is published, so the cache cannot serve stale data.
 */
export const DEFAULT_LIST_CACHE_ENTRIES = 5_000; // ≈ 13 MB of lists of 20 neighbours + 10 next items
/**
 * How long one container reuses what it read of the live trending windows, ms. Trending is the
 * same for every shopper, and a window item holds up to thousands of counters, so it is read
 * about once a second per (window, category), refreshed in the background (`sharedReads`):
 * answers lag the windows by a second or two — the consumer's own delivery delay is similar.
 */
export const DEFAULT_TRENDING_CACHE_MS = 1_000;
/** Trending products kept per window read (enough to fill `k` after excluding a shopper's items). */
const TRENDING_DEPTH = 1_000;
export const TRENDING_WINDOWS = ['5m', '1h', '1d'] as const;
export type TrendingWindow = (typeof TRENDING_WINDOWS)[number];
const MAX_CATEGORY_CHARS = 200;
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const CONTROL = /[\u0000-\u001F\u007F\u2028\u2029]/;

export interface RecommendationsDeps {
  readonly store: RecommendationReader;
  readonly features: FeatureReader;
  readonly now?: () => number;
  /** Builds a response's `rec_id` from the model version that answered. @default `recId` */
  readonly newRecId?: (modelVersion: string | null) => string;
  readonly weights?: BlendWeights;
  /**
   * Reuse of live trending reads, ms, timed by `now` (`sharedReads`; served stale while
   * refreshing up to 5× this). The Lambda uses `DEFAULT_TRENDING_CACHE_MS`.
   * @default 0: read every time
   */
  readonly trendingCacheMs?: number;
  /** Structured log sink for served recommendations (rec_id ↔ model version, for click-through). */
  readonly log?: (entry: Record<string, unknown>) => void;
}

export class BadRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadRequestError';
  }
}

class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

function json(statusCode: number, body: unknown): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

function id(name: string, value: string | undefined): string {
  if (value === undefined || value === '') throw new BadRequestError(`${name} is required`);
  if (!ID_PATTERN.test(value) || value === '.' || value === '..') {
    throw new BadRequestError(`${name} must be 1-64 characters of A-Za-z0-9._:-`);
  }
  return value;
}

function optionalId(name: string, value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : id(name, value);
}

/** Parses `k`: an integer within `K_LIMITS`. */
export function parseK(raw: string | undefined): number {
  if (raw === undefined || raw === '') return K_LIMITS.default;
  if (!/^\d{1,4}$/.test(raw))
    throw new BadRequestError(`k must be an integer between ${K_LIMITS.min} and ${K_LIMITS.max}`);
  const k = Number(raw);
  if (k < K_LIMITS.min || k > K_LIMITS.max) {
    throw new BadRequestError(`k must be an integer between ${K_LIMITS.min} and ${K_LIMITS.max}`);
  }
  return k;
}

function parseCategory(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > MAX_CATEGORY_CHARS || CONTROL.test(raw)) {
    throw new BadRequestError(
      `category must be 1-${MAX_CATEGORY_CHARS} characters without control characters`,
    );
  }
  return raw;
}

function parseBool(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes'].includes(raw.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(raw.toLowerCase())) return false;
  throw new BadRequestError(`${name} must be true or false`);
}

function query(event: APIGatewayProxyEvent, name: string): string | undefined {
  const multi = event.multiValueQueryStringParameters?.[name];
  if (multi && multi.length > 1) throw new BadRequestError(`${name} must be given once`);
  return event.queryStringParameters?.[name] ?? undefined;
}

/** Query parameters per route, from the one route table (they are also API Gateway's cache keys). */
const KNOWN_PARAMS: Record<string, readonly string[]> = Object.fromEntries(
  API_ROUTES.filter((r) => r.handler === 'recommendations/handler.ts').map((r) => [
    r.path,
    r.queryParameters ?? [],
  ]),
);

function checkParams(resource: string, event: APIGatewayProxyEvent): void {
  const allowed = KNOWN_PARAMS[resource] ?? [];
  for (const name of Object.keys(event.queryStringParameters ?? {})) {
    if (!allowed.includes(name)) {
      throw new BadRequestError(
        `unknown query parameter ${JSON.stringify(name.slice(0, 40))}; allowed: ${allowed.join(', ')}`,
      );
    }
  }
}

/** Resolves the route from the API Gateway resource, or from the raw path (other proxies). */
function resolveResource(event: APIGatewayProxyEvent): { resource: string; param?: string } | undefined {
  if (event.resource && KNOWN_PARAMS[event.resource]) {
    const p = event.pathParameters ?? {};
    return { resource: event.resource, param: p.userId ?? p.itemId ?? undefined };
  }
  const path = event.path ?? '';
  let m = /^\/users\/([^/]*)\/recommendations\/?$/.exec(path);
  if (m) return { resource: '/users/{userId}/recommendations', param: safeDecode(m[1] ?? '') };
  m = /^\/items\/([^/]*)\/similar\/?$/.exec(path);
  if (m) return { resource: '/items/{itemId}/similar', param: safeDecode(m[1] ?? '') };
  if (/^\/trending\/?$/.test(path)) return { resource: '/trending' };
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new BadRequestError('path parameter is not valid percent-encoding');
  }
}

/**
 * Trending products from the real-time windows: current + previous bucket (1d: the last 24
 * hours), best first, at most `TRENDING_DEPTH`.
 */
async function realtimeTrending(
  features: FeatureReader,
  window: TrendingWindow,
  now: number,
  category: string | undefined,
): Promise<TrendingProduct[]> {
  const reads: Promise<TrendingResult>[] = [];
  const opts = category === undefined ? {} : { category };
  if (window === '1d') {
    for (let h = 0; h < 24; h++)
      reads.push(
        getTrending(features, { window: '1h', now: now - h * 3_600_000, k: TRENDING_DEPTH, ...opts }),
      );
  } else {
    const size = window === '5m' ? 300_000 : 3_600_000;
    reads.push(getTrending(features, { window, now, k: TRENDING_DEPTH, ...opts }));
    reads.push(getTrending(features, { window, now: now - size, k: TRENDING_DEPTH, ...opts }));
  }
  const sums = new Map<string, number>();
  for (const r of await Promise.all(reads)) {
    for (const p of r.products) sums.set(p.product_id, (sums.get(p.product_id) ?? 0) + p.score);
  }
  return [...sums.entries()]
    .map(([product_id, score]) => ({ product_id, score }))
    .sort((a, b) => b.score - a.score || (a.product_id < b.product_id ? -1 : 1))
    .slice(0, TRENDING_DEPTH);
}

function listToItems(
  list: StoredList,
  exclude: ReadonlySet<string>,
  k: number,
  reason: BlendedItem['reason'],
): BlendedItem[] {
  const out: BlendedItem[] = [];
  list.ids.forEach((id, i) => {
    if (out.length >= k || exclude.has(id)) return;
    const category = list.cats[i];
    out.push({ product_id: id, score: list.scores[i] ?? 0, ...(category ? { category } : {}), reason });
  });
  return out;
}

/**
 * A recommendation id that carries the model version that produced it —
 * `<version>:<12 hex>` (`none:` without a model) — and fits `ID_PATTERN`, so a `rec_id` sent
 * back on a click event attributes the click to a model version in the lake without a lookup.
 */
export function recId(modelVersion: string | null): string {
  return `${modelVersion ?? 'none'}:${randomBytes(6).toString('hex')}`;
}

/** The model version encoded in a `rec_id` (null when it carries none). */
export function modelVersionOfRecId(id: string): string | null {
  const at = id.lastIndexOf(':');
  const version = at > 0 ? id.slice(0, at) : '';
  return version === '' || version === 'none' ? null : version;
}

/** Builds the API handler from its dependencies. */
export function createRecommendationsHandler(deps: RecommendationsDeps) {
  const now = deps.now ?? Date.now;
  const newRecId = deps.newRecId ?? recId;
  const weights = deps.weights ?? DEFAULT_BLEND_WEIGHTS;
  const log = deps.log ?? (() => {});
  const trendingCacheMs = deps.trendingCacheMs ?? 0;
  /** Live trending per (window, category), shared by all requests of this container. */
  const liveTrending = sharedReads<TrendingProduct[]>({
    ttlMs: trendingCacheMs,
    staleMs: 5 * trendingCacheMs,
    maxEntries: 1_000,
    now,
  });

  async function activeVersion(): Promise<string | null> {
    return (await deps.store.getActive())?.version ?? null;
  }

  /**
   * The version that serves `shopper` and, during an A/B test, the shopper's arm. Without a
   * shopper (an anonymous visitor with no session) the control serves, outside the test.
   */
  async function versionFor(
    shopper: string | undefined,
  ): Promise<{ version: string | null; ab: { experiment: string; arm: Arm } | null }> {
    const pointer = await deps.store.getActive();
    const experiment = pointer?.experiment;
    if (!pointer || !experiment || shopper === undefined)
      return { version: pointer?.version ?? null, ab: null };
    const { arm, version } = assignArm(splitOf(experiment), shopper);
    return { version, ab: { experiment: experiment.name, arm } };
  }

  /** Trending in context: real-time windows first, then the model's popular list. */
  async function trendingItems(
    version: string | null,
    window: TrendingWindow,
    category: string | undefined,
    exclude: ReadonlySet<string>,
    k: number,
  ): Promise<{ items: BlendedItem[]; source: 'realtime' | 'model' | 'none' }> {
    // The model's popular list is read alongside the live windows (usually a cache hit), so a
    // fill never waits for a second round trip.
    const popularRead = version ? deps.store.getPopular(version, category) : undefined;
    popularRead?.catch(() => {}); // awaited below when needed; never an unhandled rejection
    const live = await liveTrending(JSON.stringify([window, category ?? null]), (t) =>
      realtimeTrending(deps.features, window, t, category),
    );
    const items: BlendedItem[] = live
      .filter((p) => !exclude.has(p.product_id))
      .slice(0, k)
      .map((p) => ({
        product_id: p.product_id,
        score: p.score,
        ...(category ? { category } : {}),
        reason: 'trending' as const,
      }));
    if (items.length >= k || !popularRead) return { items, source: items.length > 0 ? 'realtime' : 'none' };
    const popular = await popularRead;
    const have = new Set([...exclude, ...items.map((i) => i.product_id)]);
    const more = listToItems(popular, have, k - items.length, 'trending');
    return {
      items: [...items, ...more],
      source: items.length > 0 ? 'realtime' : more.length > 0 ? 'model' : 'none',
    };
  }

  async function userRecommendations(userId: string, event: APIGatewayProxyEvent) {
    const k = parseK(query(event, 'k'));
    const category = parseCategory(query(event, 'category'));
    const excludePurchased = parseBool('exclude_purchased', query(event, 'exclude_purchased'), true);
    const sessionId = optionalId('session_id', query(event, 'session_id'));
    // `anonymous` is the path placeholder for visitors known only by their session.
    const anonymous = userId === 'anonymous';
    // A session id cannot collide with a user id in the hash: sessions are prefixed.
    const { version, ab } = await versionFor(anonymous ? sessionId && `session:${sessionId}` : userId);
    const [stored, userRecent, sessionRecent] = await Promise.all([
      version && !anonymous ? deps.store.getUserList(version, userId) : Promise.resolve(undefined),
      anonymous ? Promise.resolve([] as RecentItem[]) : getRecentItems(deps.features, { userId }),
      sessionId ? getRecentItems(deps.features, { sessionId }) : Promise.resolve([] as RecentItem[]),
    ]);
    const recent = [...userRecent, ...sessionRecent].sort((a, b) => (a.ts < b.ts ? 1 : a.ts > b.ts ? -1 : 0));
    const seeds = recentSeeds(recent, weights.maxRecent);
    const itemLists =
      version && seeds.length > 0
        ? await deps.store.getItemLists(
            version,
            seeds.map((s) => s.product_id),
          )
        : new Map();
    const exclude = new Set(
      recent.filter((r) => r.event_type !== 'purchase' || excludePurchased).map((r) => r.product_id),
    );
    if (excludePurchased) for (const p of stored?.purchased ?? []) exclude.add(p);
    let items = blend({
      ...(stored ? { precomputed: stored } : {}),
      recent: seeds,
      itemLists,
      exclude,
      ...(category !== undefined ? { category } : {}),
      k,
      weights,
    });
    let strategy: 'personalized' | 'realtime' | 'trending' = stored ? 'personalized' : 'realtime';
    if (items.length < k) {
      const fill = await trendingItems(
        version,
        '1h',
        category,
        new Set([...exclude, ...items.map((i) => i.product_id)]),
        k - items.length,
      );
      if (items.length === 0) strategy = 'trending';
      items = [...items, ...fill.items];
    }
    return {
      user_id: anonymous ? null : userId,
      session_id: sessionId ?? null,
      model_version: version,
      ab,
      strategy,
      items,
    };
  }

  async function similarItems(itemId: string, event: APIGatewayProxyEvent) {
    const k = parseK(query(event, 'k'));
    const version = await activeVersion();
    const list = version ? await deps.store.getItemList(version, itemId) : undefined;
    if (!version || !list) throw new NotFoundError(`item ${itemId} is not known to the active model`);
    return {
      item_id: itemId,
      category: list.category || null,
      model_version: version,
      items: listToItems(list, new Set([itemId]), k, 'history'),
    };
  }

  async function trending(event: APIGatewayProxyEvent) {
    const raw = query(event, 'window') ?? '1h';
    if (!(TRENDING_WINDOWS as readonly string[]).includes(raw)) {
      throw new BadRequestError(`window must be one of ${TRENDING_WINDOWS.join(', ')}`);
    }
    const window = raw as TrendingWindow;
    const category = parseCategory(query(event, 'category'));
    const k = parseK(query(event, 'k'));
    const version = await activeVersion();
    const r = await trendingItems(version, window, category, new Set(), k);
    return { window, category: category ?? null, model_version: version, source: r.source, items: r.items };
  }

  return async function handle(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
    try {
      if (event.httpMethod && event.httpMethod !== 'GET') throw new BadRequestError('only GET is supported');
      const route = resolveResource(event);
      if (!route) return errorResult(404, 'not_found', 'no such route');
      checkParams(route.resource, event);
      let body: Record<string, unknown>;
      if (route.resource === '/users/{userId}/recommendations') {
        body = await userRecommendations(id('userId', route.param), event);
      } else if (route.resource === '/items/{itemId}/similar') {
        body = await similarItems(id('itemId', route.param), event);
      } else {
        body = await trending(event);
      }
      const recIdValue = newRecId(typeof body.model_version === 'string' ? body.model_version : null);
      log({
        message: 'recommendations served',
        rec_id: recIdValue,
        route: route.resource,
        model_version: body.model_version,
        ...(body.ab ? { ab: body.ab } : {}),
      });
      return json(200, { rec_id: recIdValue, ...body });
    } catch (error: unknown) {
      if (error instanceof BadRequestError) return errorResult(400, 'bad_request', error.message);
      if (error instanceof NotFoundError) return errorResult(404, 'not_found', error.message);
      const message = error instanceof Error ? error.message : String(error);
      log({ level: 'ERROR', message: 'recommendations failed', error: message });
      return errorResult(503, 'unavailable', 'recommendations are temporarily unavailable');
    }
  };
}
