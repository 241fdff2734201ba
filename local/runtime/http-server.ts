/**
 * Local HTTP server: the API Gateway REST API of `lambdas/shared/api-routes.ts` on 127.0.0.1.
 *
 * Why: the handlers must run locally exactly as on AWS, so this server does only what API
 * Gateway does in front of a Lambda proxy integration — match the route, build the REST proxy
 * event (resource, path parameters, single and multi-value headers and query strings, request
 * context), invoke the handler module, and turn its result into an HTTP response. No business
 * logic lives here. Local differences: no authentication (on AWS the API requires it) and no
 * request-model validation (the handlers validate every event themselves anyway).
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { apiError } from '../../lambdas/shared/api-errors.ts';
import { API_ROUTES, type ApiRoute } from '../../lambdas/shared/api-routes.ts';
import { preflightHeaders } from '../../lambdas/shared/cors.ts';
import { LIMITS } from '../../lambdas/shared/event-schema.ts';
import { closeServer, listen } from './listen.ts';
import { lambdaContext, REPO_ROOT } from './runtime.ts';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

/** Loads a route's handler; `undefined` when the module does not exist (yet). */
export type HandlerLoader = (module: ApiRoute['handler']) => Promise<ProxyHandler | undefined>;

export interface HttpServerOptions {
  /** @default 0 (a free port) */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /** API Gateway stage name, visible in `requestContext.stage`. @default 'local' */
  readonly stage?: string;
  readonly routes?: readonly ApiRoute[];
  /** @default importing `lambdas/<module>` and taking its `handler` export */
  readonly loadHandler?: HandlerLoader;
  /** Body size limit in bytes (API Gateway's payload limit is 10 MB; the ingest contract is 1 MB). */
  readonly maxBodyBytes?: number;
  readonly log?: (message: string) => void;
  /**
   * Pages the local server serves beside the API (the dashboard, `/openapi.json`), asked first
   * for GET requests; `undefined` passes the request on to the API routes.
   */
  readonly pages?: PageServer;
  /**
   * Browser origins allowed by CORS (`shoplake serve --cors-origin`): the server answers their
   * preflight requests as API Gateway does; the handlers add the response headers themselves
   * (`withCors`, from `CORS_ALLOWED_ORIGINS`). Empty: no CORS, as on a stage without `api.cors`.
   */
  readonly corsOrigins?: readonly string[];
}

/** A non-API response of the local server. */
export interface PageResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Buffer;
  readonly headers?: Readonly<Record<string, string>>;
}

export type PageServer = (path: string) => Promise<PageResponse | undefined> | PageResponse | undefined;

export interface LocalHttpServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A raw HTTP request, as much of it as API Gateway uses. */
export interface RawRequest {
  readonly method: string;
  /** Path and query string, e.g. `/users/u1/recommendations?k=5&k=6`. */
  readonly url: string;
  /** Node's `rawHeaders`: [name, value, name, value, …] with the client's casing. */
  readonly rawHeaders: readonly string[];
  readonly body: string | null;
  /** The body is base64 of bytes that are not UTF-8 (API Gateway's binary pass-through). */
  readonly bodyIsBase64?: boolean;
  readonly sourceIp: string;
}

export interface RouteMatch {
  readonly route: ApiRoute;
  readonly pathParameters: Record<string, string> | null;
}

/** Matches a path against a route template (`/items/{itemId}/similar`). */
export function matchPath(template: string, path: string): Record<string, string> | null | undefined {
  const t = template.split('/');
  const p = path.split('/');
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i += 1) {
    const seg = t[i] as string;
    const actual = p[i] as string;
    const m = /^\{(\w+)\}$/.exec(seg);
    if (m?.[1]) {
      if (actual === '') return undefined;
      let decoded: string;
      try {
        decoded = decodeURIComponent(actual);
      } catch {
        return undefined;
      }
      params[m[1]] = decoded;
    } else if (seg !== actual) {
      return undefined;
    }
  }
  return Object.keys(params).length > 0 ? params : null;
}

/** Finds the route of a request: a match, `'method'` (path exists, method does not) or undefined. */
export function findRoute(
  routes: readonly ApiRoute[],
  method: string,
  path: string,
): RouteMatch | 'method' | undefined {
  let pathExists = false;
  for (const route of routes) {
    const params = matchPath(route.path, path);
    if (params === undefined) continue;
    pathExists = true;
    if (route.method === method) return { route, pathParameters: params };
  }
  return pathExists ? 'method' : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return s;
  }
}

