/**
 * `shoplake forecast`: demand forecasts per product and category (docs/forecasting.md).
 *
 * - `shoplake forecast [--product ID | --category C] [--horizon N] [--json]` — the latest
 *   forecasts in gold.demand_forecast of the active model, with its backtested error beside
 *   seasonal naive.
 * - `shoplake forecast train` — runs step-functions/forecast.asl.json with `mode: train`
 *   (backtest, gate, registry, activate, predict); `shoplake forecast predict` — `mode: predict`.
 * - `shoplake forecast backtest` — rolling-origin evaluation of every model, side by side.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Command, InvalidArgumentError } from 'commander';
import { athenaStatementOfFile } from '../../../lambdas/etl/definition.ts';
import { FORECAST_DEFAULTS } from '../../../lambdas/forecast/pipeline.ts';
import { athenaLiteral, parseAthenaLiteral } from '../../../lambdas/shared/catalog/sql.ts';
import type { BacktestRow, ForecastRegistryEntry } from '../../../lambdas/shared/forecast/registry.ts';
import type { DuckdbEngine } from '../../engine/duckdb.ts';
import { openLocalEngine } from '../../engine/open.ts';
import { withRuntime } from '../../runtime/session.ts';
import {
  ForecastRunFailedError,
  invokeModelStep,
  type LocalForecastResult,
  localForecastDeps,
  runLocalForecast,
} from '../../sfn/forecast-runner.ts';
import { fmt, reporter } from '../output.ts';

export const MAX_HORIZON = 7;

export class ForecastQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForecastQueryError';
  }
}

function horizonArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > MAX_HORIZON)
    throw new InvalidArgumentError(`--horizon must be an integer from 1 to ${MAX_HORIZON} (days ahead)`);
  return n;
}

function countryArg(value: string): string {
  if (!/^[A-Z]{2}$/.test(value))
    throw new InvalidArgumentError('--country must be an ISO 3166-1 alpha-2 code, e.g. DE');
  return value;
}

function seedArg(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('--seed must be a non-negative integer');
  return n;
}

const pct = (x: number | null | undefined) =>
  x === null || x === undefined ? '   —  ' : `${(x * 100).toFixed(1).padStart(5)}%`;
const dec = (x: number | null | undefined) =>
  x === null || x === undefined ? '  —  ' : x.toFixed(3).padStart(5);

/** The backtest table: one line per model and horizon (WAPE, MASE, RMSE, bias, 80 % coverage). */
export function renderBacktest(
  rows: readonly BacktestRow[],
  horizons: readonly (number | 'all')[] = [1, 7, 'all'],
): string[] {
  const lines = ['  model            h    WAPE    MASE    RMSE    bias   cover80  cat.WAPE   points'];
  for (const r of rows) {
    if (!horizons.includes(r.horizon)) continue;
    lines.push(
      `  ${r.model.padEnd(15)} ${String(r.horizon).padStart(3)}  ${pct(r.wape)}  ${dec(r.mase)}  ${dec(r.rmse)}  ${pct(r.bias)}  ${pct(r.coverage_80)}   ${pct(r.category_wape)}  ${fmt(r.points).padStart(7)}`,
    );
  }
  return lines;
}

