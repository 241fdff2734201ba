/**
 * The public HTTP API, declared once: the CDK serving/ingestion stacks create these API Gateway
 * REST resources and methods, and the local HTTP server (`shoplake serve`) routes the same
 * paths to the same handler modules with API Gateway-shaped proxy events.
 */
export interface ApiRoute {
  readonly method: 'GET' | 'POST';
  /** API Gateway resource path with `{param}` placeholders. */
  readonly path: string;
  /** Handler module under `lambdas/`, relative, exporting `handler`. */
  readonly handler: 'ingest/handler.ts' | 'recommendations/handler.ts' | 'analytics/handler.ts';
  readonly description: string;
  /**
   * Query-string parameters the handler reads. API Gateway caches GET responses per path and
   * these parameters (they become cache keys), so a parameter missing here would be served
   * from another request's cache entry.
   */
  readonly queryParameters?: readonly string[];
  /**
   * Longest time, s, the stage's response cache (when it has one) may answer this GET route
   * for the handler; absent = never cached. Capped by the stage's `api.cache.ttlSeconds`.
   */
  readonly maxCacheSeconds?: number;
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/events', handler: 'ingest/handler.ts', description: 'Batch event ingest' },
  {
    method: 'GET',
    path: '/users/{userId}/recommendations',
    handler: 'recommendations/handler.ts',
    description: 'Per-user (or per-session) top-K recommendations',
    queryParameters: ['k', 'category', 'exclude_purchased', 'session_id'],
    // Never cached: the answer follows the shopper's last clicks within seconds.
  },
  {
    method: 'GET',
    path: '/items/{itemId}/similar',
    handler: 'recommendations/handler.ts',
    description: 'Items similar to an item',
    queryParameters: ['k'],
    // Changes only when another model version is activated.
    maxCacheSeconds: 300,
  },
  {
    method: 'GET',
    path: '/trending',
    handler: 'recommendations/handler.ts',
    description: 'Trending items per window and category',
    queryParameters: ['window', 'category', 'k'],
    // The same for every shopper; 10 s is small next to the 5-minute window.
    maxCacheSeconds: 10,
  },
  {
    method: 'GET',
    path: '/analytics/{dataset}',
    handler: 'analytics/handler.ts',
    description:
      'Dashboard data set (lambdas/shared/analytics/datasets.ts) as JSON or CSV, one page at a time',
    queryParameters: ['from', 'to', 'category', 'format', 'limit', 'next_token'],
    // Gold changes once per ETL run; a minute of staleness keeps Athena out of repeated views.
    maxCacheSeconds: 60,
  },
];
