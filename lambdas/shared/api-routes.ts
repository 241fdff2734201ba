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
  readonly handler: 'ingest/handler.ts' | 'recommendations/handler.ts';
  readonly description: string;
  /**
   * Query-string parameters the handler reads. API Gateway caches GET responses per path and
   * these parameters (they become cache keys), so a parameter missing here would be served
   * from another request's cache entry.
   */
  readonly queryParameters?: readonly string[];
}

export const API_ROUTES: readonly ApiRoute[] = [
  { method: 'POST', path: '/events', handler: 'ingest/handler.ts', description: 'Batch event ingest' },
  {
    method: 'GET',
    path: '/users/{userId}/recommendations',
    handler: 'recommendations/handler.ts',
    description: 'Per-user (or per-session) top-K recommendations',
    queryParameters: ['k', 'category', 'exclude_purchased', 'session_id'],
  },
  {
    method: 'GET',
    path: '/items/{itemId}/similar',
    handler: 'recommendations/handler.ts',
    description: 'Items similar to an item',
    queryParameters: ['k'],
  },
  {
    method: 'GET',
    path: '/trending',
    handler: 'recommendations/handler.ts',
    description: 'Trending items per window and category',
    queryParameters: ['window', 'category', 'k'],
  },
];
