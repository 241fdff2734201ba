/**
 * Demo stage 350: demand forecasting. The demo shop's clickstream spans a day or a few, far too
 * little history to forecast from, so this stage generates a demand history (the shop
 * generator's forecasting option: 20 products × 150 days with weekly seasonality, trend,
 * promotions, holidays, price effects and an intermittent tail) into a lake of its own under the
 * state dir (`<state>/forecast-demo/`), runs the ETL there, then trains and predicts with
 * `step-functions/forecast.asl.json` — the same runner and model step as `shoplake forecast
 * train` — and prints next week's forecasts beside the backtested error of seasonal naive.
 * The demo's main lake and its gold tables are untouched. Adds about 1–2 minutes.
 */
import { join } from 'node:path';
import { parseEvent, type ShopEvent } from '../../../lambdas/shared/event-schema.ts';
import type { BacktestRow } from '../../../lambdas/shared/forecast/registry.ts';
import { DuckdbEngine } from '../../engine/duckdb.ts';
import { generateDemandHistory } from '../../generator/demand.ts';
import { runLocalEtl } from '../../sfn/etl-runner.ts';
import {
  ForecastRunFailedError,
  type LocalForecastResult,
  runLocalForecast,
} from '../../sfn/forecast-runner.ts';
import { writeLandingFiles } from '../../sfn/landing.ts';
import type { DemoContext, DemoStage } from '../types.ts';

/** Size of the demo's demand history and the model settings sized for it. */
export const DEMO_FORECAST = {
  products: 20,
  days: 150,
  params: { trees: 40, origins: 4, train_days: 100, max_rows: 30_000, backtest_max_rows: 15_000 },
} as const;

export interface ForecastStageResult {
  readonly lake: string;
  readonly events: number;
  readonly run: LocalForecastResult;
  readonly next_week: {
    category: string;
    forecast_date: string;
    forecast: number;
    lower: number;
    upper: number;
  }[];
}

const DAY = 86_400_000;

export const stage: DemoStage = {
  name: 'forecast',
  order: 350,
  async run(ctx: DemoContext): Promise<ForecastStageResult> {
    const { runtime, report } = ctx;
    const lake = join(runtime.stateDir, 'forecast-demo', 'lake');
    const end = Math.floor(Date.now() / DAY) * DAY;
    const history = generateDemandHistory({
      seed: ctx.options.seed,
      products: DEMO_FORECAST.products,
      days: DEMO_FORECAST.days,
      end,
      topRate: 14,
    });
    const events: ShopEvent[] = [];
    for (const e of history.events) {
      const r = parseEvent(e, { now: () => end });
      if (r.ok) events.push(r.event);
    }
    report.progress(
      `forecast: ${events.length} purchase events over ${DEMO_FORECAST.days} days (${DEMO_FORECAST.products} products) → ${lake}`,
    );
    writeLandingFiles(lake, events, { part: 'part-demand-history.jsonl' });
    const engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
    try {
      const etl = await runLocalEtl({ engine, lakeDir: lake, input: { full: true } });
      if (etl.status !== 'SUCCEEDED')
        throw new Error(`forecast demo ETL ${etl.status}: ${etl.error?.cause ?? ''}`);
      report.progress(
        'forecast: step-functions/forecast.asl.json (export → backtest + gate → register → predict → load)',
      );
      const run = await runLocalForecast({
        runtime: { lakeDir: lake, clients: runtime.clients, names: runtime.names },
        engine,
        input: { mode: 'train', params: DEMO_FORECAST.params, seed: ctx.options.seed },
        onProgress: (m) => report.progress(m),
      }).catch((error: unknown) => {
        if (error instanceof ForecastRunFailedError) return error.result;
        throw error;
      });
      const nextWeek =
        run.status === 'SUCCEEDED'
          ? await engine.query<ForecastStageResult['next_week'][number]>(
              `SELECT item_id AS category, CAST(forecast_date AS varchar) AS forecast_date, round(forecast, 1) AS forecast,
                      round(lower, 1) AS lower, round(upper, 1) AS upper
               FROM gold.demand_forecast WHERE level = 'category' ORDER BY item_id, forecast_date`,
            )
          : [];
      return { lake, events: events.length, run, next_week: nextWeek };
    } finally {
      await engine.close();
    }
  },
  describe(result: unknown): string[] {
    const r = result as ForecastStageResult;
    const c = r.run.candidate;
    const lines = [`demand history: ${r.events} purchase events in ${r.lake}`];
    if (r.run.status !== 'SUCCEEDED') {
      lines.push(`forecast training ${r.run.status}: ${r.run.error?.error}: ${r.run.error?.cause}`);
      return lines;
    }
    const at = (m: string, h: number | 'all') =>
      c?.backtest.metrics.find((x: BacktestRow) => x.model === m && x.horizon === h);
    const pct = (x: number | null | undefined) =>
      x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)}%`;
    lines.push(
      `model ${c?.version}: backtest (${c?.backtest.origins.length} weekly origins) WAPE gbm ${pct(at('gbm', 'all')?.wape)} vs seasonal naive ${pct(at('seasonal_naive', 'all')?.wape)}` +
        ` (h=7: ${pct(at('gbm', 7)?.wape)} vs ${pct(at('seasonal_naive', 7)?.wape)}), 80 % interval coverage ${pct(at('gbm', 'all')?.coverage_80)}`,
      'next week per category (units, 80 % interval):',
    );
    const byCat = new Map<string, string[]>();
    for (const f of r.next_week) {
      const l = byCat.get(f.category) ?? [];
      l.push(`${f.forecast_date.slice(5)} ${f.forecast} [${f.lower}–${f.upper}]`);
      byCat.set(f.category, l);
    }
    for (const [cat, l] of byCat) lines.push(`  ${cat}: ${l.join('  ')}`);
    lines.push(
      'on your own lake: shoplake forecast train, then shoplake forecast [--product ID | --category C]',
    );
    return lines;
  },
};
