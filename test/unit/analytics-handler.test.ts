/**
 * The analytics handler (`createAnalyticsHandler`): validation and clear 4xx, paging, CSV, on the
 * local DuckDB port over a gold fixture; and the Athena port with the real SDK client talking
 * HTTP to a stub Athena endpoint (execution parameters, result reuse, paging, 504 on timeout).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AthenaClient } from '@aws-sdk/client-athena';
import type { APIGatewayProxyResult } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsHandler, csvField, toCsv } from '../../lambdas/analytics/analytics.ts';
import { athenaQueryPort } from '../../lambdas/analytics/athena-port.ts';
import { AnalyticsResponseSchema } from '../../lambdas/shared/analytics/api-schema.ts';
import { ApiErrorSchema } from '../../lambdas/shared/api-errors.ts';
import { duckdbQueryPort } from '../../local/analytics/duckdb-port.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { getProxyEvent } from '../../local/runtime/http-server.ts';
import { loadGoldFixture } from '../fixtures/gold.ts';

const body = (r: APIGatewayProxyResult) => JSON.parse(r.body) as Record<string, unknown>;

describe('analytics handler on the local DuckDB port', () => {
  let dir: string;
  let engine: DuckdbEngine;
  let handle: ReturnType<typeof createAnalyticsHandler>;
  const get = (dataset: string, query: Record<string, string> = {}) =>
    handle(getProxyEvent(`/analytics/${dataset}`, query));

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplake-analytics-h-'));
    engine = await DuckdbEngine.open({ warehouseDir: join(dir, 'warehouse') });
    await loadGoldFixture(engine);
    handle = createAnalyticsHandler({ port: duckdbQueryPort(engine) });
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers a data set as JSON matching the response schema', async () => {
    const r = await get('monthly_kpis', { from: '2026-02', to: '2026-03' });
    expect(r.statusCode).toBe(200);
    const b = AnalyticsResponseSchema.parse(body(r));
    expect(b.params).toEqual({ from: '2026-02', to: '2026-03', category: null });
    expect(b.rows.map((x) => x.month)).toEqual(['2026-02-01', '2026-03-01']);
    expect(b.next_token).toBeUndefined();
  });

  it('404 with the list of data sets for an unknown data set', async () => {
    const r = await get('no_such_thing');
    expect(r.statusCode).toBe(404);
    const b = ApiErrorSchema.parse(body(r));
    expect(b.error).toBe('unknown_dataset');
    expect((b.details as { datasets: string[] }).datasets).toContain('monthly_kpis');
  });

  it.each([
    [{ from: '2026-13' }, 'from'],
    [{ to: '26-01' }, 'to'],
    [{ format: 'xml' }, 'format'],
    [{ limit: '0' }, 'limit'],
    [{ limit: '1001' }, 'limit'],
    [{ limti: '5' }, ''],
  ])('400 for bad parameters %j', async (query, parameter) => {
    const r = await get('monthly_kpis', query);
    expect(r.statusCode).toBe(400);
    const b = ApiErrorSchema.parse(body(r));
    expect(b.error).toBe('bad_request');
    if (parameter) expect(JSON.stringify(b.details)).toContain(parameter);
  });

  it('400 when from is after to, or a category is given to a data set without that filter', async () => {
    expect(body(await get('monthly_kpis', { from: '2026-03', to: '2026-01' }))).toMatchObject({
      error: 'bad_request',
      message: 'from (2026-03) is after to (2026-01)',
    });
    const r = await get('monthly_kpis', { category: 'Shoes' });
    expect(r.statusCode).toBe(400);
    expect(body(r)).toMatchObject({ details: { parameter: 'category' } });
  });

  it('pages with next_token until the last page, and refuses a token of other parameters', async () => {
    const seen: unknown[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await get('category_revenue', { limit: '2', ...(token ? { next_token: token } : {}) });
      expect(r.statusCode).toBe(200);
      const b = AnalyticsResponseSchema.parse(body(r));
      expect(b.rows.length).toBeLessThanOrEqual(2);
      expect(r.headers?.['x-next-token']).toBe(b.next_token);
      seen.push(...b.rows);
      token = b.next_token;
      pages += 1;
    } while (token && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(5);
    const first = AnalyticsResponseSchema.parse(body(await get('category_revenue', { limit: '2' })));
    const r = await get('category_revenue', {
      limit: '2',
      from: '2026-02',
      next_token: first.next_token ?? '',
    });
    expect(r.statusCode).toBe(400);
    expect(body(r).error).toBe('bad_next_token');
  });

  it('CSV: header row, RFC 4180 quoting of commas and quotes, CRLF lines', async () => {
    const r = await get('category_revenue', { format: 'csv', from: '2026-01', to: '2026-01' });
    expect(r.statusCode).toBe(200);
    expect(r.headers?.['content-type']).toBe('text/csv; charset=utf-8');
    expect(r.body).toBe(
      'month,category,revenue,units,orders,prev_month_revenue,mom_growth\r\n' +
        '2026-01-01,Shoes,600,15,6,,\r\n' +
        '2026-01-01,"Board, ""Games""",400,10,4,,\r\n',
    );
  });

  it('csvField quotes line breaks too; toCsv keeps column order', () => {
    expect(csvField('a\nb')).toBe('"a\nb"');
    expect(csvField('plain')).toBe('plain');
    expect(csvField(null)).toBe('');
    expect(toCsv([{ name: 'b' }, { name: 'a' }], [{ a: 1, b: 'x"y' }])).toBe('b,a\r\n"x""y",1\r\n');
  });
});

// ---------------------------------------------------------------------------------------------
// Athena port: the real SDK client against an HTTP stub of the Athena JSON API
// ---------------------------------------------------------------------------------------------

interface AthenaCall {
  readonly target: string;
  readonly input: Record<string, unknown>;
}

interface StubOptions {
  /** GetQueryExecution states answered in turn (the last one repeats). */
  readonly states: string[];
  /** Data rows of the result (the header row is added on the first page). */
  readonly rows: string[][];
  readonly columns: string[];
}

