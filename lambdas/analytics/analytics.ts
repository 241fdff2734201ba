/**
 * The analytics API (`GET /analytics/{dataset}`): validates the request against the data-set list
 * (`lambdas/shared/analytics/datasets.ts`), runs the data set's query through a query port with
 * bound execution parameters (never spliced into SQL), and answers one page of rows as JSON or
 * CSV with an opaque continuation token. The port is Athena on AWS (`athena-port.ts`) and the
 * local DuckDB engine under `shoplake serve`; everything else is this one code path.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';
import {
  AnalyticsQuerySchema,
  type AnalyticsResponse,
  DEFAULT_PAGE_ROWS,
  MAX_PAGE_ROWS,
} from '../shared/analytics/api-schema.ts';
import {
  ANALYTICS_DATASET_NAMES,
  type AnalyticsDataset,
  analyticsDataset,
  type ColumnKind,
} from '../shared/analytics/datasets.ts';
import { ANALYTICS_SQL } from '../shared/analytics/sql.generated.ts';
import { errorResult } from '../shared/api-errors.ts';
import type { Params } from '../shared/catalog/sql.ts';

export { DEFAULT_PAGE_ROWS, MAX_PAGE_ROWS };
/** Bounds used when `from` / `to` are absent. */
export const OPEN_RANGE = { from: '1970-01', to: '9999-12' } as const;
/** Seconds a client should wait before retrying a query that timed out (504). */
export const RETRY_AFTER_SECONDS = 5;
/** Browser / API Gateway cache lifetime of a successful answer, s (gold changes per ETL run). */
export const RESPONSE_MAX_AGE_SECONDS = 60;

/** One page of a query's result from a port. `cursor` continues it; absent on the last page. */
export interface QueryPage {
  readonly rows: readonly Record<string, unknown>[];
  readonly cursor?: string;
}

/** What runs the SQL: Athena on AWS, DuckDB locally. */
export interface AnalyticsQueryPort {
  /**
   * Runs `sql` (Trino dialect, logical `gold.` names, `:name` placeholders bound from `params`)
   * and returns up to `limit` rows from `cursor` (undefined = the first page).
   */
  page(sql: string, params: Params, limit: number, cursor: string | undefined): Promise<QueryPage>;
}

/** The port gave up waiting for the query: a 504 with a retry hint. */
export class AnalyticsTimeoutError extends Error {
  constructor(
    message: string,
    readonly queryExecutionId?: string,
  ) {
    super(message);
    this.name = 'AnalyticsTimeoutError';
  }
}

/** A continuation cursor the port cannot use any more (expired results…): a 400. */
export class AnalyticsCursorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnalyticsCursorError';
  }
}

interface TokenBody {
  readonly d: string;
  readonly p: string;
  readonly c: string;
}

function paramsKey(dataset: string, params: Params): string {
  return createHash('sha256')
    .update(JSON.stringify([dataset, params]))
    .digest('base64url')
    .slice(0, 16);
}

function encodeToken(body: TokenBody): string {
  return Buffer.from(JSON.stringify(body)).toString('base64url');
}

function decodeToken(token: string): TokenBody | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (typeof v !== 'object' || v === null) return undefined;
    const { d, p, c } = v as Record<string, unknown>;
    return typeof d === 'string' && typeof p === 'string' && typeof c === 'string' ? { d, p, c } : undefined;
  } catch {
    return undefined;
  }
}

/** A cell as the data set's column kind says (Athena answers text, DuckDB typed values). */
export function typedCell(kind: ColumnKind, value: unknown): string | number | null {
  if (value === null || value === undefined) return null;
  switch (kind) {
    case 'integer':
    case 'number':
    case 'money':
    case 'rate': {
      const n = typeof value === 'number' ? value : Number(value);
      return Number.isFinite(n) ? n : null;
    }
    case 'date':
      return value instanceof Date ? value.toISOString().slice(0, 10) : String(value).slice(0, 10);
    default:
      return String(value);
  }
}

/** One CSV field (RFC 4180): quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string | number | null): string {
  if (value === null) return '';
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Header line plus one line per row, CRLF-terminated (RFC 4180). */
export function toCsv(
  columns: readonly { name: string }[],
  rows: readonly Record<string, string | number | null>[],
): string {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(r[c.name] ?? null)).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/** First day of a `YYYY-MM` month, the SQL's date parameter. */
function monthStart(month: string): string {
  return `${month}-01`;
}

export interface AnalyticsHandlerDeps {
  readonly port: AnalyticsQueryPort;
  readonly log?: (entry: Record<string, unknown>) => void;
}

function validationDetails(error: z.ZodError): { parameter: string; problem: string }[] {
  return error.issues.map((i) => ({
    parameter: i.path.length > 0 ? i.path.join('.') : String((i as { keys?: string[] }).keys ?? ''),
    problem: i.message,
  }));
}

