/**
 * A small SQL lexer and the statement analysis both query engines share: parameter
 * conversion (`:name` → Athena `?` / DuckDB `$name`), the statement kind and target table,
 * and the table references of a query, so identifiers outside the lake catalog are rejected
 * before anything runs. It is not a parser: it understands what the ETL SQL and ad-hoc
 * queries need (strings, quoted identifiers, comments, parentheses, FROM/JOIN lists).
 */
import { isCatalogTable, UnknownTableError } from './tables.ts';
import { NAMESPACES } from './types.ts';

export type TokenType = 'ident' | 'qident' | 'string' | 'number' | 'param' | 'punct' | 'op';

export interface Token {
  readonly type: TokenType;
  /** Raw text (quotes included for strings and quoted identifiers). */
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

export class SqlSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlSyntaxError';
  }
}

export class SqlParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SqlParameterError';
  }
}

export class ForbiddenSqlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenSqlError';
  }
}

/** Splits SQL into tokens, dropping whitespace and comments. */
export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const ch = sql[i] ?? '';
    const next = sql[i + 1] ?? '';
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (ch === '/' && next === '*') {
      const close = sql.indexOf('*/', i + 2);
      if (close < 0) throw new SqlSyntaxError('unterminated /* comment');
      i = close + 2;
      continue;
    }
    const start = i;
    if (ch === "'" || ch === '"') {
      i++;
      for (;;) {
        if (i >= n) throw new SqlSyntaxError(`unterminated ${ch === "'" ? 'string' : 'quoted identifier'}`);
        if (sql[i] === ch) {
          if (sql[i + 1] === ch) {
            i += 2;
            continue;
          }
          i++;
          break;
        }
        i++;
      }
      tokens.push({ type: ch === "'" ? 'string' : 'qident', text: sql.slice(start, i), start, end: i });
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      while (i < n && /[A-Za-z0-9_$]/.test(sql[i] ?? '')) i++;
      tokens.push({ type: 'ident', text: sql.slice(start, i), start, end: i });
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '.' && /[0-9]/.test(next))) {
      while (i < n && /[0-9.eE]/.test(sql[i] ?? '')) i++;
      tokens.push({ type: 'number', text: sql.slice(start, i), start, end: i });
      continue;
    }
    if (ch === ':' && /[A-Za-z_]/.test(next) && sql[i - 1] !== ':') {
      i++;
      while (i < n && /[A-Za-z0-9_]/.test(sql[i] ?? '')) i++;
      tokens.push({ type: 'param', text: sql.slice(start, i), start, end: i });
      continue;
    }
    if (ch === '?') {
      tokens.push({ type: 'param', text: '?', start, end: i + 1 });
      i++;
      continue;
    }
    if ('(),;.[]{}'.includes(ch)) {
      tokens.push({ type: 'punct', text: ch, start, end: i + 1 });
      i++;
      continue;
    }
    while (i < n && /[<>=!|+\-*/%:&^~]/.test(sql[i] ?? '') && !(sql[i] === '-' && sql[i + 1] === '-')) i++;
    if (i === start) i++;
    tokens.push({ type: 'op', text: sql.slice(start, i), start, end: i });
  }
  return tokens;
}

const kw = (t: Token | undefined, ...words: string[]): boolean =>
  t !== undefined && t.type === 'ident' && words.includes(t.text.toLowerCase());

/** Unquoted, lower-cased identifier text. */
export function identName(t: Token): string {
  return t.type === 'qident' ? t.text.slice(1, -1).replace(/""/g, '"') : t.text.toLowerCase();
}

/** Splits a script into statements on top-level `;` (empty statements dropped). */
export function splitStatements(sql: string): string[] {
  const tokens = tokenize(sql);
  const out: string[] = [];
  let from = 0;
  for (const t of tokens) {
    if (t.type === 'punct' && t.text === ';') {
      const s = sql.slice(from, t.start).trim();
      if (tokenize(s).length > 0) out.push(s);
      from = t.end;
    }
  }
  const rest = sql.slice(from).trim();
  if (rest && tokenize(rest).length > 0) out.push(rest);
  return out;
}

export type ParamValue = string | number | null;
export type Params = Readonly<Record<string, ParamValue>>;

/** Names of the `:name` parameters of a statement, in order of appearance (repeats kept). */
export function parameterNames(sql: string): string[] {
  return tokenize(sql)
    .filter((t) => t.type === 'param' && t.text !== '?')
    .map((t) => t.text.slice(1));
}

