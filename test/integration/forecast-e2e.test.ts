/**
 * Demand forecasting end to end on the local runtime: generated demand history → ingest API →
 * Kinesis → consumer → landing → ETL (gold.demand_daily/features) → forecast.asl.json with
 * `mode: train` (Python model step from .venv-forecast: backtest, gate, registry, activate,
 * predict, load) → gold.demand_forecast; then the forecast week's actuals arrive, the ETL runs
 * again and gold.demand_vs_actual holds every forecast beside what was sold.
 *
 * Needs the model step's Python environment (`bash scripts/setup-forecast.sh`, run by .ci/run);
 * without it the first test fails with that instruction.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadForecasts, registerCandidate } from '../../lambdas/forecast/pipeline.ts';
import { ForecastModelNotFoundError } from '../../lambdas/shared/forecast/registry.ts';
import type { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { openLocalEngine } from '../../local/engine/open.ts';
import { generateDemandHistory } from '../../local/generator/demand.ts';
import type { GeneratedEvent } from '../../local/generator/shop.ts';
import { localIngest } from '../../local/runtime/handlers.ts';
import { sendThroughIngest } from '../../local/runtime/replay.ts';
import { type EmbeddedRuntime, startLocalRuntime } from '../../local/runtime/runtime.ts';
import { runLocalEtl } from '../../local/sfn/etl-runner.ts';
import {
  ForecastRunFailedError,
  forecastPython,
  type LocalForecastResult,
  localForecastDeps,
  runLocalForecast,
} from '../../local/sfn/forecast-runner.ts';
import { deleteExternalResources, testNamePrefix } from './helpers/external.ts';

const namePrefix = testNamePrefix('forecast', 'forecaste2e');
const DAY = 86_400_000;
const END = Math.floor(Date.now() / DAY) * DAY; // today, midnight UTC: the history ends yesterday
const DAYS = 160;
const GAP = new Date(END - 40 * DAY).toISOString().slice(0, 10);
/** Small, fast model settings for the test (the defaults are for 1,000 products). */
const PARAMS = { trees: 40, origins: 4, train_days: 100, max_rows: 30_000, backtest_max_rows: 15_000 };

let dir: string;
let runtime: EmbeddedRuntime;
let engine: DuckdbEngine;
let history: GeneratedEvent[];
let actualsFrom: number;
let trained: LocalForecastResult;

async function ingest(events: Iterable<GeneratedEvent>): Promise<void> {
  const tally = await sendThroughIngest(events, { ingest: localIngest(runtime.env) });
  expect(tally.rejected).toBe(0);
  await runtime.drain({ timeoutMs: 400_000 });
}

beforeAll(async () => {
  if (!existsSync(forecastPython()))
    throw new Error(
      `forecast Python environment missing (${forecastPython()}): run bash scripts/setup-forecast.sh`,
    );
  dir = mkdtempSync(join(tmpdir(), 'forecast-e2e-'));
  runtime = await startLocalRuntime({ stateDir: join(dir, 'state'), persist: false, namePrefix });
  history = generateDemandHistory({
    seed: 3,
    products: 24,
    days: DAYS,
    end: END,
    topRate: 14,
    gapDays: [GAP],
  }).events;
  // Everything but the last 7 days now; those arrive later as the forecast week's actuals.
  actualsFrom = END - 7 * DAY;
  await ingest(history.filter((e) => Date.parse(e.event_time) < actualsFrom));
  engine = await openLocalEngine(runtime.stateDir);
  const etl = await runLocalEtl({ engine, lakeDir: runtime.lakeDir, input: { full: true } });
  expect(etl.status).toBe('SUCCEEDED');
}, 1_200_000);

