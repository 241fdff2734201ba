/**
 * Opt-in CORS for browser clients (the web tracker), one implementation for AWS and local:
 *  - preflight (`OPTIONS`): API Gateway answers it from the stage's `api.cors` config (CDK
 *    `defaultCorsPreflightOptions`); `shoplake serve --cors-origin` answers it with
 *    `preflightHeaders` below, like API Gateway's mock integration;
 *  - actual responses: the Lambda proxy integration must add `Access-Control-Allow-Origin`
 *    itself, which `withCors` does from `CORS_ALLOWED_ORIGINS` (comma-separated origins).
 *
 * Credentials are never allowed (`Access-Control-Allow-Credentials` is never sent): the tracker
 * sends no cookies, and a public API key is not a credential worth protecting from other sites
 * (see docs/browser-tracker.md). `*` allows any origin, and is then answered as `*`.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';

export const CORS_ENV = 'CORS_ALLOWED_ORIGINS';
/** Request headers a browser client may send. */
export const CORS_ALLOW_HEADERS = ['content-type', 'x-api-key'] as const;
export const CORS_MAX_AGE_SECONDS = 600;

const ORIGIN = /^https?:\/\/[A-Za-z0-9.-]+(:\d{1,5})?$/;

/** Validates an allowed-origins list: `*` alone, or `scheme://host[:port]` entries. */
export function parseCorsOrigins(value: string | readonly string[] | undefined): string[] {
  const list = (typeof value === 'string' ? value.split(',') : (value ?? []))
    .map((s) => s.trim())
    .filter(Boolean);
  for (const origin of list) {
    if (origin === '*') {
      if (list.length > 1) throw new Error('CORS origin "*" cannot be combined with other origins');
    } else if (!ORIGIN.test(origin)) {
      throw new Error(
        `invalid CORS origin ${JSON.stringify(origin)}: expected scheme://host[:port] without a path, e.g. https://shop.example.com`,
      );
    }
  }
  return list;
}

/** The `Access-Control-Allow-Origin` value for a request origin; undefined when not allowed. */
export function allowedOrigin(
  origins: readonly string[],
  requestOrigin: string | undefined,
): string | undefined {
  if (!requestOrigin || origins.length === 0) return undefined;
  if (origins.includes('*')) return '*';
  return origins.includes(requestOrigin) ? requestOrigin : undefined;
}

/** Headers of an actual (non-preflight) response. */
export function corsHeaders(
  origins: readonly string[],
  requestOrigin: string | undefined,
): Record<string, string> {
  const allow = allowedOrigin(origins, requestOrigin);
  if (!allow) return origins.length > 0 && !origins.includes('*') ? { vary: 'Origin' } : {};
  return allow === '*'
    ? { 'access-control-allow-origin': '*' }
    : { 'access-control-allow-origin': allow, vary: 'Origin' };
}

/** Headers of a preflight answer; undefined when the origin is not allowed. */
export function preflightHeaders(
  origins: readonly string[],
  requestOrigin: string | undefined,
  methods: readonly string[],
): Record<string, string> | undefined {
  const allow = allowedOrigin(origins, requestOrigin);
  if (!allow) return undefined;
  return {
    ...corsHeaders(origins, requestOrigin),
    'access-control-allow-methods': [...methods, 'OPTIONS'].join(','),
    'access-control-allow-headers': CORS_ALLOW_HEADERS.join(','),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
  };
}

function headerValue(headers: Record<string, string | undefined> | null, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers ?? {})) if (k.toLowerCase() === name) return v;
  return undefined;
}

type ProxyHandler = (event: APIGatewayProxyEvent, context?: Context) => Promise<APIGatewayProxyResult>;

/** Adds CORS headers from `CORS_ALLOWED_ORIGINS` (read per request) to a proxy handler's answers. */
export function withCors(handler: ProxyHandler): ProxyHandler {
  return async (event, context) => {
    const result = await handler(event, context);
    const origins = parseCorsOrigins(process.env[CORS_ENV]);
    if (origins.length === 0) return result;
    return {
      ...result,
      headers: { ...result.headers, ...corsHeaders(origins, headerValue(event.headers, 'origin')) },
    };
  };
}