/** Exports the model step's input with the definition's own SQL (what ExportHistory runs). */
async function exportHistory(
  engine: DuckdbEngine,
  lakeDir: string,
  historyDays: number,
  asOf: Date,
): Promise<string> {
  const from = new Date(asOf.getTime() - historyDays * 86_400_000).toISOString().slice(0, 10);
  const stmt = athenaStatementOfFile('forecast_history_export.sql', '').sql;
  const result = await engine.executePositional(stmt, [parseAthenaLiteral(athenaLiteral(from))]);
  const columns = result.columns.map((c) => c.name);
  const cell = (v: unknown) => (v === null || v === undefined ? '' : String(v));
  const lines = [columns.join(','), ...result.rows.map((r) => columns.map((c) => cell(r[c])).join(','))];
  const dir = join(lakeDir, 'athena-results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `local-backtest-${Date.now()}.csv`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return pathToFileURL(file).href;
}

export function describeForecastRun(r: LocalForecastResult): string[] {
  const lines = [
    `forecast ${r.run?.mode ?? ''} ${r.status.toLowerCase()} in ${fmt(r.elapsedMs / 1000, 1)} s`,
  ];
  const c = r.candidate;
  if (c) {
    lines.push(
      `  candidate ${c.version}: trained on data to ${c.last_date}; backtest origins ${c.backtest.origins[0]} … ${c.backtest.origins.at(-1)}`,
    );
    lines.push(...renderBacktest(c.backtest.metrics));
    const q = c.quality;
    lines.push(
      `  data: ${fmt(q.series ?? 0)} product series × ${fmt(q.days ?? 0)} days; ${fmt(q.gap_days ?? 0)} gap days (no data, not zero), ${fmt(q.capped_outliers ?? 0)} outliers capped, ${fmt(q.negative_net_days ?? 0)} negative net days`,
    );
    lines.push(
      `  quality gate: ${c.gate.passed ? `passed (${c.gate.summary ?? ''})` : `refused — ${c.gate.reasons.join('; ')}`}`,
    );
  }
  if (r.loaded)
    lines.push(
      `  gold.demand_forecast: ${fmt(r.loaded.rows)} rows (origin ${String(r.prediction?.origin_date ?? '')})`,
    );
  if (r.error && !(c && !c.gate.passed)) lines.push(`  error: ${r.error.error}: ${r.error.cause}`);
  return lines;
}

interface ForecastRowOut {
  level: string;
  item_id: string;
  category: string;
  origin_date: string;
  forecast_date: string;
  horizon: number;
  model: string;
  forecast: number;
  lower: number;
  upper: number;
  flags: string | null;
}

/** The active model's latest forecasts, filtered; unknown product/category → a clear error. */
export async function readForecasts(
  engine: DuckdbEngine,
  version: string,
  filter: { product?: string; category?: string; horizon: number },
): Promise<ForecastRowOut[]> {
  const level = filter.product ? 'product' : 'category';
  const item = filter.product ?? filter.category;
  const rows = await engine.query<ForecastRowOut>(
    `SELECT level, item_id, category, CAST(origin_date AS varchar) AS origin_date, CAST(forecast_date AS varchar) AS forecast_date,
            horizon, model, forecast, lower, upper, flags
     FROM gold.demand_forecast
     WHERE model_version = :version AND horizon <= :horizon
       AND origin_date = (SELECT max(origin_date) FROM gold.demand_forecast WHERE model_version = :version)
       AND level = :level AND (CAST(:item AS varchar) IS NULL OR item_id = CAST(:item AS varchar))
     ORDER BY item_id, horizon`,
    { version, horizon: filter.horizon, level, item: item ?? null },
  );
  if (item !== undefined && rows.length === 0) {
    const [known] = await engine.query<{ n: number }>(
      'SELECT count(*) AS n FROM gold.demand_daily WHERE level = :level AND item_id = :item',
      { level, item },
    );
    throw new ForecastQueryError(
      (known?.n ?? 0) > 0
        ? `${level} ${JSON.stringify(item)} has history but no forecast from model ${version} (run shoplake forecast predict)`
        : `unknown ${level} ${JSON.stringify(item)}: it has no sales in gold.demand_daily`,
    );
  }
  return rows;
}

export function register(program: Command): void {
  const forecast = program
    .command('forecast')
    .description(
      'demand forecasts per product and category (next 1..7 days, 80 % intervals) and their backtested error',
    )
    .option('--product <id>', 'one product')
    .option('--category <name>', 'one category (without --product/--category: every category)')
    .option('--horizon <days>', `days ahead, 1..${MAX_HORIZON}`, horizonArg, MAX_HORIZON)
    .option('--json', 'print as JSON on stdout')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{
        product?: string;
        category?: string;
        horizon: number;
        json?: boolean;
        stateDir: string;
      }>();
      if (opts.product && opts.category)
        throw new InvalidArgumentError('give --product or --category, not both');
      const report = reporter({ json: opts.json, quiet: true });
      await withRuntime(
        { stateDir: opts.stateDir, report, firehose: false, consumer: false },
        async ({ runtime }) => {
          const engine = await openLocalEngine(runtime.stateDir);
          try {
            const deps = localForecastDeps(runtime, engine);
            const pointer = await deps.registry.active();
            if (!pointer)
              throw new ForecastQueryError(
                'no active forecast model: run `shoplake forecast train` (or `shoplake demo`) first',
              );
            const entry = (await deps.registry.get(pointer.version)) as ForecastRegistryEntry;
            const rows = await readForecasts(engine, pointer.version, {
              horizon: opts.horizon,
              ...(opts.product ? { product: opts.product } : {}),
              ...(opts.category ? { category: opts.category } : {}),
            });
            const backtest = entry.backtest.metrics.filter(
              (m) => m.model === 'gbm' || m.model === 'seasonal_naive',
            );
            report.result({ model_version: pointer.version, forecasts: rows, backtest }, () => {
              const lines = [`forecasts of model ${pointer.version} (origin ${rows[0]?.origin_date ?? '—'})`];
              lines.push('  item                     date        h   forecast   80 % interval     model');
              for (const r of rows) {
                const interval = `[${r.lower.toFixed(1)}, ${r.upper.toFixed(1)}]`;
                const flags = r.flags ? ` (${r.flags})` : '';
                lines.push(
                  `  ${r.item_id.slice(0, 24).padEnd(24)} ${r.forecast_date}  ${r.horizon}  ${r.forecast.toFixed(1).padStart(8)}   ${interval.padEnd(16)} ${r.model}${flags}`,
                );
              }
              lines.push(
                'backtest (rolling origin) of this model vs seasonal naive:',
                ...renderBacktest(backtest),
              );
              return lines.join('\n');
            });
          } finally {
            await engine.close();
          }
        },
      );
    });

  for (const mode of ['train', 'predict'] as const) {
    forecast
      .command(mode)
      .description(
        mode === 'train'
          ? 'backtest, gate, register and activate a new forecast model, then predict (runs forecast.asl.json locally)'
          : 'forecast the next 7 days with the active model into gold.demand_forecast (runs forecast.asl.json locally)',
      )
      .option(
        '--country <code>',
        'shop country for the holiday calendar',
        countryArg,
        FORECAST_DEFAULTS.country,
      )
      .option('--seed <n>', 'model seed', seedArg, FORECAST_DEFAULTS.seed)
      .option('--json', 'print the result as JSON on stdout')
      .option('--quiet', 'no progress on stderr')
      .action(async (_opts: unknown, cmd: Command) => {
        const opts = cmd.optsWithGlobals<{
          country: string;
          seed: number;
          json?: boolean;
          quiet?: boolean;
          stateDir: string;
        }>();
        const report = reporter({ json: opts.json, quiet: opts.quiet });
        await withRuntime(
          { stateDir: opts.stateDir, report, firehose: false, consumer: false },
          async ({ runtime }) => {
            const engine = await openLocalEngine(runtime.stateDir);
            try {
              report.progress(`running step-functions/forecast.asl.json locally (mode ${mode})`);
              const result = await runLocalForecast({
                runtime,
                engine,
                input: { mode, country: opts.country, params: { seed: opts.seed } },
                onProgress: (m) => report.progress(m),
              }).catch((error: unknown) => {
                if (error instanceof ForecastRunFailedError)
                  report.result(error.result, () => describeForecastRun(error.result).join('\n'));
                throw error;
              });
              report.result(result, () => describeForecastRun(result).join('\n'));
            } finally {
              await engine.close();
            }
          },
        );
      });
  }

  forecast
    .command('backtest')
    .description(
      'rolling-origin backtest (weekly origins) of seasonal naive, moving average, ridge and LightGBM: WAPE, MASE, bias, 80 % coverage per horizon',
    )
    .option('--origins <n>', 'weekly origins', seedArg, 8)
    .option('--seed <n>', 'model seed (same seed and data → same figures)', seedArg, FORECAST_DEFAULTS.seed)
    .option(
      '--country <code>',
      'shop country for the holiday calendar',
      countryArg,
      FORECAST_DEFAULTS.country,
    )
    .option('--json', 'print as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{
        origins: number;
        seed: number;
        country: string;
        json?: boolean;
        quiet?: boolean;
        stateDir: string;
      }>();
      const report = reporter({ json: opts.json, quiet: opts.quiet });
      await withRuntime(
        { stateDir: opts.stateDir, report, firehose: false, consumer: false },
        async ({ runtime }) => {
          const engine = await openLocalEngine(runtime.stateDir);
          try {
            const historyUri = await exportHistory(
              engine,
              runtime.lakeDir,
              FORECAST_DEFAULTS.trainHistoryDays,
              new Date(),
            );
            report.progress('backtesting (lambdas/forecast/py) …');
            const out = (await invokeModelStep({
              mode: 'backtest',
              historyUri,
              params: { seed: opts.seed, origins: opts.origins, country: opts.country },
            })) as { metrics: BacktestRow[]; origins: string[]; gate: { summary: string }; seconds: number };
            report.result(out, () =>
              [
                `backtest: ${out.origins.length} weekly origins ${out.origins[0]} … ${out.origins.at(-1)} (${fmt(out.seconds, 1)} s)`,
                ...renderBacktest(out.metrics, [1, 2, 3, 4, 5, 6, 7, 'all']),
                `  ${out.gate.summary}`,
              ].join('\n'),
            );
          } finally {
            await engine.close();
          }
        },
      );
    });
}