async function startAthenaStub(
  o: StubOptions,
): Promise<{ url: string; calls: AthenaCall[]; server: Server }> {
  const calls: AthenaCall[] = [];
  let poll = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').replace('AmazonAthena.', '');
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
      calls.push({ target, input });
      let out: unknown;
      if (target === 'StartQueryExecution') out = { QueryExecutionId: 'qe-1' };
      else if (target === 'GetQueryExecution') {
        const state = o.states[Math.min(poll, o.states.length - 1)];
        poll += 1;
        out = { QueryExecution: { QueryExecutionId: 'qe-1', Status: { State: state } } };
      } else if (target === 'GetQueryResults') {
        const all = [o.columns, ...o.rows];
        const start = typeof input.NextToken === 'string' ? Number(input.NextToken) : 0;
        const max = Number(input.MaxResults);
        const slice = all.slice(start, start + max);
        const next = start + max < all.length ? String(start + max) : undefined;
        out = {
          ResultSet: {
            ResultSetMetadata: { ColumnInfo: o.columns.map((n) => ({ Name: n, Type: 'varchar' })) },
            Rows: slice.map((r) => ({ Data: r.map((v) => (v === '' ? {} : { VarCharValue: v })) })),
          },
          ...(next ? { NextToken: next } : {}),
        };
      } else {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify({ __type: 'InvalidRequestException', Message: `unexpected ${target}` }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(out));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, calls, server };
}