function replaceTokens(sql: string, replacements: { token: Token; text: string }[]): string {
  let out = '';
  let at = 0;
  for (const r of [...replacements].sort((a, b) => a.token.start - b.token.start)) {
    out += sql.slice(at, r.token.start) + r.text;
    at = r.token.end;
  }
  return out + sql.slice(at);
}

/**
 * `:name` → `?` for Athena, with the names in positional order. Mixing `?` and `:name` in one
 * statement is refused: one convention per statement.
 */
export function toPositional(sql: string): { sql: string; names: string[] } {
  const params = tokenize(sql).filter((t) => t.type === 'param');
  if (params.some((p) => p.text === '?') && params.some((p) => p.text !== '?')) {
    throw new SqlParameterError('a statement uses both ? and :name parameters; use :name');
  }
  const named = params.filter((p) => p.text !== '?');
  return {
    sql: replaceTokens(
      sql,
      named.map((token) => ({ token, text: '?' })),
    ),
    names: named.map((p) => p.text.slice(1)),
  };
}

/** `:name` → `$name` (DuckDB's named prepared-statement parameters). */
export function toDuckdbNamed(sql: string): string {
  const named = tokenize(sql).filter((t) => t.type === 'param' && t.text !== '?');
  return replaceTokens(
    sql,
    named.map((token) => ({ token, text: `$${token.text.slice(1)}` })),
  );
}

/**
 * Encodes a parameter value as an Athena execution-parameter literal. Athena substitutes
 * execution parameters as typed literals: strings in single quotes (quotes doubled), numbers
 * as-is. Values are validated, never spliced into the SQL text itself.
 */
export function athenaLiteral(value: ParamValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'number') {
    if (!Number.isFinite(value))
      throw new SqlParameterError(`parameter value ${value} is not a finite number`);
    return String(value);
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters
  if (/[\u0000-\u001f]/.test(value))
    throw new SqlParameterError('parameter value contains control characters');
  return `'${value.replace(/'/g, "''")}'`;
}

/** Inverse of `athenaLiteral`, for the local runner that receives Athena-style parameters. */
export function parseAthenaLiteral(literal: string): ParamValue {
  const s = literal.trim();
  if (/^null$/i.test(s)) return null;
  if (/^'(?:[^']|'')*'$/.test(s)) return s.slice(1, -1).replace(/''/g, "'");
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) return Number(s);
  throw new SqlParameterError(`unsupported execution parameter literal ${JSON.stringify(s.slice(0, 60))}`);
}

/** Binds named parameter values to `:name` placeholders, checking none is missing. */
export function bindNamed(sql: string, params: Params = {}): Record<string, ParamValue> {
  const bound: Record<string, ParamValue> = {};
  for (const name of parameterNames(sql)) {
    if (!(name in params)) throw new SqlParameterError(`missing value for parameter :${name}`);
    const v = params[name];
    bound[name] = v === undefined ? null : v;
  }
  return bound;
}

export type StatementKind = 'select' | 'insert' | 'merge' | 'delete' | 'update' | 'ddl' | 'other';

export interface StatementInfo {
  readonly kind: StatementKind;
  /** `namespace.table` written by INSERT / MERGE / DELETE / UPDATE. */
  readonly target?: string;
  /** Tokens of the target name (namespace, '.', table), for rewriting. */
  readonly targetTokens?: readonly Token[];
  /** Every `namespace.table` referenced (target included). */
  readonly tables: readonly string[];
}

const QUERY_END = new Set([
  'where',
  'group',
  'order',
  'having',
  'limit',
  'union',
  'except',
  'intersect',
  'window',
  'qualify',
  'on',
  'using',
  'join',
  'left',
  'right',
  'inner',
  'full',
  'cross',
  'natural',
  'when',
  'set',
  'offset',
  'fetch',
  'values',
]);

/** Table functions allowed in FROM: UNNEST only (no file readers, no system functions). */
const ALLOWED_TABLE_FUNCTIONS = new Set(['unnest']);

function readQualified(tokens: Token[], i: number): { parts: string[]; end: number } {
  const parts: string[] = [];
  let j = i;
  for (;;) {
    const t = tokens[j];
    if (!t || (t.type !== 'ident' && t.type !== 'qident')) break;
    parts.push(identName(t));
    j++;
    const dot = tokens[j];
    if (dot && dot.type === 'punct' && dot.text === '.') {
      j++;
      continue;
    }
    break;
  }
  return { parts, end: j };
}

