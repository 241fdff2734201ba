/**
 * A parsed request → a `bronze.access_logs` row: the derivations every later layer relies on
 * (path without query, route template, query keys without values, referrer host, user-agent
 * class, client pseudonym and network) are computed here, once, by the code both the local
 * ingest and the Firehose transformation run.
 *
 * Bronze keeps the raw client IP, referrer and user agent (for abuse investigations, with a
 * short retention: docs/access-logs.md); silver and gold only ever select the derived columns.
 */
import { createHash } from 'node:crypto';
import { clientHash, clientPrefix } from './anonymise.ts';
import {
  type AccessLogFormat,
  MAX_PATH_CHARS,
  MAX_QUERY_KEY_CHARS,
  MAX_QUERY_KEYS,
  type ParsedRequest,
} from './parse.ts';
import { routeTemplate } from './route.ts';
import { classifyUserAgent } from './user-agent.ts';

/** One `bronze.access_logs` row; times are epoch milliseconds (serialisers convert). */
export interface AccessLogRow {
  record_id: string;
  log_format: AccessLogFormat;
  request_time: number;
  client_ip: string | null;
  client_hash: string | null;
  client_prefix: string | null;
  method: string | null;
  path: string | null;
  route: string;
  query_keys: string[];
  protocol: string | null;
  status: number;
  bytes: number | null;
  latency_ms: number | null;
  referrer: string | null;
  referrer_host: string | null;
  user_agent: string | null;
  ua_family: string;
  ua_os: string;
  ua_device: string;
  is_bot: boolean;
  host: string | null;
  request_id: string | null;
  ingested_at: number;
  source_file: string | null;
  source_line: number | null;
}

/** Query keys (not values): distinct, in order of appearance, capped in number and length. */
export function queryKeys(target: string | null): string[] {
  if (target === null) return [];
  const q = target.indexOf('?');
  if (q < 0) return [];
  const hash = target.indexOf('#', q);
  const query = target.slice(q + 1, hash < 0 ? undefined : hash);
  const keys: string[] = [];
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let key = eq < 0 ? pair : pair.slice(0, eq);
    try {
      key = decodeURIComponent(key.replace(/\+/g, ' '));
    } catch {
      // keep the raw key: a malformed escape is still a key
    }
    key = key.slice(0, MAX_QUERY_KEY_CHARS);
    if (key === '' || keys.includes(key)) continue;
    keys.push(key);
    if (keys.length === MAX_QUERY_KEYS) break;
  }
  return keys;
}

/** Host of a referrer URL (lower case, no port), null for none or a relative/garbled one. */
export function referrerHost(referrer: string | null): string | null {
  if (referrer === null) return null;
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/?#]*@)?(\[[^\]]*\]|[^:/?#]+)/i.exec(referrer);
  return m?.[1] ? m[1].toLowerCase() : null;
}

function pathOf(target: string | null): string | null {
  if (target === null) return null;
  const q = target.search(/[?#]/);
  let path = q >= 0 ? target.slice(0, q) : target;
  // An absolute-form target (proxy requests: `GET http://host/x`): keep the path.
  const abs = /^[a-z][a-z0-9+.-]*:\/\/[^/]*/i.exec(path);
  if (abs) path = path.slice(abs[0].length) || '/';
  return path.length > MAX_PATH_CHARS ? path.slice(0, MAX_PATH_CHARS) : path;
}

/** Context of one row: where it came from and how it is keyed. */
export interface RowContext {
  readonly recordId: string;
  readonly ingestedAtMs: number;
  readonly salt: string;
  readonly sourceFile?: string | null;
  readonly sourceLine?: number | null;
}

/** The bronze row of a parsed request. */
export function accessLogRow(r: ParsedRequest, ctx: RowContext): AccessLogRow {
  const path = pathOf(r.target);
  const ua = classifyUserAgent(r.user_agent);
  return {
    record_id: ctx.recordId,
    log_format: r.log_format,
    request_time: r.request_time,
    client_ip: r.client_ip,
    client_hash: clientHash(r.client_ip, ctx.salt),
    client_prefix: clientPrefix(r.client_ip),
    method: r.method,
    path,
    route: r.route ?? (path === null ? '{unparsed}' : routeTemplate(path)),
    query_keys: queryKeys(r.target),
    protocol: r.protocol,
    status: r.status,
    bytes: r.bytes,
    latency_ms: r.latency_ms,
    referrer: r.referrer,
    referrer_host: referrerHost(r.referrer),
    user_agent: r.user_agent,
    ua_family: ua.family,
    ua_os: ua.os,
    ua_device: ua.device,
    is_bot: ua.isBot,
    host: r.host,
    request_id: r.request_id,
    ingested_at: ctx.ingestedAtMs,
    source_file: ctx.sourceFile ?? null,
    source_line: ctx.sourceLine ?? null,
  };
}

/**
 * Record ids (the dedup key: a replayed file gives duplicates, not double counts). A line with a
 * request id (API Gateway, CloudFront) or a delivery id (a CloudWatch Logs event id) uses it;
 * other lines use a hash of their text plus the occurrence of that exact text among the lines
 * sharing its timestamp (two identical lines in the same second are two requests). Only lines of
 * the current timestamp are remembered, so memory stays bounded for any file size; identical
 * lines separated by a line of another second get the same id (documented limitation).
 */
export class RecordIds {
  private second = Number.NaN;
  private seen = new Map<string, number>();

  /** Id of the next line. `deliveryId` wins over the request id, which wins over the hash. */
  next(line: string, r: ParsedRequest, deliveryId?: string): string {
    if (deliveryId) return `d:${deliveryId}`;
    if (r.request_id) return `r:${r.request_id}`;
    const hash = createHash('sha1').update(line).digest('base64url').slice(0, 22);
    const second = Math.floor(r.request_time / 1000);
    if (second !== this.second) {
      this.second = second;
      this.seen.clear();
    }
    const n = this.seen.get(hash) ?? 0;
    this.seen.set(hash, n + 1);
    return n === 0 ? `h:${hash}` : `h:${hash}:${n}`;
  }
}
