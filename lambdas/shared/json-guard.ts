/**
 * Checks on JSON that must run BEFORE any recursive processing (JSON.stringify, zod, a
 * quarantine writer): nesting depth and Unicode well-formedness.
 *
 * Why: V8's `JSON.parse` accepts a 400,000-deep document, but everything recursive after it
 * (`JSON.stringify`, validation) overflows the stack, which surfaced as a 5xx for a client
 * error. And JSON escapes can spell lone UTF-16 surrogates (`"\ud800"`) that no UTF-8 store
 * can hold: DuckDB, Parquet and Athena refuse them later, far from the client. Both are
 * client errors, rejected at the edge with a reason.
 *
 * The text scan is iterative (no recursion, O(n), no allocation per character); the value walk
 * stops at the depth limit, so neither can overflow the stack whatever the input.
 */

/** Deepest nesting of arrays/objects accepted anywhere (request envelope and events). */
export const MAX_JSON_DEPTH = 32;

export type JsonProblemReason = 'json_too_deep' | 'invalid_unicode';

export interface JsonProblem {
  readonly reason: JsonProblemReason;
  readonly detail: string;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number) => c >= 0xdc00 && c <= 0xdfff;

function hex4(text: string, at: number): number {
  const h = text.slice(at, at + 4);
  return /^[0-9A-Fa-f]{4}$/.test(h) ? Number.parseInt(h, 16) : -1;
}

/**
 * Scans JSON text (without parsing it) for nesting deeper than `maxDepth` and for lone
 * surrogates, raw or spelled as `\uXXXX` escapes inside strings. Returns the first problem,
 * or undefined. Syntax errors are left to `JSON.parse`.
 */
export function inspectJsonText(text: string, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isHigh(c)) {
      if (!isLow(text.charCodeAt(i + 1))) return loneSurrogate(c, i);
      i++;
      continue;
    }
    if (isLow(c)) return loneSurrogate(c, i);
    if (inString) {
      if (c === 0x22) inString = false;
      else if (c === 0x5c) {
        // backslash: skip the escape; check \uXXXX surrogate pairs
        if (text.charCodeAt(i + 1) === 0x75) {
          const u = hex4(text, i + 2);
          if (isHigh(u)) {
            const pairOk = text.charCodeAt(i + 6) === 0x5c && text.charCodeAt(i + 7) === 0x75;
            if (!pairOk || !isLow(hex4(text, i + 8))) return loneSurrogate(u, i);
            i += 11;
          } else if (isLow(u)) {
            return loneSurrogate(u, i);
          } else {
            i += 5;
          }
        } else {
          i++;
        }
      }
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > maxDepth) {
        return { reason: 'json_too_deep', detail: `JSON nesting exceeds ${maxDepth} levels` };
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return undefined;
}

function loneSurrogate(code: number, at: number): JsonProblem {
  return {
    reason: 'invalid_unicode',
    detail: `lone UTF-16 surrogate \\u${code.toString(16).padStart(4, '0')} at character ${at}: not valid Unicode`,
  };
}

const LONE_SURROGATE = /\p{Surrogate}/u;

/**
 * The same checks on an already-parsed value (e.g. an event object inside a request, or a
 * record another component decoded). The walk is recursive but bounded by `maxDepth`.
 */
export function inspectJsonValue(value: unknown, maxDepth = MAX_JSON_DEPTH): JsonProblem | undefined {
  const visit = (v: unknown, depth: number): JsonProblem | undefined => {
    if (typeof v === 'string') {
      return LONE_SURROGATE.test(v)
        ? { reason: 'invalid_unicode', detail: 'a string holds a lone UTF-16 surrogate: not valid Unicode' }
        : undefined;
    }
    if (typeof v !== 'object' || v === null) return undefined;
    if (depth + 1 > maxDepth) {
      return { reason: 'json_too_deep', detail: `JSON nesting exceeds ${maxDepth} levels` };
    }
    if (Array.isArray(v)) {
      for (const x of v) {
        const p = visit(x, depth + 1);
        if (p) return p;
      }
      return undefined;
    }
    for (const [k, x] of Object.entries(v)) {
      const p = visit(k, depth + 1) ?? visit(x, depth + 1);
      if (p) return p;
    }
    return undefined;
  };
  return visit(value, 0);
}