function skipParens(tokens: Token[], i: number): number {
  let depth = 0;
  for (let j = i; j < tokens.length; j++) {
    const t = tokens[j];
    if (t?.type === 'punct' && t.text === '(') depth++;
    else if (t?.type === 'punct' && t.text === ')') {
      depth--;
      if (depth === 0) return j + 1;
    }
  }
  throw new SqlSyntaxError('unbalanced parentheses');
}

/** Parses `WITH [RECURSIVE] a [(cols)] AS (…), b AS (…)` at token i (the WITH). */
function parseWith(tokens: Token[], i: number): { names: string[]; end: number } {
  const names: string[] = [];
  let j = i + 1;
  if (kw(tokens[j], 'recursive')) j++;
  for (;;) {
    const name = tokens[j];
    if (!name || (name.type !== 'ident' && name.type !== 'qident')) break;
    j++;
    if (tokens[j]?.text === '(') j = skipParens(tokens, j);
    if (!kw(tokens[j], 'as')) break;
    names.push(identName(name));
    j++;
    if (kw(tokens[j], 'not')) j++;
    if (kw(tokens[j], 'materialized')) j++;
    if (tokens[j]?.text !== '(') break;
    j = skipParens(tokens, j);
    if (tokens[j]?.text === ',') {
      j++;
      continue;
    }
    break;
  }
  return { names, end: j };
}

/** Names defined by WITH clauses anywhere in the statement. */
function cteNames(tokens: Token[]): Set<string> {
  const names = new Set<string>();
  tokens.forEach((t, i) => {
    if (kw(t, 'with')) for (const n of parseWith(tokens, i).names) names.add(n);
  });
  return names;
}

/**
 * Finds the relations of a statement and checks them against the lake catalog. A relation
 * must be a catalog table (`namespace.table`), a CTE of the statement, a subquery or UNNEST.
 * Anything else (other schemas, file readers such as `read_csv`, system tables) is refused
 * with `UnknownTableError` / `ForbiddenSqlError`, so ad-hoc queries cannot read outside the lake.
 */
export function analyzeStatement(sql: string): StatementInfo {
  const tokens = tokenize(sql);
  const ctes = cteNames(tokens);
  const tables: string[] = [];
  let kind: StatementKind = 'other';
  let target: string | undefined;
  let targetTokens: Token[] | undefined;

  // Statement kind: the first keyword after a leading WITH clause.
  const first = kw(tokens[0], 'with') ? parseWith(tokens, 0).end : 0;
  const head = tokens[first];
  const word = head && head.type === 'ident' ? head.text.toLowerCase() : '';
  let targetAt = -1;
  if (word === 'select' || word === 'values' || (head?.text === '(' && first === 0) || word === 'table') {
    kind = 'select';
  } else if (word === 'insert' && kw(tokens[first + 1], 'into')) {
    kind = 'insert';
    targetAt = first + 2;
  } else if (word === 'merge' && kw(tokens[first + 1], 'into')) {
    kind = 'merge';
    targetAt = first + 2;
  } else if (word === 'delete' && kw(tokens[first + 1], 'from')) {
    kind = 'delete';
    targetAt = first + 2;
  } else if (word === 'update') {
    kind = 'update';
    targetAt = first + 1;
  } else if (['create', 'drop', 'alter', 'optimize', 'vacuum'].includes(word)) {
    kind = 'ddl';
  }
  if (targetAt >= 0) {
    const q = readQualified(tokens, targetAt);
    target = q.parts.join('.');
    targetTokens = tokens.slice(targetAt, q.end);
  }

  const check = (parts: string[]) => {
    const name = parts.join('.');
    if (parts.length === 1 && ctes.has(name)) return;
    if (parts.length === 2 && (NAMESPACES as readonly string[]).includes(parts[0] ?? '')) {
      if (!isCatalogTable(name)) throw new UnknownTableError(name);
      tables.push(name);
      return;
    }
    throw new UnknownTableError(name);
  };

  if (kind === 'ddl') {
    // OPTIMIZE t … / VACUUM t: the table right after the keyword; other DDL names nothing here.
    if (word === 'optimize' || word === 'vacuum') check(readQualified(tokens, first + 1).parts);
    return { kind, tables: [...new Set(tables)] };
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    const isFrom = kw(t, 'from', 'join', 'using', 'into', 'update');
    if (!isFrom) continue;
    if (kw(t, 'update') && i !== first) continue;
    // a IS [NOT] DISTINCT FROM b
    if (kw(t, 'from') && kw(tokens[i - 1], 'distinct') && kw(tokens[i - 2], 'is', 'not')) continue;
    // EXTRACT(x FROM y), TRIM(x FROM y), substring(x FROM y): FROM inside function calls.
    if (kw(t, 'from') && inFunctionArgs(tokens, i)) continue;
    let j = i + 1;
    for (;;) {
      if (kw(tokens[j], 'lateral')) j++;
      const r = tokens[j];
      if (!r) break;
      if (r.type === 'punct' && r.text === '(') {
        j = skipParens(tokens, j);
      } else if (r.type === 'ident' || r.type === 'qident') {
        const q = readQualified(tokens, j);
        if (tokens[q.end]?.text === '(' && !kw(t, 'into')) {
          const fn = q.parts.join('.');
          if (!ALLOWED_TABLE_FUNCTIONS.has(fn)) {
            throw new ForbiddenSqlError(`table function ${fn}() is not allowed: query catalog tables only`);
          }
          j = skipParens(tokens, q.end);
        } else {
          check(q.parts);
          j = q.end;
        }
      } else {
        break;
      }
      // optional alias, column aliases
      if (kw(tokens[j], 'as')) j++;
      const alias = tokens[j];
      if (
        alias &&
        (alias.type === 'ident' || alias.type === 'qident') &&
        !QUERY_END.has(alias.text.toLowerCase()) &&
        !kw(alias, 'with', 'select', 'tablesample', 'for')
      ) {
        j++;
        if (tokens[j]?.text === '(') j = skipParens(tokens, j);
      }
      if (kw(tokens[i], 'from') && tokens[j]?.text === ',') {
        j++;
        continue;
      }
      break;
    }
  }
  const result: StatementInfo = { kind, tables: [...new Set(tables)] };
  return target !== undefined && targetTokens ? { ...result, target, targetTokens } : result;
}

