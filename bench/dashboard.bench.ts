/**
 * Dashboard and analytics API benchmark on a demo lake (`shoplake demo --events 6000 --days 120`,
 * or the lake in `SHOPLAKE_BENCH_STATE_DIR`), served by `shoplake serve`:
 * - analytics API latency p50/p99 per data set (sequential requests over the whole range, local
 *   DuckDB port) and payload sizes (JSON and CSV);
 * - dashboard first contentful paint and full render (every visual of the first sheet ready)
 *   in headless Chromium (Debian's, via playwright-core), median of several cold page loads.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { ANALYTICS_DATASETS } from '../lambdas/shared/analytics/datasets.ts';
import { buildDemoLake, serveLake } from '../test/integration/helpers/serve.ts';

const REQUESTS_PER_DATASET = 60;
const PAGE_LOADS = 7;

function percentile(sorted: number[], p: number): number {
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? Number.NaN;
}

export async function run(): Promise<object> {
  const given = process.env.SHOPLAKE_BENCH_STATE_DIR;
  const stateDir = given ?? mkdtempSync(join(tmpdir(), 'shoplake-bench-dash-'));
  try {
    if (!given) await buildDemoLake(stateDir, { events: 6_000, days: 120 });
    const served = await serveLake(stateDir);
    try {
      const result: Record<string, unknown> = { load_avg_1m: loadavg()[0] ?? 0 };
      const perDataset: Record<string, object> = {};
      for (const d of ANALYTICS_DATASETS) {
        const url = `${served.url}/analytics/${d.name}`;
        await fetch(url).then((r) => r.arrayBuffer()); // warm-up
        const times: number[] = [];
        let bytes = 0;
        let rows = 0;
        for (let i = 0; i < REQUESTS_PER_DATASET; i += 1) {
          const t0 = performance.now();
          const res = await fetch(url);
          const text = await res.text();
          times.push(performance.now() - t0);
          if (res.status !== 200) throw new Error(`${d.name}: HTTP ${res.status} ${text}`);
          bytes = Buffer.byteLength(text);
          rows = (JSON.parse(text) as { rows: unknown[] }).rows.length;
        }
        const csv = await (await fetch(`${url}?format=csv`)).text();
        times.sort((a, b) => a - b);
        const p50 = percentile(times, 50);
        const p99 = percentile(times, 99);
        perDataset[d.name] = {
          p50_ms: p50,
          p99_ms: p99,
          rows,
          json_bytes: bytes,
          csv_bytes: Buffer.byteLength(csv),
        };
        result[`${d.name}_p50_ms`] = p50;
        result[`${d.name}_p99_ms`] = p99;
        result[`${d.name}_json_bytes`] = bytes;
      }
      result.datasets = perDataset;

      if (!existsSync('/usr/bin/chromium'))
        throw new Error('/usr/bin/chromium missing: run scripts/setup-browser.sh');
      const browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
      try {
        const fcp: number[] = [];
        const full: number[] = [];
        let transferred = 0;
        for (let i = 0; i < PAGE_LOADS; i += 1) {
          const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
          const page = await context.newPage();
          let pageBytes = 0;
          page.on('response', (r) => {
            void r.body().then(
              (b) => {
                pageBytes += b.length;
              },
              () => undefined,
            );
          });
          await page.goto(`${served.url}/dashboard`);
          await page.waitForSelector('#sheet[data-state=ready]', { state: 'attached', timeout: 60_000 });
          const t = await page.evaluate(() => ({
            ready: performance.now(),
            fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
          }));
          fcp.push(t.fcp);
          full.push(t.ready);
          await page.waitForTimeout(200);
          transferred = pageBytes;
          await context.close();
        }
        fcp.sort((a, b) => a - b);
        full.sort((a, b) => a - b);
        result.dashboard_first_paint_ms_median = percentile(fcp, 50);
        result.dashboard_full_render_ms_median = percentile(full, 50);
        result.dashboard_full_render_ms_max = full[full.length - 1];
        result.dashboard_page_loads = PAGE_LOADS;
        result.dashboard_bytes_per_load = transferred;
      } finally {
        await browser.close();
      }
      return result;
    } finally {
      await served.stop();
    }
  } finally {
    if (!given) rmSync(stateDir, { recursive: true, force: true });
  }
}
