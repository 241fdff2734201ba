/**
 * Route templates: a request path with its variable segments collapsed (`/product/31893/62100`
 * → `/product/{id}/{id}`), so latency and error figures can be grouped per route instead of per
 * URL. Shared by the local ingest and the Firehose transformation (one rule set, one result).
 *
 * Rules, per path segment (after the query string is cut off):
 *  - digits only, a UUID, a hex string of 12+ characters with a digit, or a token of 4+ URL-safe characters
 *    that contains a digit (`P000123`, `a1b2c3d4`, `200x200`) → `{id}`;
 *  - a segment longer than `MAX_SEGMENT_CHARS`, or holding percent-escapes, commas, `|` or other
 *    characters outside the URL-safe set (search terms, filter lists) → `{param}`;
 *  - anything else is kept (lower-cased: routes are case-insensitive on most shops).
 * At most `MAX_ROUTE_SEGMENTS` segments are kept; a longer path ends in `/{…}`.
 */

/** Segments kept in a route template; deeper paths end in `/{…}`. */
export const MAX_ROUTE_SEGMENTS = 8;
/** A segment longer than this is a value, not a route name. */
export const MAX_SEGMENT_CHARS = 40;

const DIGITS = /^\d+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX = /^(?=[a-f]*\d)[0-9a-f]{12,}$/i;
const SAFE = /^[A-Za-z0-9._~-]+$/;
const HAS_DIGIT = /\d/;

/** Template of one path segment. */
export function segmentTemplate(segment: string): string {
  if (segment === '') return '';
  if (segment.length > MAX_SEGMENT_CHARS) return '{param}';
  if (DIGITS.test(segment) || UUID.test(segment) || HEX.test(segment)) return '{id}';
  if (!SAFE.test(segment)) return '{param}';
  if (segment.length >= 4 && HAS_DIGIT.test(segment)) return '{id}';
  return segment.toLowerCase();
}

/** Route template of a request path (with or without a query string). */
export function routeTemplate(path: string): string {
  const q = path.search(/[?#]/);
  const bare = q >= 0 ? path.slice(0, q) : path;
  if (bare === '' || bare[0] !== '/') return bare === '*' ? '*' : '{invalid}';
  const segments = bare.slice(1).split('/');
  const out: string[] = [];
  for (let i = 0; i < segments.length; i++) {
    if (i === MAX_ROUTE_SEGMENTS) {
      out.push('{…}');
      break;
    }
    out.push(segmentTemplate(segments[i] ?? ''));
  }
  return `/${out.join('/')}`;
}

/** Route templates of the shop's product pages: the events-vs-logs reconciliation counts these. */
export const PRODUCT_PAGE_ROUTES: readonly string[] = ['/product/{id}'];