/** True when token i sits directly inside a function call's parentheses (e.g. EXTRACT(… FROM …)). */
function inFunctionArgs(tokens: Token[], i: number): boolean {
  let depth = 0;
  for (let j = i - 1; j >= 0; j--) {
    const t = tokens[j];
    if (t?.text === ')') depth++;
    else if (t?.text === '(') {
      if (depth === 0) {
        const before = tokens[j - 1];
        return (
          before !== undefined &&
          before.type === 'ident' &&
          ['extract', 'trim', 'substring', 'position', 'overlay'].includes(before.text.toLowerCase())
        );
      }
      depth--;
    }
  }
  return false;
}

/** Replaces the target table of an INSERT/MERGE/DELETE/UPDATE (used to stage writes). */
export function replaceTarget(sql: string, info: StatementInfo, replacement: string): string {
  const first = info.targetTokens?.[0];
  const last = info.targetTokens?.[info.targetTokens.length - 1];
  if (!first || !last) throw new SqlSyntaxError('statement has no target table');
  return sql.slice(0, first.start) + replacement + sql.slice(last.end);
}

/**
 * Rewrites logical `namespace.table` references (what `athena/*.sql` uses) to physical Glue
 * database names, e.g. `silver.events` → `shoplake_silver.events`. Only catalog tables are
 * touched; an empty prefix leaves the SQL unchanged (the local engine's schemas are the
 * namespaces themselves).
 */
export function qualifyNamespaces(sql: string, databasePrefix: string): string {
  if (!databasePrefix) return sql;
  const tokens = tokenize(sql);
  const edits: { token: Token; text: string }[] = [];
  for (let i = 0; i + 2 < tokens.length; i++) {
    const ns = tokens[i];
    const dot = tokens[i + 1];
    const name = tokens[i + 2];
    if (!ns || !dot || !name || ns.type !== 'ident' || dot.text !== '.') continue;
    if (tokens[i - 1]?.text === '.') continue;
    if (name.type !== 'ident' && name.type !== 'qident') continue;
    if (!isCatalogTable(`${identName(ns)}.${identName(name)}`)) continue;
    edits.push({ token: ns, text: `${databasePrefix}${identName(ns)}` });
  }
  return replaceTokens(sql, edits);
}