afterAll(async () => {
  await engine?.close();
  await runtime?.stop();
  await deleteExternalResources(namePrefix);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('demand forecasting on the local runtime (forecast.asl.json)', () => {
  it('predicting before any training fails with a clear error', async () => {
    const run = runLocalForecast({ runtime, engine, input: { mode: 'predict' } });
    await expect(run).rejects.toBeInstanceOf(ForecastRunFailedError);
    await expect(run).rejects.toThrow(/no active demand-forecast model/);
  });

  it('trains (backtest beats seasonal naive → published, active), predicts and loads gold.demand_forecast', async () => {
    trained = await runLocalForecast({ runtime, engine, input: { mode: 'train', params: PARAMS } });
    expect(trained.status).toBe('SUCCEEDED');
    const c = trained.candidate;
    expect(c?.gate.passed).toBe(true);
    expect(c?.backtest.origins).toHaveLength(4);
    // The gap day was detected and reported, not read as zero sales.
    expect(c?.quality.gap_days).toBe(1);
    const models = new Set(c?.backtest.metrics.map((m) => m.model));
    expect([...models].sort()).toEqual(['gbm', 'moving_average', 'ridge', 'seasonal_naive']);
    const deps = localForecastDeps(runtime, engine);
    const entry = await deps.registry.get(c?.version ?? '');
    expect(entry).toMatchObject({ kind: 'demand-forecast', status: 'active' });
    expect((await deps.registry.active())?.version).toBe(c?.version);

    const lastDay = new Date(actualsFrom - DAY).toISOString().slice(0, 10);
    const rows = await engine.query<{
      level: string;
      n: number;
      origin: string;
      first: string;
      last: string;
    }>(
      `SELECT level, count(*) AS n, CAST(min(origin_date) AS varchar) AS origin, CAST(min(forecast_date) AS varchar) AS first,
              CAST(max(forecast_date) AS varchar) AS last
       FROM gold.demand_forecast GROUP BY level ORDER BY level`,
    );
    const [products] = await engine.query<{ p: number; c: number }>(
      "SELECT count(DISTINCT CASE WHEN level = 'product' THEN item_id END) AS p, count(DISTINCT CASE WHEN level = 'category' THEN item_id END) AS c FROM gold.demand_daily",
    );
    expect(rows).toEqual([
      {
        level: 'category',
        n: (products?.c ?? 0) * 7,
        origin: lastDay,
        first: new Date(actualsFrom).toISOString().slice(0, 10),
        last: new Date(END - DAY).toISOString().slice(0, 10),
      },
      {
        level: 'product',
        n: (products?.p ?? 0) * 7,
        origin: lastDay,
        first: new Date(actualsFrom).toISOString().slice(0, 10),
        last: new Date(END - DAY).toISOString().slice(0, 10),
      },
    ]);
    const [bad] = await engine.query<{ n: number }>(
      'SELECT count(*) AS n FROM gold.demand_forecast WHERE NOT (lower <= forecast AND forecast <= upper AND lower >= 0)',
    );
    expect(bad?.n).toBe(0);
  }, 600_000);

  it('loading the same forecasts again replaces them (no duplicates)', async () => {
    const uri = String(trained.prediction?.forecastsUri);
    const before = await engine.query<{ n: number }>('SELECT count(*) AS n FROM gold.demand_forecast');
    await loadForecasts({ forecastsUri: uri }, localForecastDeps(runtime, engine));
    const after = await engine.query<{ n: number }>('SELECT count(*) AS n FROM gold.demand_forecast');
    expect(after).toEqual(before);
  });

  it('fills gold.demand_vs_actual once the forecast week’s actuals arrive and the ETL runs', async () => {
    const [empty] = await engine.query<{ n: number }>('SELECT count(*) AS n FROM gold.demand_vs_actual');
    expect(empty?.n).toBe(0);
    await ingest(history.filter((e) => Date.parse(e.event_time) >= actualsFrom));
    // The forecast week is older than the ETL's default lookback: process its 7 days.
    const etl = await runLocalEtl({ engine, lakeDir: runtime.lakeDir, input: { lookbackDays: 8 } });
    expect(etl.status).toBe('SUCCEEDED');
    const [counts] = await engine.query<{ f: number; v: number; mismatched: number }>(
      `SELECT (SELECT count(*) FROM gold.demand_forecast) AS f, (SELECT count(*) FROM gold.demand_vs_actual) AS v,
              (SELECT count(*) FROM gold.demand_vs_actual v JOIN gold.demand_daily d
                 ON d.level = v.level AND d.item_id = v.item_id AND d.demand_date = v.forecast_date
               WHERE d.units <> v.actual OR abs(v.abs_error - abs(v.forecast - d.units)) > 1e-9) AS mismatched`,
    );
    const byDay = await engine.query(
      `SELECT CAST(f.forecast_date AS varchar) AS d, count(*) AS f, count(v.item_id) AS v, count(a.item_id) AS a
       FROM gold.demand_forecast f
       LEFT JOIN gold.demand_vs_actual v ON v.level = f.level AND v.item_id = f.item_id AND v.forecast_date = f.forecast_date AND v.horizon = f.horizon
       LEFT JOIN gold.demand_daily a ON a.level = f.level AND a.item_id = f.item_id AND a.demand_date = f.forecast_date
       GROUP BY 1 ORDER BY 1`,
    );
    expect(counts?.v, JSON.stringify(byDay)).toBe(counts?.f);
    expect(counts?.mismatched).toBe(0);
  }, 600_000);

  it('a candidate that loses to seasonal naive is registered as rejected and cannot be activated', async () => {
    const deps = localForecastDeps(runtime, engine);
    const active = (await deps.registry.active())?.version;
    const losing = {
      ...trained.candidate,
      version: 'v-losing',
      gate: { passed: false, reasons: ['does not beat seasonal naive: gbm WAPE 0.9 vs seasonal naive 0.8'] },
    };
    const entry = await registerCandidate(losing, deps);
    expect(entry.status).toBe('rejected');
    await expect(deps.registry.activate('v-losing', new Date())).rejects.toThrow(
      /rejected by the quality gate/,
    );
    await expect(deps.registry.activate('v-nope', new Date())).rejects.toBeInstanceOf(
      ForecastModelNotFoundError,
    );
    expect((await deps.registry.active())?.version).toBe(active);
  });
});