/**
 * Builds the API Gateway REST (v1) Lambda proxy event for a request, with API Gateway's rules:
 * single-value maps keep the last value, multi-value maps keep all, absent maps are null.
 */
export function buildProxyEvent(
  request: RawRequest,
  match: RouteMatch,
  options: { stage?: string; requestId?: string; now?: number } = {},
): APIGatewayProxyEvent {
  const stage = options.stage ?? 'local';
  const queryIndex = request.url.indexOf('?');
  const path = queryIndex >= 0 ? request.url.slice(0, queryIndex) : request.url;
  const query = queryIndex >= 0 ? request.url.slice(queryIndex + 1) : '';

  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i] as string;
    const value = request.rawHeaders[i + 1] as string;
    headers[name] = value;
    const values = multiValueHeaders[name] ?? [];
    values.push(value);
    multiValueHeaders[name] = values;
  }

  let queryStringParameters: Record<string, string> | null = null;
  let multiValueQueryStringParameters: Record<string, string[]> | null = null;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = safeDecode(eq >= 0 ? pair.slice(0, eq) : pair);
    const value = safeDecode(eq >= 0 ? pair.slice(eq + 1) : '');
    queryStringParameters ??= {};
    multiValueQueryStringParameters ??= {};
    queryStringParameters[name] = value;
    const values = multiValueQueryStringParameters[name] ?? [];
    values.push(value);
    multiValueQueryStringParameters[name] = values;
  }

  const now = options.now ?? Date.now();
  const userAgent = headers['User-Agent'] ?? headers['user-agent'] ?? null;
  return {
    resource: match.route.path,
    path,
    httpMethod: request.method,
    headers,
    multiValueHeaders,
    queryStringParameters,
    multiValueQueryStringParameters,
    pathParameters: match.pathParameters,
    stageVariables: null,
    body: request.body,
    isBase64Encoded: request.bodyIsBase64 ?? false,
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      authorizer: null,
      protocol: 'HTTP/1.1',
      httpMethod: request.method,
      path: `/${stage}${path}`,
      stage,
      requestId: options.requestId ?? randomUUID(),
      requestTimeEpoch: now,
      resourceId: 'local',
      resourcePath: match.route.path,
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: request.sourceIp,
        user: null,
        userAgent,
        userArn: null,
      },
    },
  };
}