/** The proxy handler of the analytics API around a query port. */
export function createAnalyticsHandler(
  deps: AnalyticsHandlerDeps,
): (event: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult> {
  const log = deps.log ?? (() => undefined);
  return async (event) => {
    const name = event.pathParameters?.dataset ?? '';
    const dataset = analyticsDataset(name);
    const sql = dataset ? ANALYTICS_SQL[dataset.name] : undefined;
    if (!dataset || sql === undefined) {
      return errorResult(404, 'unknown_dataset', `no analytics data set ${JSON.stringify(name)}`, {
        datasets: ANALYTICS_DATASET_NAMES,
      });
    }
    const multi = event.multiValueQueryStringParameters ?? {};
    const repeated = Object.entries(multi).filter(([, v]) => (v?.length ?? 0) > 1);
    if (repeated.length > 0) {
      return errorResult(400, 'bad_request', 'each query parameter may appear once', {
        parameters: repeated.map(([k]) => k),
      });
    }
    const parsed = AnalyticsQuerySchema.safeParse(event.queryStringParameters ?? {});
    if (!parsed.success) {
      return errorResult(400, 'bad_request', 'invalid query parameters', validationDetails(parsed.error));
    }
    const q = parsed.data;
    if (q.category !== undefined && !dataset.params.includes('category')) {
      return errorResult(400, 'bad_request', `data set ${dataset.name} has no category filter`, {
        parameter: 'category',
        accepted: dataset.params,
      });
    }
    const from = q.from ?? OPEN_RANGE.from;
    const to = q.to ?? OPEN_RANGE.to;
    if (from > to) {
      return errorResult(400, 'bad_request', `from (${from}) is after to (${to})`, { from, to });
    }
    const params: Record<string, string | null> = { from: monthStart(from), to: monthStart(to) };
    if (dataset.params.includes('category')) params.category = q.category ?? null;
    const key = paramsKey(dataset.name, params);

    let cursor: string | undefined;
    if (q.next_token !== undefined) {
      const token = decodeToken(q.next_token);
      if (!token || token.d !== dataset.name || token.p !== key) {
        return errorResult(
          400,
          'bad_next_token',
          'next_token does not belong to this data set and these parameters',
        );
      }
      cursor = token.c;
    }

    let page: QueryPage;
    try {
      page = await deps.port.page(sql, params, q.limit, cursor);
    } catch (error: unknown) {
      if (error instanceof AnalyticsTimeoutError) {
        log({ level: 'WARN', message: 'analytics query timed out', dataset: dataset.name });
        return errorResult(
          504,
          'query_timeout',
          `${error.message}; retry in ${RETRY_AFTER_SECONDS} s (a finished query's result is reused)`,
          {
            retry_after_seconds: RETRY_AFTER_SECONDS,
            ...(error.queryExecutionId ? { query_execution_id: error.queryExecutionId } : {}),
          },
          { 'retry-after': String(RETRY_AFTER_SECONDS) },
        );
      }
      if (error instanceof AnalyticsCursorError) {
        return errorResult(400, 'bad_next_token', error.message);
      }
      const message = error instanceof Error ? error.message : String(error);
      log({ level: 'ERROR', message: 'analytics query failed', dataset: dataset.name, error: message });
      return errorResult(503, 'query_failed', 'the analytics query failed; retry later');
    }

    const rows = page.rows.map((r) => typedRow(dataset, r));
    const nextToken =
      page.cursor === undefined ? undefined : encodeToken({ d: dataset.name, p: key, c: page.cursor });
    const headers: Record<string, string> = {
      'cache-control': `private, max-age=${RESPONSE_MAX_AGE_SECONDS}`,
      ...(nextToken ? { 'x-next-token': nextToken } : {}),
    };
    if (q.format === 'csv') {
      return {
        statusCode: 200,
        headers: {
          ...headers,
          'content-type': 'text/csv; charset=utf-8',
          'content-disposition': `inline; filename="${dataset.name}.csv"`,
        },
        body: toCsv(dataset.columns, rows),
      };
    }
    const body: AnalyticsResponse = {
      dataset: dataset.name,
      title: dataset.title,
      params: { from, to, category: q.category ?? null },
      columns: dataset.columns.map((c) => ({ ...c })),
      rows,
      ...(nextToken ? { next_token: nextToken } : {}),
    };
    return {
      statusCode: 200,
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    };
  };
}

function typedRow(
  dataset: AnalyticsDataset,
  row: Record<string, unknown>,
): Record<string, string | number | null> {
  const out: Record<string, string | number | null> = {};
  for (const c of dataset.columns) out[c.name] = typedCell(c.kind, row[c.name]);
  return out;
}
