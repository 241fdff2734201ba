/**
 * The TypeScript tasks of `step-functions/forecast.asl.json` (the model step itself is Python:
 * `lambdas/forecast/py/shoplake_forecast`). Plain functions with their ports as parameters, so
 * the task Lambdas (`prepare.ts`, `register.ts`, `resolve.ts`, `load.ts`) and the local runner
 * (`local/sfn/forecast-runner.ts`) run the same code.
 */
import { athenaLiteral } from '../shared/catalog/sql.ts';
import {
  type BacktestRow,
  FORECAST_KIND,
  ForecastModelNotFoundError,
  type ForecastRegistry,
  type ForecastRegistryEntry,
} from '../shared/forecast/registry.ts';
import { newVersion } from '../shared/recommender/version.ts';
import { joinUri, type ObjectIo } from '../training/objects.ts';

export class ForecastInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ForecastInputError';
  }
}

/** Defaults of a forecast run; the stage config and the execution input override them. */
export const FORECAST_DEFAULTS = {
  /** Shop country for the holiday calendar (ISO 3166-1 alpha-2). */
  country: 'DE',
  /** Days of history exported for training (540 + the 28-day feature warm-up). */
  trainHistoryDays: 570,
  /** Days of history exported for prediction (features at the origin + 28 days of lags). */
  predictHistoryDays: 70,
  seed: 42,
} as const;

/** Executes one SQL statement on the lake (Athena on AWS, DuckDB locally). */
export interface StatementRunner {
  run(sql: string): Promise<void>;
}

export interface ForecastDeps {
  readonly registry: ForecastRegistry;
  readonly io: ObjectIo;
  /** Base URI of model artifacts and forecast outputs (`<lake>/ml/forecast`). */
  readonly artifactsUri: string;
  readonly statements: StatementRunner;
  readonly now?: () => Date;
}