/** Default loader: imports the real handler module; a missing module is `undefined` (→ 501). */
export function moduleHandlerLoader(): HandlerLoader {
  const cache = new Map<string, Promise<ProxyHandler | undefined>>();
  return (module) => {
    let loaded = cache.get(module);
    if (!loaded) {
      const file = join(REPO_ROOT, 'lambdas', module);
      loaded = import(pathToFileURL(file).href).then(
        (mod: unknown) => {
          const handler = (mod as { handler?: unknown }).handler;
          if (typeof handler !== 'function') throw new Error(`lambdas/${module} does not export handler`);
          return handler as ProxyHandler;
        },
        (error: unknown) => {
          const code = (error as { code?: unknown }).code;
          const message = error instanceof Error ? error.message : '';
          if (
            (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
            message.includes(module.replace(/\.ts$/, ''))
          ) {
            cache.delete(module);
            return undefined;
          }
          throw error;
        },
      );
      cache.set(module, loaded);
    }
    return loaded;
  };
}

class BodyTooLargeError extends Error {
  constructor() {
    super('request body too large');
    this.name = 'BodyTooLargeError';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The body as text, or as base64 when its bytes are not UTF-8, so the handler sees what API
 * Gateway would hand it instead of text with U+FFFD silently put in place of the bad bytes.
 */
function bodyText(bytes: Buffer | null): { body: string | null; bodyIsBase64: boolean } {
  if (bytes === null) return { body: null, bodyIsBase64: false };
  try {
    return { body: utf8.decode(bytes), bodyIsBase64: false };
  } catch {
    return { body: bytes.toString('base64'), bodyIsBase64: true };
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      reject(new BodyTooLargeError());
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError());
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(size === 0 ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(text);
}

/** Starts the local API. Resolves once listening. */
export async function startHttpServer(options: HttpServerOptions = {}): Promise<LocalHttpServer> {
  const routes = options.routes ?? API_ROUTES;
  const loadHandler = options.loadHandler ?? moduleHandlerLoader();
  const maxBody = options.maxBodyBytes ?? LIMITS.maxRequestBytes;
  const log = options.log ?? (() => undefined);
  const stage = options.stage ?? 'local';

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const path = url.split('?')[0] ?? '/';
    if (options.pages && (method === 'GET' || method === 'HEAD')) {
      const page = await options.pages(path);
      if (page) {
        res.writeHead(page.status, { 'content-type': page.contentType, ...page.headers });
        res.end(method === 'HEAD' ? undefined : page.body);
        log(`${method} ${path} → ${page.status}`);
        return;
      }
    }
    if (method === 'OPTIONS' && options.corsOrigins?.length) {
      const methods = routes.filter((r) => matchPath(r.path, path) !== undefined).map((r) => r.method);
      const origin = req.headers.origin;
      const headers = methods.length > 0 ? preflightHeaders(options.corsOrigins, origin, methods) : undefined;
      res.writeHead(headers ? 204 : 403, headers ?? {});
      res.end();
      log(`OPTIONS ${path} (origin ${origin ?? '-'}) → ${headers ? 204 : 403}`);
      return;
    }
    const match = findRoute(routes, method, path);
    if (match === undefined) {
      send(res, 404, apiError('not_found', `no route for ${method} ${path}`));
      return;
    }
    if (match === 'method') {
      send(res, 405, apiError('method_not_allowed', `method ${method} not allowed on ${path}`));
      return;
    }
    let body: { body: string | null; bodyIsBase64: boolean };
    try {
      body = bodyText(await readBody(req, maxBody));
    } catch (error: unknown) {
      if (error instanceof BodyTooLargeError) {
        send(res, 413, apiError('payload_too_large', `request body exceeds ${maxBody} bytes`), {
          connection: 'close',
        });
        return;
      }
      throw error;
    }
    const handler = await loadHandler(match.route.handler);
    if (!handler) {
      send(
        res,
        501,
        apiError(
          'not_implemented',
          `${match.route.description} (${method} ${match.route.path}) is not available yet: handler module lambdas/${match.route.handler} is missing`,
        ),
      );
      return;
    }
    const event = buildProxyEvent(
      {
        method,
        url,
        rawHeaders: req.rawHeaders,
        ...body,
        sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
      },
      match,
      { stage },
    );
    const started = Date.now();
    let result: APIGatewayProxyResult;
    try {
      result = await handler(event, lambdaContext(match.route.handler.split('/')[0] ?? 'api'));
    } catch (error: unknown) {
      // API Gateway answers 502 when the integration fails; the details go to the log.
      log(`handler ${match.route.handler} failed: ${error instanceof Error ? error.message : String(error)}`);
      send(res, 502, apiError('bad_gateway', 'Internal server error'));
      return;
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
    for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
    headers['x-amzn-requestid'] = event.requestContext.requestId;
    res.writeHead(result.statusCode, headers);
    res.end(result.isBase64Encoded ? Buffer.from(result.body, 'base64') : result.body);
    log(`${method} ${path} → ${result.statusCode} (${Date.now() - started} ms)`);
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      log(`request failed: ${error instanceof Error ? error.message : String(error)}`);
      if (!res.headersSent) send(res, 500, apiError('internal_error', 'local server error'));
      else res.end();
    });
  });
  const host = options.host ?? '127.0.0.1';
  const address = await listen(server, options.port ?? 0, host);
  return { url: `http://${host}:${address.port}`, port: address.port, close: () => closeServer(server) };
}

export class UnknownRouteError extends Error {
  constructor(method: string, url: string) {
    super(`no API route for ${method} ${url}`);
    this.name = 'UnknownRouteError';
  }
}

/**
 * The API Gateway proxy event the local server would build for a request — for callers that
 * invoke a handler in-process (demo stages, benchmarks, tests) without going through HTTP, so
 * they exercise exactly the event shape (resource, path parameters, query strings) the server
 * and API Gateway produce.
 */
export function proxyEventFor(
  method: string,
  url: string,
  body: string | null = null,
  rawHeaders: readonly string[] = [],
): APIGatewayProxyEvent {
  const path = url.split('?', 1)[0] ?? url;
  const match = findRoute(API_ROUTES, method, path);
  if (match === undefined || match === 'method') throw new UnknownRouteError(method, url);
  return buildProxyEvent({ method, url, rawHeaders, body, sourceIp: '127.0.0.1' }, match);
}

/** `proxyEventFor('GET', …)` with the query given as an object. */
export function getProxyEvent(path: string, query: Record<string, string> = {}): APIGatewayProxyEvent {
  const qs = new URLSearchParams(query).toString();
  return proxyEventFor('GET', qs ? `${path}?${qs}` : path);
}
