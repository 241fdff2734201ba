/**
 * Synthetic web-server access logs for tests, benchmarks and the demo, in the three formats the
 * parser reads. Two sources:
 *  - `accessLogForEvents`: the requests a shop's web server would have logged for the
 *    generator's clickstream (one page request per page/product view, search, cart and checkout
 *    event, from a stable client per session), plus crawler traffic, static assets, 404s and a
 *    few 5xx — so product-page requests reconcile with `product_view` events;
 *  - `syntheticAccessLog`: free-standing traffic at any volume (benchmarks), no events needed.
 * Every generated request is also returned as a plain object (`GeneratedRequest`) so tests can
 * compute expected figures independently of the parser and the SQL.
 */

import { Rng } from './random.ts';
import type { GeneratedEvent } from './shop.ts';

export type GeneratedLogFormat = 'combined' | 'nginx' | 'apigw';

export interface GeneratedRequest {
  readonly time: number;
  readonly ip: string;
  readonly method: string;
  readonly target: string;
  readonly status: number;
  readonly bytes: number;
  readonly latencyMs: number;
  readonly referrer: string | null;
  readonly userAgent: string;
  readonly bot: boolean;
}

export const BROWSER_AGENTS: readonly string[] = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
  'Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1',
];
export const BOT_AGENTS: readonly string[] = [
  'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
  'Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)',
  'Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)',
  'python-requests/2.31.0',
];
const REFERRERS = [
  'https://www.google.com/',
  'https://www.bing.com/',
  'https://instagram.com/',
  null,
  null,
  null,
];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** `10/Oct/2026:13:55:36 +0000` */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** One request as a log line of `format`. */
export function formatRequest(r: GeneratedRequest, format: GeneratedLogFormat, n = 0): string {
  if (format === 'apigw') {
    return JSON.stringify({
      requestId: `gen-${r.time.toString(36)}-${n.toString(36)}`,
      ip: r.ip,
      requestTimeEpoch: r.time,
      httpMethod: r.method,
      path: r.target.split('?')[0],
      status: String(r.status),
      protocol: 'HTTP/1.1',
      responseLength: String(r.bytes),
      responseLatency: String(Math.round(r.latencyMs)),
      userAgent: r.userAgent,
    });
  }
  const base = `${r.ip} - - [${clfTime(r.time)}] "${r.method} ${r.target} HTTP/1.1" ${r.status} ${r.bytes} "${r.referrer ?? '-'}" "${r.userAgent}"`;
  return format === 'nginx' ? `${base} ${(r.latencyMs / 1000).toFixed(3)}` : base;
}

function ipFor(rng: Rng): string {
  if (rng.chance(0.15)) {
    return `2001:db8:${rng.int(0xffff).toString(16)}:${rng.int(0xffff).toString(16)}::${rng.int(0xffff).toString(16)}`;
  }
  return `${rng.range(1, 223)}.${rng.int(256)}.${rng.int(256)}.${rng.range(1, 254)}`;
}

/** Log-normal latency (ms), heavier for some routes; whole milliseconds (apigw logs integers). */
function latency(rng: Rng, scale: number): number {
  const u = Math.max(1e-12, rng.next());
  const v = rng.next();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.max(1, Math.round(scale * Math.exp(0.6 * z)));
}

function pageOf(e: GeneratedEvent): { method: string; target: string; scale: number } | null {
  switch (e.event_type) {
    case 'page_view':
      return { method: 'GET', target: e.page_type === 'category' ? '/category/all' : '/', scale: 40 };
    case 'product_view':
      return { method: 'GET', target: `/product/${e.product_id}${e.rec_id ? '?rec=1' : ''}`, scale: 60 };
    case 'search':
      return { method: 'GET', target: `/search?q=${encodeURIComponent(e.query ?? 'x')}&page=1`, scale: 120 };
    case 'add_to_cart':
      return { method: 'POST', target: '/cart/add', scale: 80 };
    case 'remove_from_cart':
      return { method: 'POST', target: '/cart/remove', scale: 80 };
    case 'begin_checkout':
      return { method: 'GET', target: '/checkout', scale: 150 };
    case 'purchase':
      return { method: 'POST', target: '/checkout/complete', scale: 300 };
    default:
      return null;
  }
}

/**
 * The web server's view of a clickstream: one request per page-level event (status 200, except
 * 0.5 % of checkouts failing with 502), crawler requests (`botShare` of the total) to product
 * pages and robots.txt, and a few 404s. Product-page requests from browsers equal the distinct
 * `product_view` events, so the reconciliation check has a known answer.
 */
