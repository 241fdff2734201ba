/**
 * What `shoplake serve` and `shoplake demo` add to the local API for analytics: the analytics
 * handler (the same `createAnalyticsHandler` the Lambda runs) over the local DuckDB engine, and
 * the pages beside the API — the web dashboard (`/dashboard`, its script and the ECharts build
 * from npm, so it works offline) and the OpenAPI document (`/openapi.json`).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAnalyticsHandler } from '../../lambdas/analytics/analytics.ts';
import { ANALYTICS_DATASETS, SHEETS } from '../../lambdas/shared/analytics/datasets.ts';
import { openApiDocument } from '../../lambdas/shared/openapi.ts';
import type { QueryEngine } from '../engine/types.ts';
import {
  type HandlerLoader,
  moduleHandlerLoader,
  type PageResponse,
  type PageServer,
  type ProxyHandler,
} from '../runtime/http-server.ts';
import { duckdbQueryPort } from './duckdb-port.ts';

const DASHBOARD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'dashboard');
const ECHARTS_FILE = createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js');

/** Path of the dashboard on the local server. */
export const DASHBOARD_PATH = '/dashboard';

/** The module loader with the analytics route served over the local engine. */
export function localHandlerLoader(
  engine: Pick<QueryEngine, 'query'>,
  base = moduleHandlerLoader(),
): HandlerLoader {
  const analytics = createAnalyticsHandler({
    port: duckdbQueryPort(engine),
    log: (entry) => process.stderr.write(`${JSON.stringify(entry)}\n`),
  });
  const proxy: ProxyHandler = (event) => analytics(event);
  return (module) => (module === 'analytics/handler.ts' ? Promise.resolve(proxy) : base(module));
}

const FILES: Record<string, { file: string; type: string }> = {
  [DASHBOARD_PATH]: { file: join(DASHBOARD_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  [`${DASHBOARD_PATH}/`]: { file: join(DASHBOARD_DIR, 'index.html'), type: 'text/html; charset=utf-8' },
  [`${DASHBOARD_PATH}/dashboard.js`]: {
    file: join(DASHBOARD_DIR, 'dashboard.js'),
    type: 'text/javascript; charset=utf-8',
  },
  [`${DASHBOARD_PATH}/dashboard.css`]: {
    file: join(DASHBOARD_DIR, 'dashboard.css'),
    type: 'text/css; charset=utf-8',
  },
  [`${DASHBOARD_PATH}/echarts.min.js`]: { file: ECHARTS_FILE, type: 'text/javascript; charset=utf-8' },
};

/** The dashboard files and `/openapi.json`. */
export function analyticsPages(): PageServer {
  const openapi = JSON.stringify(openApiDocument(), null, 2);
  const datasets = JSON.stringify({ sheets: SHEETS, datasets: ANALYTICS_DATASETS });
  return async (path): Promise<PageResponse | undefined> => {
    if (path === '/openapi.json') return { status: 200, contentType: 'application/json', body: openapi };
    if (path === `${DASHBOARD_PATH}/datasets.json`)
      return { status: 200, contentType: 'application/json', body: datasets };
    if (path === '/')
      return { status: 302, contentType: 'text/plain', body: '', headers: { location: DASHBOARD_PATH } };
    const f = FILES[path];
    if (!f) return undefined;
    return {
      status: 200,
      contentType: f.type,
      body: await readFile(f.file),
      headers: { 'cache-control': 'no-cache' },
    };
  };
}
