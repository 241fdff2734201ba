/**
 * Every dashboard data-set query runs on DuckDB (the local engine, real Iceberg tables) against a
 * gold fixture with known figures: the columns match the data-set list, and the figures are the
 * ones the fixture implies. The committed SQL module for the Lambda equals the files.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYTICS_DATASETS, analyticsDataset } from '../../lambdas/shared/analytics/datasets.ts';
import { ANALYTICS_SQL } from '../../lambdas/shared/analytics/sql.generated.ts';
import { API_ROUTES } from '../../lambdas/shared/api-routes.ts';
import { openApiDocument } from '../../lambdas/shared/openapi.ts';
import { OPENAPI_PATH, renderOpenApiFile } from '../../local/analytics/sql-module.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { SQL_DIR } from '../../local/engine/sql-files.ts';
import { loadGoldFixture } from '../fixtures/gold.ts';

type Row = Record<string, unknown>;

describe('dashboard data-set queries on DuckDB', () => {
  let dir: string;
  let engine: DuckdbEngine;
  const run = async (name: string, params: Record<string, string | null>): Promise<Row[]> => {
    const d = analyticsDataset(name);
    if (!d) throw new Error(`no data set ${name}`);
    const full = d.params.includes('category') ? { category: null, ...params } : params;
    return (await engine.execute(`athena/${d.file}`, { params: full })).rows as Row[];
  };
  const all = { from: '2026-01-01', to: '2026-03-01' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplake-analytics-'));
    engine = await DuckdbEngine.open({ warehouseDir: join(dir, 'warehouse') });
    await loadGoldFixture(engine);
  });

  afterAll(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(ANALYTICS_DATASETS.map((d) => [d.name, d] as const))(
    '%s returns exactly the columns of the data-set list',
    async (_name, d) => {
      const params: Record<string, string | null> = { ...all };
      if (d.params.includes('category')) params.category = null;
      const r = await engine.execute(`athena/${d.file}`, { params });
      expect(r.columns.map((c) => c.name)).toEqual(d.columns.map((c) => c.name));
      expect(r.rows.length).toBeGreaterThan(0);
    },
  );

  it('monthly_kpis: one row per month of the range, repeat rate joined, money rounded to cents', async () => {
    const rows = await run('monthly_kpis', { from: '2026-02-01', to: '2026-03-01' });
    expect(rows.map((r) => r.month)).toEqual(['2026-02-01', '2026-03-01']);
    expect(rows[0]).toMatchObject({ revenue: 1500.5, avg_order_value: 100.03, repeat_rate: 0.5, orders: 15 });
  });

  it('conversion_funnel: daily rows summed per month, rates recomputed from the sums', async () => {
    const rows = await run('conversion_funnel', all);
    expect(rows[0]).toMatchObject({
      month: '2026-01-01',
      sessions: 100,
      viewed: 80,
      carted: 30,
      purchased: 10,
    });
    expect(rows[0]?.view_to_cart).toBeCloseTo(30 / 80, 4);
    expect(rows[0]?.session_conversion).toBeCloseTo(0.1, 4);
  });

  it('category_revenue: per month (not summed across months), category filter bound as a parameter', async () => {
    const rows = await run('category_revenue', { ...all, category: 'Board, "Games"' });
    expect(rows.map((r) => [r.month, r.revenue, r.mom_growth])).toEqual([
      ['2026-01-01', 400, null],
      ['2026-02-01', 600.5, 0.5013],
    ]);
    // A value that would break concatenated SQL is just a category that matches nothing.
    expect(await run('category_revenue', { ...all, category: "x' OR '1'='1" })).toEqual([]);
  });

  it('top_products: ranked by revenue over the range of the monthly lists', async () => {
    const rows = await run('top_products', all);
    expect(rows.map((r) => [r.rank, r.product_id, r.revenue, r.months_in_top])).toEqual([
      [1, 'P2', 650, 2],
      [2, 'P1', 400, 2],
    ]);
  });

  it('top_customers: only customers who ordered in the range, by lifetime value', async () => {
    const rows = await run('top_customers', { from: '2026-01-01', to: '2026-01-01' });
    expect(rows.map((r) => r.customer_id)).toEqual(['C1']);
    expect((await run('top_customers', all)).map((r) => r.customer_id)).toEqual(['C2', 'C1']);
  });

  it('review_ratings: average weighted by reviews, distribution summed', async () => {
    const rows = await run('review_ratings', all);
    expect(rows).toEqual([
      expect.objectContaining({ month: '2026-01-01', reviews: 4, avg_rating: 3.5, rating_1: 1, rating_5: 2 }),
    ]);
  });

  it('campaign_attribution: campaigns summed over the range, conversion recomputed', async () => {
    const rows = await run('campaign_attribution', all);
    expect(rows[0]).toMatchObject({
      utm_source: 'newsletter',
      sessions: 100,
      revenue: 1000,
      conversion_rate: 0.1,
    });
  });

  it('rec_impression_ctr: impressions and clicks summed per month, version and position, CTR recomputed', async () => {
    const rows = await run('rec_impression_ctr', all);
    expect(rows).toEqual([
      { month: '2026-01-01', model_version: 'v1', position: 1, impressions: 200, clicks: 20, ctr: 0.1 },
      { month: '2026-01-01', model_version: 'v1', position: 2, impressions: 100, clicks: 5, ctr: 0.05 },
    ]);
  });

  it('rec_ab_test: one row per arm of the tests with impressions in the range', async () => {
    const rows = await run('rec_ab_test', { from: '2026-02-01', to: '2026-02-01' });
    expect(rows.map((r) => [r.experiment, r.arm, r.impressions, r.ctr, r.ctr_p_value])).toEqual([
      ['exp-1', 'A', 100, 0.1, null],
      ['exp-1', 'B', 100, 0.2, 0.0477],
    ]);
    expect(await run('rec_ab_test', { from: '2026-03-01', to: '2026-03-01' })).toEqual([]);
  });

  it('rec_click_through: the day total of product views counted once over model versions', async () => {
    const rows = await run('rec_click_through', all);
    expect(rows[0]).toMatchObject({
      month: '2026-01-01',
      product_views: 200,
      rec_clicks: 40,
      click_through_share: 0.2,
    });
  });

  it('operations: daily health includes the last month whole; routes by worst p95; top items per kind', async () => {
    const health = await run('access_daily_health', all);
    expect(health.map((r) => [r.day, r.requests, r.latency_p95_ms, r.product_view_ratio])).toEqual([
      ['2026-01-10', 1000, 180, 1],
      ['2026-03-31', 500, 190, 0.95],
    ]);
    expect(await run('access_daily_health', { from: '2026-02-01', to: '2026-02-01' })).toEqual([]);
    const routes = await run('access_slowest_routes', all);
    expect(routes.map((r) => [r.route, r.latency_p95_ms, r.requests, r.days])).toEqual([
      ['/checkout/complete', 900, 40, 1],
      ['/search', 400, 160, 2],
    ]);
    expect(routes[0]?.rate_5xx).toBeCloseTo(0.05, 4);
    const items = await run('access_top_items', all);
    expect(items.map((r) => [r.kind, r.item, r.requests])).toEqual([
      ['path', '/', 500],
      ['referrer_host', 'www.google.com', 120],
    ]);
  });

  it('the Lambda SQL module equals the athena/ files (regenerate: npx tsx local/analytics/sql-module.ts)', () => {
    for (const d of ANALYTICS_DATASETS) {
      expect(ANALYTICS_SQL[d.name], d.name).toBe(readFileSync(join(SQL_DIR, d.file), 'utf8'));
    }
    expect(Object.keys(ANALYTICS_SQL).sort()).toEqual(ANALYTICS_DATASETS.map((d) => d.name).sort());
  });
});

describe('OpenAPI document', () => {
  it('docs/openapi.json is the generated document (regenerate: npx tsx local/analytics/sql-module.ts)', () => {
    expect(readFileSync(OPENAPI_PATH, 'utf8')).toBe(renderOpenApiFile());
  });

  it('has every route, every data set, and the one error body for errors', () => {
    const doc = openApiDocument() as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
      >;
      components: { schemas: Record<string, { properties?: Record<string, unknown> }> };
    };
    expect(doc.openapi).toBe('3.1.0');
    expect(
      Object.entries(doc.paths)
        .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`))
        .sort(),
    ).toEqual(API_ROUTES.map((r) => `${r.method} ${r.path}`).sort());
    const dataset = JSON.stringify(doc.paths['/analytics/{dataset}']);
    for (const d of ANALYTICS_DATASETS) expect(dataset).toContain(`"${d.name}"`);
    for (const ops of Object.values(doc.paths))
      for (const op of Object.values(ops))
        for (const [status, r] of Object.entries(op.responses))
          if (status === '431')
            // The HTTP front end refuses oversized headers before any handler: no body to promise.
            expect(r.content).toBeUndefined();
          else if (Number(status) >= 400)
            expect(r.content?.['application/json']?.schema).toEqual({ $ref: '#/components/schemas/Error' });
    expect(Object.keys(doc.components.schemas.Error?.properties ?? {})).toEqual([
      'error',
      'message',
      'details',
    ]);
  });
});
