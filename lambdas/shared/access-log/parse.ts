/**
 * Access-log line parser: NCSA Combined Log Format (Apache/nginx `combined`), nginx with
 * `$request_time` appended, and JSON access logs (API Gateway `$context` fields, shoplake's own
 * format `API_ACCESS_LOG_FORMAT`, API Gateway's standard JSON fields, CloudFront JSON field
 * names). One line in, one parsed request or one reject reason out; never throws on input.
 *
 * Why one module: the local `shoplake ingest --format access-log` and the Firehose
 * transformation Lambda (`lambdas/firehose-access-logs`) call exactly this code, so a line is
 * accepted or rejected for the same reason on a laptop and on AWS.
 *
 * Speed: the text formats are matched with one anchored regular expression (V8 compiles it to
 * native code) and the timestamp is decoded by hand (no Date parsing of `10/Oct/2000:13:55:36
 * -0700`); `bench/access-log.bench.ts` measures it.
 */

/** A line format. `auto` picks JSON for `{…}` lines, else the text formats (latency if present). */
export const ACCESS_LOG_FORMATS = ['combined', 'nginx', 'apigw'] as const;
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];
export type AccessLogFormatOption = AccessLogFormat | 'auto';

/** Longest line accepted (bytes). Real servers cap the request line near 8 KiB. @default 65_536 */
export const MAX_LINE_BYTES = 65_536;
/** Paths are kept up to this many characters (the rest of a hostile URL is cut). */
export const MAX_PATH_CHARS = 2_048;
/** Distinct query keys kept per request, each up to `MAX_QUERY_KEY_CHARS`. */
export const MAX_QUERY_KEYS = 32;
export const MAX_QUERY_KEY_CHARS = 64;
/** Referrer and user agent are kept up to this many characters. */
export const MAX_HEADER_CHARS = 1_024;

export type AccessLogRejectReason =
  | 'not_utf8'
  | 'line_too_long'
  | 'malformed_line'
  | 'invalid_timestamp'
  | 'invalid_status'
  | 'missing_request_time'
  | 'invalid_json'
  | 'missing_field';

/** One request as the log line states it (before derivations such as the route template). */
export interface ParsedRequest {
  readonly log_format: AccessLogFormat;
  /** Epoch milliseconds (UTC). */
  readonly request_time: number;
  readonly client_ip: string | null;
  /** Null when the request line could not be split (`"-"`, a TLS handshake sent to port 80…). */
  readonly method: string | null;
  /** Request target as logged (path and query), null with `method`. */
  readonly target: string | null;
  readonly protocol: string | null;
  readonly status: number;
  readonly bytes: number | null;
  readonly latency_ms: number | null;
  readonly referrer: string | null;
  readonly user_agent: string | null;
  readonly host: string | null;
  readonly request_id: string | null;
  /** Route template given by the source (API Gateway `resourcePath`), else derived later. */
  readonly route: string | null;
}

export type ParseResult =
  | { readonly ok: true; readonly request: ParsedRequest }
  | { readonly ok: false; readonly reason: AccessLogRejectReason; readonly detail: string };

const reject = (reason: AccessLogRejectReason, detail: string): ParseResult => ({
  ok: false,
  reason,
  detail,
});

