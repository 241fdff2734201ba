/**
 * Demand-forecasting benchmark (docs/forecasting.md): generated demand history (1,000 products ×
 * 540 days by default; FORECAST_BENCH_PRODUCTS / FORECAST_BENCH_DAYS override) → landing → ETL
 * (gold.demand_daily/features) → export → the model step's `train` (rolling-origin backtest of
 * every model + final fit, timed) → `predict` (timed); then the UCI sample the same way
 * (backtest only). Reports WAPE/MASE/coverage of gradient boosting vs seasonal naive at h = 1, 7.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { athenaStatementOfFile } from '../lambdas/etl/definition.ts';
import { parseEvent, type ShopEvent } from '../lambdas/shared/event-schema.ts';
import type { BacktestRow } from '../lambdas/shared/forecast/registry.ts';
import { DuckdbEngine } from '../local/engine/duckdb.ts';
import { demandOracle, generateDemandHistory } from '../local/generator/demand.ts';
import { mapOnlineRetail } from '../local/generator/online-retail.ts';
import { runLocalEtl } from '../local/sfn/etl-runner.ts';
import { invokeModelStep } from '../local/sfn/forecast-runner.ts';
import { writeLandingFiles } from '../local/sfn/landing.ts';

async function exportHistory(engine: DuckdbEngine, file: string): Promise<number> {
  const stmt = athenaStatementOfFile('forecast_history_export.sql', '').sql;
  const r = await engine.executePositional(stmt, ['2000-01-01']);
  const cols = r.columns.map((c) => c.name);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  writeFileSync(
    file,
    `${[cols.join(','), ...r.rows.map((x) => cols.map((c) => cell(x[c])).join(','))].join('\n')}\n`,
  );
  return r.rows.length;
}

const pick = (rows: BacktestRow[], model: string, h: number | 'all') =>
  rows.find((r) => r.model === model && r.horizon === h);

async function lakeFrom(events: ShopEvent[], dir: string) {
  writeLandingFiles(dir, events, { part: 'part-bench.jsonl' });
  const engine = await DuckdbEngine.open({ warehouseDir: join(dir, 'warehouse') });
  const t0 = performance.now();
  const etl = await runLocalEtl({ engine, lakeDir: dir, input: { full: true } });
  if (etl.status !== 'SUCCEEDED') throw new Error(`ETL ${etl.status}: ${etl.error?.cause}`);
  const etlS = (performance.now() - t0) / 1000;
  const file = join(dir, 'history.csv');
  const rows = await exportHistory(engine, file);
  await engine.close();
  return { etlS, rows, uri: pathToFileURL(file).href };
}

export async function run(): Promise<Record<string, unknown>> {
  const products = Number(process.env.FORECAST_BENCH_PRODUCTS ?? 1000);
  const days = Number(process.env.FORECAST_BENCH_DAYS ?? 540);
  const dir = mkdtempSync(join(tmpdir(), 'forecast-bench-'));
  try {
    const g = generateDemandHistory({ products, days, gapDays: ['2026-03-10', '2026-08-04'] });
    const now = Date.parse('2026-12-01T00:00:00Z');
    const events = g.events.flatMap((e) => {
      const r = parseEvent(e, { now: () => now });
      return r.ok ? [r.event] : [];
    });
    const gen = await lakeFrom(events, join(dir, 'gen'));
    const train = (await invokeModelStep({
      mode: 'train',
      version: 'bench',
      historyUri: gen.uri,
      artifactsUri: pathToFileURL(join(dir, 'art')).href,
      params: { seed: 42 },
    })) as {
      backtest: { metrics: BacktestRow[] };
      timings: Record<string, number>;
      quality: Record<string, number>;
      gate: { passed: boolean };
    };
    const t0 = performance.now();
    const pred = (await invokeModelStep({
      mode: 'predict',
      version: 'bench',
      modelUri: pathToFileURL(join(dir, 'art', 'bench', 'model.pkl')).href,
      historyUri: gen.uri,
      forecastsUri: pathToFileURL(join(dir, 'forecasts.json')).href,
    })) as { rows: number; predict_s: number };
    const predictWallS = (performance.now() - t0) / 1000;
    const m = train.backtest.metrics;
    const out: Record<string, unknown> = {
      products,
      days,
      events: events.length,
      etl_s: gen.etlS,
      feature_rows: gen.rows,
      train_final_fit_s: train.timings.train_s,
      backtest_s: train.timings.backtest_s,
      predict_s: pred.predict_s,
      predict_wall_s: predictWallS,
      forecast_rows: pred.rows,
      gate_passed: train.gate.passed,
    };
    for (const h of [1, 7, 'all'] as const) {
      const gb = pick(m, 'gbm', h);
      const sn = pick(m, 'seasonal_naive', h);
      out[`h${h}_wape_gbm`] = gb?.wape;
      out[`h${h}_wape_seasonal_naive`] = sn?.wape;
      out[`h${h}_wape_reduction`] = gb?.wape && sn?.wape ? 1 - gb.wape / sn.wape : null;
      out[`h${h}_mase_gbm`] = gb?.mase;
      out[`h${h}_mase_seasonal_naive`] = sn?.mase;
      out[`h${h}_bias_gbm`] = gb?.bias;
      out[`h${h}_rmse_gbm`] = gb?.rmse;
      out[`h${h}_rmse_seasonal_naive`] = sn?.rmse;
      out[`h${h}_rmse_ridge`] = pick(m, 'ridge', h)?.rmse;
      out[`h${h}_coverage80_gbm`] = gb?.coverage_80;
      out[`h${h}_wape_ridge`] = pick(m, 'ridge', h)?.wape;
      out[`h${h}_wape_moving_average`] = pick(m, 'moving_average', h)?.wape;
    }
    // What knowing the planted process would give over the same 56 target days (8 weekly
    // origins x 7): the floor for a mean forecast, and why WAPE favours the median.
    for (const [k, v] of Object.entries(demandOracle(g.expected, 56))) out[`oracle_${k}`] = v;
    out.quality = train.quality;
    out.metrics = m;

    // The generated figures first: a UCI failure must not lose them.
    process.stderr.write(`forecast bench (generated): ${JSON.stringify({ ...out, metrics: undefined })}\n`);
    try {
      // UCI sample: its 40,000 sampled lines over a year make daily product series very sparse.
      const uciCsv = [
        process.env.SHOPLAKE_UCI_CSV,
        fileURLToPath(new URL('../../shared/data/online_retail_sample.csv', import.meta.url)),
        '/work/shared/data/online_retail_sample.csv',
      ].find((f): f is string => typeof f === 'string' && existsSync(f));
      if (!uciCsv) throw new Error('UCI sample not found: set SHOPLAKE_UCI_CSV');
      const uci = mapOnlineRetail(readFileSync(uciCsv, 'utf8'));
      const uciEvents = uci.records.flatMap((r) => {
        const p = parseEvent(r.payload, { now: () => now });
        return p.ok ? [p.event] : [];
      });
      const u = await lakeFrom(uciEvents, join(dir, 'uci'));
      const ubt = (await invokeModelStep({
        mode: 'backtest',
        historyUri: u.uri,
        params: { seed: 42, country: 'GB' },
      })) as {
        metrics: BacktestRow[];
        horizons_without_actuals: { horizon: number; weekday: string }[];
        quality: Record<string, number>;
        seconds: number;
      };
      // Every horizon: with weekly origins one horizon always lands on the shop's closed weekday
      // (a gap, no actuals; listed in uci_horizons_without_actuals, its figures are null).
      for (const h of [1, 2, 3, 4, 5, 6, 7, 'all'] as const) {
        out[`uci_h${h}_points`] = pick(ubt.metrics, 'gbm', h)?.points;
        out[`uci_h${h}_wape_gbm`] = pick(ubt.metrics, 'gbm', h)?.wape;
        out[`uci_h${h}_wape_seasonal_naive`] = pick(ubt.metrics, 'seasonal_naive', h)?.wape;
        out[`uci_h${h}_wape_moving_average`] = pick(ubt.metrics, 'moving_average', h)?.wape;
        out[`uci_h${h}_wape_ridge`] = pick(ubt.metrics, 'ridge', h)?.wape;
        out[`uci_h${h}_mase_gbm`] = pick(ubt.metrics, 'gbm', h)?.mase;
        out[`uci_h${h}_coverage80_gbm`] = pick(ubt.metrics, 'gbm', h)?.coverage_80;
      }
      out.uci_horizons_without_actuals = ubt.horizons_without_actuals;
      out.uci_metrics = ubt.metrics;
      out.uci_quality = ubt.quality;
      out.uci_backtest_s = ubt.seconds;
    } catch (error: unknown) {
      out.uci_error = error instanceof Error ? error.message : String(error);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