export function accessLogForEvents(
  events: Iterable<GeneratedEvent>,
  options: { seed?: number; botShare?: number } = {},
): GeneratedRequest[] {
  const rng = new Rng(options.seed ?? 7);
  const botShare = options.botShare ?? 0.1;
  const clients = new Map<string, { ip: string; ua: string }>();
  const out: GeneratedRequest[] = [];
  const products: string[] = [];
  const seen = new Set<string>();
  for (const e of events) {
    const page = pageOf(e);
    // A re-sent event (tracker retry, same event_id) is not a second page load.
    if (!page || seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    let c = clients.get(e.session_id);
    if (!c) {
      c = { ip: ipFor(rng), ua: rng.pick(BROWSER_AGENTS) };
      clients.set(e.session_id, c);
    }
    if (e.product_id && products.length < 1000) products.push(e.product_id);
    const time = Date.parse(e.event_time);
    const failed = e.event_type === 'purchase' && rng.chance(0.005);
    out.push({
      time,
      ip: c.ip,
      method: page.method,
      target: page.target,
      status: failed ? 502 : page.method === 'POST' ? 303 : 200,
      bytes: page.method === 'POST' ? 0 : 2_000 + rng.int(40_000),
      latencyMs: latency(rng, page.scale) * (failed ? 10 : 1),
      referrer: rng.pick(REFERRERS),
      userAgent: c.ua,
      bot: false,
    });
    if (rng.chance(0.01)) {
      out.push({
        time: time + 500,
        ip: c.ip,
        method: 'GET',
        target: `/product/NOPE${rng.int(1000)}`,
        status: 404,
        bytes: 512,
        latencyMs: latency(rng, 10),
        referrer: null,
        userAgent: c.ua,
        bot: false,
      });
    }
  }
  const humans = out.length;
  const bots = Math.round((humans * botShare) / (1 - botShare));
  const times = out.map((r) => r.time).sort((a, b) => a - b);
  const first = times[0] ?? Date.now();
  const last = times.at(-1) ?? first;
  for (let i = 0; i < bots; i++) {
    const robots = rng.chance(0.1);
    out.push({
      time: first + Math.floor(rng.next() * (last - first + 1)),
      ip: `66.249.${rng.int(100)}.${rng.range(1, 254)}`,
      method: 'GET',
      target: robots || products.length === 0 ? '/robots.txt' : `/product/${rng.pick(products)}`,
      status: 200,
      bytes: 1_000 + rng.int(30_000),
      latencyMs: latency(rng, 50),
      referrer: null,
      userAgent: rng.pick(BOT_AGENTS),
      bot: true,
    });
  }
  return out.sort((a, b) => a.time - b.time);
}

/** Free-standing traffic: `lines` requests spread evenly over `days` days ending at `end`. */
export function* syntheticAccessLog(options: {
  lines: number;
  seed?: number;
  days?: number;
  end?: number;
}): IterableIterator<GeneratedRequest> {
  const rng = new Rng(options.seed ?? 11);
  const days = options.days ?? 7;
  const end = options.end ?? Date.parse('2026-11-20T00:00:00Z');
  const start = end - days * 86_400_000;
  const step = (end - start) / Math.max(1, options.lines);
  const routes: [string, string, number][] = [
    ['GET', '/', 40],
    ['GET', '/product/P{n}', 60],
    ['GET', '/product/P{n}', 60],
    ['GET', '/category/{c}', 50],
    ['GET', '/search?q=lamp&page={n}', 120],
    ['POST', '/cart/add', 80],
    ['GET', '/static/app.{n}.js', 5],
    ['GET', '/image/{n}/productModel/200x200', 8],
  ];
  for (let i = 0; i < options.lines; i++) {
    const [method, template, scale] = rng.pick(routes);
    const bot = rng.chance(0.1);
    const n = String(rng.range(1, 20_000)).padStart(6, '0');
    const roll = rng.next();
    yield {
      time: Math.floor(start + i * step),
      ip: bot ? `66.249.${rng.int(100)}.${rng.range(1, 254)}` : ipFor(rng),
      method,
      target: template.replace('{n}', n).replace('{c}', rng.pick(['garden', 'books', 'audio'])),
      status: roll < 0.01 ? 500 : roll < 0.04 ? 404 : method === 'POST' ? 303 : 200,
      bytes: rng.int(50_000),
      latencyMs: latency(rng, scale),
      referrer: rng.pick(REFERRERS),
      userAgent: bot ? rng.pick(BOT_AGENTS) : rng.pick(BROWSER_AGENTS),
      bot,
    };
  }
}