export interface ForecastRun {
  readonly mode: 'train' | 'predict';
  readonly version: string;
  readonly country: string;
  readonly params: Record<string, number | string>;
  readonly artifactsUri: string;
  readonly forecastsUri: string;
  /** Athena execution parameters per query of the definition. */
  readonly parameters: { readonly export: string[]; readonly vsActual: string[] };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MODEL_PARAMS = [
  'seed',
  'train_days',
  'max_rows',
  'backtest_max_rows',
  'threads',
  'trees',
  'learning_rate',
  'leaves',
  'tweedie_power',
  'ridge_alpha',
  'origins',
];

/** Task `Prepare`: validates the input, fixes the version and the export window. */
export function prepareForecast(input: unknown, now: Date, artifactsUri: string): ForecastRun {
  const i = isRecord(input) ? input : {};
  const mode = i.mode ?? 'predict';
  if (mode !== 'train' && mode !== 'predict')
    throw new ForecastInputError(`mode must be train or predict, got ${JSON.stringify(mode)}`);
  const country = i.country ?? FORECAST_DEFAULTS.country;
  if (typeof country !== 'string' || !/^[A-Z]{2}$/.test(country))
    throw new ForecastInputError(
      `country must be an ISO 3166-1 alpha-2 code, got ${JSON.stringify(country)}`,
    );
  const params: Record<string, number | string> = { seed: FORECAST_DEFAULTS.seed, country };
  const given = isRecord(i.params) ? i.params : {};
  for (const [k, v] of Object.entries(given)) {
    if (!MODEL_PARAMS.includes(k)) throw new ForecastInputError(`unknown model parameter ${k}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new ForecastInputError(`model parameter ${k} must be a non-negative number`);
    params[k] = v;
  }
  const historyDays =
    typeof i.historyDays === 'number' && i.historyDays > 0
      ? i.historyDays
      : mode === 'train'
        ? FORECAST_DEFAULTS.trainHistoryDays
        : FORECAST_DEFAULTS.predictHistoryDays;
  const asOf = typeof i.asOf === 'string' ? new Date(i.asOf) : now;
  if (Number.isNaN(asOf.getTime())) throw new ForecastInputError('asOf is not a date');
  const from = new Date(asOf.getTime() - historyDays * 86_400_000).toISOString().slice(0, 10);
  const version = typeof i.version === 'string' && i.version !== '' ? i.version : newVersion(now);
  const runKey = `${mode}-${version}-${now.getTime()}`;
  return {
    mode,
    version,
    country,
    params,
    artifactsUri,
    forecastsUri: joinUri(artifactsUri, `runs/${runKey}/forecasts.json`),
    parameters: {
      export: [athenaLiteral(from)],
      // etl_64_gold_demand_vs_actual.sql uses :run_id twice (UPDATE and INSERT branches).
      vsActual: [athenaLiteral(`forecast-${runKey}`), athenaLiteral(`forecast-${runKey}`)],
    },
  };
}

/** What the Python model step returns for `mode: train` (pipeline.py). */
export interface TrainResult {
  readonly version: string;
  readonly model: string;
  readonly params: Record<string, unknown>;
  readonly artifactUri: string;
  readonly gate: { passed: boolean; reasons: string[]; summary?: string };
  readonly backtest: { origins: string[]; metrics: BacktestRow[] };
  readonly quality: Record<string, number>;
  readonly last_date: string;
  readonly timings: Record<string, unknown>;
}

function parseTrainResult(input: unknown): TrainResult {
  if (!isRecord(input)) throw new ForecastInputError('train result is not an object');
  const { version, artifactUri, gate, backtest } = input;
  if (typeof version !== 'string' || typeof artifactUri !== 'string')
    throw new ForecastInputError('train result lacks version/artifactUri');
  if (!isRecord(gate) || typeof gate.passed !== 'boolean')
    throw new ForecastInputError('train result lacks gate');
  if (!isRecord(backtest) || !Array.isArray(backtest.metrics))
    throw new ForecastInputError('train result lacks backtest metrics');
  return input as unknown as TrainResult;
}

/**
 * Task `Register`: records the candidate in the model registry — `published` when it passed the
 * gate (beats seasonal naive on backtest WAPE), `rejected` with the reasons otherwise.
 */
export async function registerCandidate(input: unknown, deps: ForecastDeps): Promise<ForecastRegistryEntry> {
  const r = parseTrainResult(input);
  const entry: ForecastRegistryEntry = {
    kind: FORECAST_KIND,
    version: r.version,
    status: r.gate.passed ? 'published' : 'rejected',
    model: r.model,
    params: r.params,
    artifact_uri: r.artifactUri,
    trained_at: (deps.now?.() ?? new Date()).toISOString(),
    last_date: r.last_date,
    backtest: r.backtest,
    gate: r.gate,
    quality: r.quality,
    timings: r.timings,
  };
  await deps.registry.put(entry);
  return entry;
}

/** Task `Activate`. */
export async function activateForecastModel(version: string, deps: ForecastDeps) {
  return deps.registry.activate(version, deps.now?.() ?? new Date());
}

/** Task `ResolveModel`: the active model's version and artifact (a clear error when none). */
export async function resolveActiveModel(deps: ForecastDeps): Promise<{ version: string; modelUri: string }> {
  const pointer = await deps.registry.active();
  if (!pointer)
    throw new ForecastModelNotFoundError(
      'no active demand-forecast model: run a training first (shoplake forecast train, or the forecast state machine with {"mode":"train"})',
    );
  const entry = await deps.registry.get(pointer.version);
  if (!entry)
    throw new ForecastModelNotFoundError(`active forecast model ${pointer.version} has no registry entry`);
  return { version: entry.version, modelUri: entry.artifact_uri };
}

/** A row of gold.demand_forecast as the model step writes it. */
export interface ForecastRow {
  readonly level: 'product' | 'category';
  readonly item_id: string;
  readonly category: string;
  readonly origin_date: string;
  readonly forecast_date: string;
  readonly horizon: number;
  readonly model_version: string;
  readonly model: string;
  readonly forecast: number;
  readonly lower: number;
  readonly upper: number;
  readonly flags: string | null;
  readonly created_at: string;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseRows(text: string): ForecastRow[] {
  const parsed: unknown = JSON.parse(text);
  if (!Array.isArray(parsed)) throw new ForecastInputError('forecasts file is not a JSON array');
  return parsed.map((r: unknown, i) => {
    if (
      !isRecord(r) ||
      (r.level !== 'product' && r.level !== 'category') ||
      typeof r.item_id !== 'string' ||
      typeof r.category !== 'string' ||
      typeof r.origin_date !== 'string' ||
      !DATE.test(r.origin_date) ||
      typeof r.forecast_date !== 'string' ||
      !DATE.test(r.forecast_date) ||
      typeof r.horizon !== 'number' ||
      typeof r.model_version !== 'string' ||
      typeof r.model !== 'string' ||
      typeof r.forecast !== 'number' ||
      typeof r.lower !== 'number' ||
      typeof r.upper !== 'number' ||
      typeof r.created_at !== 'string'
    )
      throw new ForecastInputError(`forecast row ${i} is malformed`);
    return r as unknown as ForecastRow;
  });
}

/** Rows per INSERT statement (Athena caps a query at 256 KB; a row is about 200 bytes). */
export const LOAD_CHUNK_ROWS = 800;

/**
 * Task `Load`: writes the model step's forecasts into gold.demand_forecast. Re-running it for the
 * same origin and model version replaces those rows (delete, then insert), so a retried or
 * repeated prediction never duplicates forecasts.
 */
export async function loadForecasts(
  input: { forecastsUri: string },
  deps: ForecastDeps,
): Promise<{ rows: number; statements: number; origins: string[] }> {
  const rows = parseRows(await deps.io.readText(input.forecastsUri));
  const lit = athenaLiteral;
  const keys = new Map<string, { origin: string; version: string }>();
  for (const r of rows)
    keys.set(`${r.origin_date}|${r.model_version}`, { origin: r.origin_date, version: r.model_version });
  let statements = 0;
  for (const k of keys.values()) {
    await deps.statements.run(
      `DELETE FROM gold.demand_forecast WHERE origin_date = DATE ${lit(k.origin)} AND model_version = ${lit(k.version)}`,
    );
    statements++;
  }
  for (let i = 0; i < rows.length; i += LOAD_CHUNK_ROWS) {
    const values = rows
      .slice(i, i + LOAD_CHUNK_ROWS)
      .map(
        (r) =>
          `(${lit(r.level)}, ${lit(r.item_id)}, ${lit(r.category)}, DATE ${lit(r.origin_date)}, DATE ${lit(r.forecast_date)}, ${Math.trunc(r.horizon)}, ${lit(r.model_version)}, ${lit(r.model)}, ${num(r.forecast)}, ${num(r.lower)}, ${num(r.upper)}, ${r.flags === null ? 'CAST(NULL AS varchar)' : lit(r.flags)}, from_iso8601_timestamp(${lit(r.created_at)}))`,
      );
    await deps.statements.run(
      `INSERT INTO gold.demand_forecast (level, item_id, category, origin_date, forecast_date, horizon, model_version, model, forecast, lower, upper, flags, created_at) VALUES ${values.join(', ')}`,
    );
    statements++;
  }
  return { rows: rows.length, statements, origins: [...new Set(rows.map((r) => r.origin_date))] };
}

function num(x: number): string {
  if (!Number.isFinite(x)) throw new ForecastInputError(`non-finite forecast value ${x}`);
  return `CAST(${x.toString()} AS double)`;
}
