/**
 * The pages `shoplake serve` adds beside the API: the dashboard (its files and the ECharts build
 * from npm, no CDN), the data-set list it renders from, and `/openapi.json` (the committed
 * document); API routes still answer with the one error body.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ANALYTICS_DATASETS } from '../../lambdas/shared/analytics/datasets.ts';
import { analyticsPages } from '../../local/analytics/local-server.ts';
import { REPO_ROOT } from '../../local/engine/sql-files.ts';
import { type LocalHttpServer, startHttpServer } from '../../local/runtime/http-server.ts';

describe('local server pages', () => {
  let server: LocalHttpServer;

  beforeAll(async () => {
    server = await startHttpServer({ pages: analyticsPages(), loadHandler: async () => undefined });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('serves the dashboard with local scripts only (works offline)', async () => {
    const res = await fetch(`${server.url}/dashboard`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    const html = await res.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(sources.filter((s) => /^(https?:)?\/\//.test(s))).toEqual([]);
    for (const s of sources.filter((x) => x.startsWith('/dashboard/'))) {
      const r = await fetch(`${server.url}${s}`);
      expect(r.status, s).toBe(200);
      expect((await r.arrayBuffer()).byteLength, s).toBeGreaterThan(100);
    }
    const echarts = await (await fetch(`${server.url}/dashboard/echarts.min.js`)).text();
    expect(echarts).toContain('echarts');
  });

  it('serves the data-set list and the committed OpenAPI document', async () => {
    const meta = (await (await fetch(`${server.url}/dashboard/datasets.json`)).json()) as {
      datasets: { name: string }[];
    };
    expect(meta.datasets.map((d) => d.name)).toEqual(ANALYTICS_DATASETS.map((d) => d.name));
    const served = await (await fetch(`${server.url}/openapi.json`)).json();
    expect(served).toEqual(JSON.parse(readFileSync(join(REPO_ROOT, 'docs/openapi.json'), 'utf8')));
  });

  it('unknown paths and missing handlers answer with the one error body', async () => {
    const res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({ error: 'not_found', message: 'no route for GET /nope' });
    const missing = await fetch(`${server.url}/analytics/monthly_kpis`);
    expect(missing.status).toBe(501);
    expect(((await missing.json()) as { error: string }).error).toBe('not_implemented');
  });
});