// %h %l %u [%t] "%r" %>s %b "%{Referer}i" "%{User-Agent}i" [rest]. Quoted fields allow escaped
// characters (`\"`, as Apache and nginx escape quotes); referrer and user agent may be absent
// (Common Log Format); `rest` holds nginx's `$request_time` and/or extra quoted fields.
const TEXT_LINE =
  /^(\S+) \S+ (?:\S+|"[^"]*") \[([^\]]+)\] "((?:[^"\\]|\\.)*)" (\S+) (\S+)(?: "((?:[^"\\]|\\.)*)" "((?:[^"\\]|\\.)*)")?(.*)$/;
/** What may follow the user agent: quoted fields, numbers (`$request_time`) or `-`. */
const REST = /^(?:\s+(?:"(?:[^"\\]|\\.)*"|\d+(?:\.\d+)?|-))*\s*$/;
const REQUEST_TIME = /^\s+(?:"[^"]*"\s+)*(\d+(?:\.\d+)?)(?:\s|$)/;
const MONTHS: Readonly<Record<string, number>> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : Number.NaN;
};
const num = (s: string, from: number, len: number): number => {
  let v = 0;
  for (let i = from; i < from + len; i++) v = v * 10 + digit(s, i);
  return v;
};

/** `10/Oct/2000:13:55:36 -0700` (strftime `%d/%b/%Y:%H:%M:%S %z`) → epoch ms, or NaN. */
export function parseClfTime(t: string): number {
  if (t.length !== 26 || t[2] !== '/' || t[6] !== '/' || t[11] !== ':' || t[20] !== ' ') return Number.NaN;
  const month = MONTHS[t.slice(3, 6)];
  if (month === undefined) return Number.NaN;
  const day = num(t, 0, 2);
  const year = num(t, 7, 4);
  const hour = num(t, 12, 2);
  const minute = num(t, 15, 2);
  const second = num(t, 18, 2);
  const sign = t[21] === '-' ? -1 : t[21] === '+' ? 1 : Number.NaN;
  const offset = sign * (num(t, 22, 2) * 60 + num(t, 24, 2));
  if (day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  const ms = Date.UTC(year, month, day, hour, minute, second) - offset * 60_000;
  // Date.UTC rolls 31 Feb over into March: a day the month does not have is invalid.
  if (new Date(Date.UTC(year, month, day)).getUTCDate() !== day) return Number.NaN;
  return ms;
}

/**
 * Undoes the escapes Apache (`\"`, `\\`) and nginx (`\x22`, and `\xHH` per byte of non-ASCII
 * text, decoded here as UTF-8) write inside quoted fields.
 */
function unescapeField(field: string): string {
  if (field.indexOf('\\') < 0) return field;
  return field.replace(
    /((?:\\x[0-9A-Fa-f]{2})+)|\\(.)/g,
    (_m, hex: string | undefined, ch: string | undefined) =>
      hex !== undefined ? Buffer.from(hex.replace(/\\x/g, ''), 'hex').toString('utf8') : (ch ?? ''),
  );
}

const dash = (v: string | undefined): string | null => {
  if (v === undefined || v === '' || v === '-') return null;
  const u = unescapeField(v);
  return u.length > MAX_HEADER_CHARS ? u.slice(0, MAX_HEADER_CHARS) : u;
};

/** Splits `%r` (`GET /a?b=1 HTTP/1.1`); a request line that is not one gives nulls. */
function requestLine(r: string): { method: string | null; target: string | null; protocol: string | null } {
  const s1 = r.indexOf(' ');
  if (s1 <= 0) return { method: null, target: null, protocol: null };
  const method = r.slice(0, s1);
  if (!/^[A-Z]{3,10}$/.test(method)) return { method: null, target: null, protocol: null };
  const s2 = r.lastIndexOf(' ');
  const hasProtocol = s2 > s1 && r.startsWith('HTTP/', s2 + 1);
  const target = unescapeField(hasProtocol ? r.slice(s1 + 1, s2) : r.slice(s1 + 1));
  return { method, target: target === '' ? null : target, protocol: hasProtocol ? r.slice(s2 + 1) : null };
}

function parseText(line: string, format: AccessLogFormat | 'auto'): ParseResult {
  const m = TEXT_LINE.exec(line);
  if (!m) return reject('malformed_line', 'not a Combined/Common Log Format line');
  const [, host, time = '', request = '', statusText = '', bytesText = '', referrer, userAgent, rest = ''] =
    m;
  const requestTime = parseClfTime(time);
  if (!Number.isFinite(requestTime))
    return reject('invalid_timestamp', `bad timestamp [${time.slice(0, 40)}]`);
  const status = /^\d{3}$/.test(statusText) ? Number(statusText) : Number.NaN;
  if (!(status >= 100 && status <= 599))
    return reject('invalid_status', `bad status ${statusText.slice(0, 20)}`);
  let bytes: number | null = null;
  if (bytesText !== '-') {
    if (!/^\d{1,15}$/.test(bytesText))
      return reject('malformed_line', `bad byte count ${bytesText.slice(0, 20)}`);
    bytes = Number(bytesText);
  }
  if (rest !== '' && !REST.test(rest)) {
    return reject('malformed_line', 'unexpected text after the request fields (truncated line?)');
  }
  let latency: number | null = null;
  const rt = REQUEST_TIME.exec(rest);
  if (rt?.[1] !== undefined) latency = Math.round(Number(rt[1]) * 1_000_000) / 1000;
  if (format === 'nginx' && latency === null) {
    return reject('missing_request_time', 'nginx format: no $request_time after the user agent');
  }
  const r = requestLine(request);
  return {
    ok: true,
    request: {
      log_format: format === 'auto' ? (latency === null ? 'combined' : 'nginx') : format,
      request_time: requestTime,
      client_ip: host === '-' || host === undefined ? null : host,
      method: r.method,
      target: r.target,
      protocol: r.protocol,
      status,
      bytes,
      latency_ms: format === 'combined' ? null : latency,
      referrer: dash(referrer),
      user_agent: dash(userAgent),
      host: null,
      request_id: null,
      route: null,
    },
  };
}

type Json = Record<string, unknown>;

const str = (o: Json, ...keys: string[]): string | null => {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string' && v !== '' && v !== '-') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return null;
};
const numeric = (o: Json, ...keys: string[]): number | null => {
  const s = str(o, ...keys);
  if (s === null) return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
};
const capped = (s: string | null): string | null =>
  s !== null && s.length > MAX_HEADER_CHARS ? s.slice(0, MAX_HEADER_CHARS) : s;

/**
 * API Gateway / CloudFront JSON. Time: `requestTimeEpoch` (ms), `requestTime` (CLF or ISO),
 * CloudFront `timestamp` (epoch seconds, may have ms) or `date` + `time`. Latency:
 * `responseLatency` (ms) or CloudFront `time-taken` (seconds).
 */
function parseJson(line: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return reject('invalid_json', 'line starts with { but is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return reject('invalid_json', 'JSON line is not an object');
  }
  const o = value as Json;
  let time = Number.NaN;
  const epochMs = numeric(o, 'requestTimeEpoch');
  const epochS = numeric(o, 'timestamp');
  const text = str(o, 'requestTime', 'time_iso8601');
  if (epochMs !== null) time = epochMs;
  else if (epochS !== null) time = epochS * 1000;
  else if (text !== null) time = /^\d\d\/\w{3}\//.test(text) ? parseClfTime(text) : Date.parse(text);
  else {
    const d = str(o, 'date');
    const t = str(o, 'time');
    if (d !== null && t !== null) time = Date.parse(`${d}T${t}Z`);
  }
  if (!Number.isFinite(time) || time < 0 || time > 253402300799999) {
    return reject('invalid_timestamp', 'no usable requestTimeEpoch/requestTime/timestamp');
  }
  const statusText = str(o, 'status', 'sc-status');
  const status = statusText !== null && /^\d{3}$/.test(statusText) ? Number(statusText) : Number.NaN;
  if (!(status >= 100 && status <= 599)) return reject('invalid_status', `bad status ${String(statusText)}`);
  const method = str(o, 'httpMethod', 'cs-method', 'method');
  let target = str(o, 'path', 'cs-uri-stem', 'uri');
  const query = str(o, 'cs-uri-query', 'querystring');
  if (target !== null && query !== null) target = `${target}?${query}`;
  const resourcePath = str(o, 'resourcePath');
  if (method === null) return reject('missing_field', 'no httpMethod / cs-method');
  if (target === null && resourcePath === null) return reject('missing_field', 'no path / cs-uri-stem');
  const latencyMs = numeric(o, 'responseLatency');
  const takenS = numeric(o, 'time-taken');
  const decode = (s: string | null): string | null => {
    if (s === null || s.indexOf('%') < 0) return s;
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const isCloudFront = 'cs-method' in o;
  return {
    ok: true,
    request: {
      log_format: 'apigw',
      request_time: Math.trunc(time),
      client_ip: str(o, 'ip', 'sourceIp', 'c-ip'),
      method: method.toUpperCase(),
      target: target ?? resourcePath,
      protocol: str(o, 'protocol', 'cs-protocol-version'),
      status,
      bytes: numeric(o, 'responseLength', 'sc-bytes'),
      latency_ms: latencyMs ?? (takenS === null ? null : Math.round(takenS * 1_000_000) / 1000),
      referrer: capped(isCloudFront ? decode(str(o, 'cs(Referer)')) : str(o, 'referer', 'referrer')),
      user_agent: capped(isCloudFront ? decode(str(o, 'cs(User-Agent)')) : str(o, 'userAgent', 'user_agent')),
      host: str(o, 'domainName', 'x-host-header', 'cs(Host)', 'host'),
      request_id: str(o, 'requestId', 'x-edge-request-id', 'request_id'),
      route: resourcePath,
    },
  };
}

/**
 * Parses one line (without its newline). `format` fixes the format (a line of another format is
 * rejected); `auto` detects it per line.
 */
export function parseAccessLogLine(line: string, format: AccessLogFormatOption = 'auto'): ParseResult {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.length > MAX_LINE_BYTES) return reject('line_too_long', `line over ${MAX_LINE_BYTES} bytes`);
  const first = text.charCodeAt(0);
  if (format === 'apigw' || (format === 'auto' && first === 0x7b) /* { */) {
    if (first !== 0x7b) return reject('invalid_json', 'apigw format: line is not a JSON object');
    return parseJson(text);
  }
  return parseText(text, format);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Parses one line given as bytes: invalid UTF-8 is rejected (`not_utf8`), like event records. */
export function parseAccessLogBytes(bytes: Uint8Array, format: AccessLogFormatOption = 'auto'): ParseResult {
  if (bytes.length > MAX_LINE_BYTES) return reject('line_too_long', `line over ${MAX_LINE_BYTES} bytes`);
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return reject('not_utf8', 'line is not valid UTF-8');
  }
  return parseAccessLogLine(text, format);
}
