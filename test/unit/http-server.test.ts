import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../lambdas/shared/api-routes.ts';
import {
  buildProxyEvent,
  findRoute,
  type LocalHttpServer,
  matchPath,
  type ProxyHandler,
  startHttpServer,
} from '../../local/runtime/http-server.ts';

const similar = API_ROUTES.find((r) => r.path === '/items/{itemId}/similar');

describe('route matching', () => {
  it('matches templates and decodes path parameters', () => {
    expect(matchPath('/items/{itemId}/similar', '/items/P%2F1/similar')).toEqual({ itemId: 'P/1' });
    expect(matchPath('/trending', '/trending')).toBeNull();
    expect(matchPath('/items/{itemId}/similar', '/items//similar')).toBeUndefined();
    expect(matchPath('/items/{itemId}/similar', '/items/a/b/similar')).toBeUndefined();
  });

  it('tells a wrong method from an unknown path', () => {
    expect(findRoute(API_ROUTES, 'GET', '/events')).toBe('method');
    expect(findRoute(API_ROUTES, 'GET', '/nope')).toBeUndefined();
    const m = findRoute(API_ROUTES, 'GET', '/users/u1/recommendations');
    expect(m !== 'method' && m?.pathParameters).toEqual({ userId: 'u1' });
  });
});

describe('API Gateway REST proxy event', () => {
  it('has the shape API Gateway gives a Lambda proxy integration', () => {
    if (!similar) throw new Error('route missing');
    const event = buildProxyEvent(
      {
        method: 'GET',
        url: '/items/P1/similar?k=5&k=7&category=Home%20%26%20Kitchen&flag',
        rawHeaders: ['Host', 'localhost', 'X-Tag', 'a', 'X-Tag', 'b', 'User-Agent', 'curl/8'],
        body: null,
        sourceIp: '127.0.0.1',
      },
      { route: similar, pathParameters: { itemId: 'P1' } },
      { stage: 'local', requestId: 'req-1', now: 1_700_000_000_000 },
    );
    expect(event).toMatchObject({
      resource: '/items/{itemId}/similar',
      path: '/items/P1/similar',
      httpMethod: 'GET',
      headers: { Host: 'localhost', 'X-Tag': 'b', 'User-Agent': 'curl/8' },
      multiValueHeaders: { 'X-Tag': ['a', 'b'] },
      queryStringParameters: { k: '7', category: 'Home & Kitchen', flag: '' },
      multiValueQueryStringParameters: { k: ['5', '7'] },
      pathParameters: { itemId: 'P1' },
      stageVariables: null,
      body: null,
      isBase64Encoded: false,
      requestContext: {
        requestId: 'req-1',
        stage: 'local',
        path: '/local/items/P1/similar',
        resourcePath: '/items/{itemId}/similar',
        httpMethod: 'GET',
        requestTimeEpoch: 1_700_000_000_000,
        identity: { sourceIp: '127.0.0.1', userAgent: 'curl/8' },
      },
    });
  });

  it('uses null for absent query strings', () => {
    if (!similar) throw new Error('route missing');
    const event = buildProxyEvent(
      { method: 'GET', url: '/items/P1/similar', rawHeaders: [], body: null, sourceIp: '::1' },
      { route: similar, pathParameters: { itemId: 'P1' } },
    );
    expect(event.queryStringParameters).toBeNull();
    expect(event.multiValueQueryStringParameters).toBeNull();
  });
});

describe('local HTTP server', () => {
  let server: LocalHttpServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function start(handlers: Record<string, ProxyHandler | undefined>, maxBodyBytes?: number) {
    const seen: APIGatewayProxyEvent[] = [];
    server = await startHttpServer({
      ...(maxBodyBytes ? { maxBodyBytes } : {}),
      loadHandler: async (module) => {
        const h = handlers[module];
        return h
          ? async (event, context) => {
              seen.push(event);
              return h(event, context);
            }
          : undefined;
      },
    });
    return { url: server.url, seen };
  }

  it('invokes the route handler with the proxy event and returns its response', async () => {
    const { url, seen } = await start({
      'ingest/handler.ts': async (event) => ({
        statusCode: 202,
        headers: { 'x-echo': event.body ?? '' },
        body: JSON.stringify({ got: JSON.parse(event.body ?? 'null') }),
      }),
    });
    const res = await fetch(`${url}/events?dry=1`, { method: 'POST', body: '{"events":[]}' });
    expect(res.status).toBe(202);
    expect(res.headers.get('x-echo')).toBe('{"events":[]}');
    expect(await res.json()).toEqual({ got: { events: [] } });
    expect(seen[0]?.resource).toBe('/events');
    expect(seen[0]?.queryStringParameters).toEqual({ dry: '1' });
    expect(res.headers.get('x-amzn-requestid')).toBe(seen[0]?.requestContext.requestId);
  });

  it('hands a body that is not UTF-8 to the handler as base64 (no silent U+FFFD), as API Gateway does', async () => {
    const { url, seen } = await start({
      'ingest/handler.ts': async () => ({ statusCode: 200, body: '{}' }),
    });
    const bytes = Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
    await fetch(`${url}/events`, { method: 'POST', body: bytes });
    await fetch(`${url}/events`, { method: 'POST', body: '{"q":"é"}' });
    expect(seen[0]).toMatchObject({ isBase64Encoded: true, body: bytes.toString('base64') });
    expect(seen[1]).toMatchObject({ isBase64Encoded: false, body: '{"q":"é"}' });
  });

  it('answers 501 with a clear message when a route module does not exist yet', async () => {
    const { url } = await start({});
    const res = await fetch(`${url}/trending`);
    expect(res.status).toBe(501);
    expect(((await res.json()) as { message: string }).message).toMatch(
      /recommendations\/handler\.ts is missing/,
    );
  });

  it('answers 404 for unknown paths, 405 for wrong methods, 413 for bodies over the limit', async () => {
    const { url, seen } = await start(
      { 'ingest/handler.ts': async () => ({ statusCode: 200, body: '{}' }) },
      1_000,
    );
    expect((await fetch(`${url}/nope`)).status).toBe(404);
    expect((await fetch(`${url}/events`)).status).toBe(405);
    const big = await fetch(`${url}/events`, { method: 'POST', body: 'x'.repeat(5_000) });
    expect(big.status).toBe(413);
    expect(seen).toHaveLength(0);
  });

  it('answers 502 like API Gateway when the handler throws', async () => {
    const { url } = await start({
      'ingest/handler.ts': async () => {
        throw new Error('boom');
      },
    });
    const res = await fetch(`${url}/events`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(502);
    expect(await res.json()).toEqual({ error: 'bad_gateway', message: 'Internal server error' });
  });
});