describe('analytics handler on the Athena port (SDK stubbed at the HTTP layer)', () => {
  const servers: Server[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  });

  const handlerFor = async (o: StubOptions, timeoutMs = 5_000) => {
    const stub = await startAthenaStub(o);
    servers.push(stub.server);
    const client = new AthenaClient({
      endpoint: stub.url,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    let clock = 0;
    const port = athenaQueryPort({
      client,
      workgroup: 'shoplake-dev',
      databasePrefix: 'shoplake_',
      timeoutMs,
      sleep: async (ms) => {
        clock += ms;
      },
      now: () => clock,
    });
    return { handle: createAnalyticsHandler({ port }), calls: stub.calls };
  };

  const CATEGORY_COLUMNS = [
    'month',
    'category',
    'revenue',
    'units',
    'orders',
    'prev_month_revenue',
    'mom_growth',
  ];

  it('starts the query in the workgroup with bound execution parameters and result reuse', async () => {
    const { handle, calls } = await handlerFor({
      states: ['QUEUED', 'RUNNING', 'SUCCEEDED'],
      columns: CATEGORY_COLUMNS,
      rows: [['2026-01-01', "O'Reilly", '10.5', '2', '1', '', '']],
    });
    const r = await handle(
      getProxyEvent('/analytics/category_revenue', { from: '2026-01', to: '2026-02', category: "O'Reilly" }),
    );
    expect(r.statusCode).toBe(200);
    const b = AnalyticsResponseSchema.parse(body(r));
    expect(b.rows).toEqual([
      {
        month: '2026-01-01',
        category: "O'Reilly",
        revenue: 10.5,
        units: 2,
        orders: 1,
        prev_month_revenue: null,
        mom_growth: null,
      },
    ]);
    const start = calls.find((c) => c.target === 'StartQueryExecution')?.input ?? {};
    expect(start.WorkGroup).toBe('shoplake-dev');
    expect(start.ResultReuseConfiguration).toEqual({
      ResultReuseByAgeConfiguration: { Enabled: true, MaxAgeInMinutes: 60 },
    });
    expect(start.ExecutionParameters).toEqual(["'2026-01-01'", "'2026-02-01'", "'O''Reilly'", "'O''Reilly'"]);
    const sql = String(start.QueryString);
    expect(sql).toContain('FROM shoplake_gold.category_revenue');
    expect(sql).not.toContain('Reilly');
    expect(sql).toContain('BETWEEN CAST(? AS date) AND CAST(? AS date)');
    expect(calls.filter((c) => c.target === 'GetQueryExecution')).toHaveLength(3);
  });

  it('pages through GetQueryResults with the continuation token, without re-running the query', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => [
      `2026-0${i + 1}-01`,
      'Shoes',
      String(i),
      '1',
      '1',
      '',
      '',
    ]);
    const { handle, calls } = await handlerFor({ states: ['SUCCEEDED'], columns: CATEGORY_COLUMNS, rows });
    const months: unknown[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await handle(
        getProxyEvent('/analytics/category_revenue', { limit: '2', ...(token ? { next_token: token } : {}) }),
      );
      expect(r.statusCode).toBe(200);
      const b = AnalyticsResponseSchema.parse(body(r));
      months.push(...b.rows.map((x) => x.month));
      token = b.next_token;
      pages += 1;
    } while (token && pages < 10);
    expect(months).toEqual(rows.map((r) => r[0]));
    expect(pages).toBe(3);
    expect(calls.filter((c) => c.target === 'StartQueryExecution')).toHaveLength(1);
  });

  it('504 with Retry-After and the execution id when Athena is still running at the deadline', async () => {
    const { handle } = await handlerFor({ states: ['RUNNING'], columns: CATEGORY_COLUMNS, rows: [] }, 3_000);
    const r = await handle(getProxyEvent('/analytics/monthly_kpis'));
    expect(r.statusCode).toBe(504);
    expect(r.headers?.['retry-after']).toBe('5');
    expect(ApiErrorSchema.parse(body(r))).toMatchObject({
      error: 'query_timeout',
      details: { retry_after_seconds: 5, query_execution_id: 'qe-1' },
    });
  });

  it('503 with the error body when the query fails', async () => {
    const { handle } = await handlerFor({ states: ['FAILED'], columns: CATEGORY_COLUMNS, rows: [] });
    const r = await handle(getProxyEvent('/analytics/monthly_kpis'));
    expect(r.statusCode).toBe(503);
    expect(body(r)).toEqual({ error: 'query_failed', message: 'the analytics query failed; retry later' });
  });
});
