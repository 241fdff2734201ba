/**
 * Runs `step-functions/forecast.asl.json` locally with aws-local-stepfunctions — the definition
 * and `${Sql_*}` substitutions the processing stack deploys — with task overrides doing locally
 * what the services do:
 *  - Athena `startQueryExecution.sync` → DuckDB over the local lake, result rows as CSV where
 *    Athena would put them (`<lake>/athena-results/<id>.csv`);
 *  - the TypeScript task Lambdas → their functions in `lambdas/forecast/pipeline.ts` with local
 *    ports (registry on the DynamoDB emulator, artifacts under `<lake>/ml/forecast/`);
 *  - the Python model Lambda → the same package (`lambdas/forecast/py/shoplake_forecast`) run
 *    from the project's venv (`.venv-forecast`, `scripts/setup-forecast.sh`), task input on
 *    stdin, output on stdout.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StateMachine } from 'aws-local-stepfunctions';
import { localSubstitutedDefinition } from '../../lambdas/etl/definition.ts';
import {
  activateForecastModel,
  type ForecastDeps,
  type ForecastRun,
  loadForecasts,
  prepareForecast,
  registerCandidate,
  resolveActiveModel,
  type TrainResult,
} from '../../lambdas/forecast/pipeline.ts';
import { documentClient } from '../../lambdas/shared/aws-clients.ts';
import { ForecastRegistry } from '../../lambdas/shared/forecast/registry.ts';
import { requiredText } from '../../lambdas/training/context.ts';
import { objectIo } from '../../lambdas/training/objects.ts';
import type { DuckdbEngine } from '../engine/duckdb.ts';
import type { LocalRuntime } from '../runtime/types.ts';
import { runAthenaTaskToCsv } from './athena-csv.ts';
import { isObject } from './etl-runner.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const FORECAST_DEFINITION_PATH = join(REPO, 'step-functions', 'forecast.asl.json');
export const FORECAST_PYTHON_DIR = join(REPO, 'lambdas', 'forecast', 'py');

/** Local stand-ins for the substituted resources (well-formed ARNs for the interpreter). */
export const LOCAL_FORECAST_RESOURCES = {
  AthenaWorkGroup: 'shoplake-local',
  ForecastPrepareFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-forecast-prepare',
  ForecastModelFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-forecast-model',
  ForecastRegisterFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-forecast-register',
  ForecastActivateFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-forecast-activate',
  ForecastResolveFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-forecast-resolve',
  ForecastLoadFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-forecast-load',
} as const;

export class ForecastEnvironmentMissingError extends Error {
  constructor(python: string) {
    super(
      `the forecast model step's Python environment is missing (${python}): run \`bash scripts/setup-forecast.sh\` (installs lambdas/forecast/py/requirements.txt into .venv-forecast)`,
    );
    this.name = 'ForecastEnvironmentMissingError';
  }
}

export class ForecastRunFailedError extends Error {
  constructor(
    readonly result: LocalForecastResult,
    message: string,
  ) {
    super(message);
    this.name = 'ForecastRunFailedError';
  }
}

/** Raised by the model step (its Python exception's class and message). */
export class ForecastModelStepError extends Error {
  constructor(
    readonly errorType: string,
    message: string,
  ) {
    super(`${errorType}: ${message}`);
    this.name = 'ForecastModelStepError';
  }
}

/** The venv's interpreter: `$SHOPLAKE_FORECAST_PYTHON`, else `<repo>/.venv-forecast/bin/python`. */
export function forecastPython(env: NodeJS.ProcessEnv = process.env): string {
  return env.SHOPLAKE_FORECAST_PYTHON ?? join(REPO, '.venv-forecast', 'bin', 'python');
}

/**
 * First use on a fresh checkout: installs the default environment (`scripts/setup-forecast.sh`,
 * idempotent, PyPI wheels cached under ~/.cache/shoplake), as the Spark and Trino tiers do.
 * A Python named by SHOPLAKE_FORECAST_PYTHON is the caller's to provide.
 */
function installForecastEnvironment(python: string): void {
  if (python === forecastPython({})) {
    try {
      execFileSync('bash', [join(REPO, 'scripts', 'setup-forecast.sh')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
    } catch {
      // Reported below with the command to run by hand.
    }
  }
  if (!existsSync(python)) throw new ForecastEnvironmentMissingError(python);
}

/** Runs the Python model step's `pipeline.run(event)` — what the model Lambda's handler calls. */
export async function invokeModelStep(event: unknown, python = forecastPython()): Promise<unknown> {
  if (!existsSync(python)) installForecastEnvironment(python);
  return new Promise((resolve, reject) => {
    const child = spawn(python, ['-m', 'shoplake_forecast'], {
      cwd: FORECAST_PYTHON_DIR,
      env: { ...process.env, PYTHONPATH: FORECAST_PYTHON_DIR, PYTHONWARNINGS: 'ignore' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(out);
      } catch {
        reject(new ForecastModelStepError('ModelStepCrashed', `exit ${code}: ${err.slice(-2000)}`));
        return;
      }
      const p = parsed as { errorType?: unknown; errorMessage?: unknown };
      if (code !== 0 || typeof p.errorType === 'string') {
        reject(new ForecastModelStepError(String(p.errorType ?? 'Error'), String(p.errorMessage ?? err)));
        return;
      }
      resolve(parsed);
    });
    child.stdin.end(JSON.stringify(event));
  });
}

/** The substituted definition the local interpreter runs (what CloudFormation deploys). */
export function localForecastDefinition(): Record<string, unknown> {
  return localSubstitutedDefinition(FORECAST_DEFINITION_PATH, LOCAL_FORECAST_RESOURCES);
}

export interface LocalForecastOptions {
  readonly runtime: Pick<LocalRuntime, 'lakeDir' | 'clients' | 'names'>;
  readonly engine: DuckdbEngine;
  /** Execution input: `{ mode: 'train' | 'predict', country?, params?, version?, historyDays? }`. */
  readonly input?: Record<string, unknown>;
  readonly onProgress?: (message: string) => void;
  readonly now?: () => Date;
}

export interface LocalForecastResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly run?: ForecastRun;
  readonly candidate?: TrainResult;
  readonly prediction?: Record<string, unknown>;
  readonly loaded?: { rows: number };
  readonly steps: { state: string; ms: number }[];
  readonly error?: { error: string; cause: string };
  readonly elapsedMs: number;
}

/** Forecast dependencies on the local runtime. */
export function localForecastDeps(
  runtime: Pick<LocalRuntime, 'lakeDir' | 'clients' | 'names'>,
  engine: DuckdbEngine,
  now?: () => Date,
): ForecastDeps {
  return {
    registry: new ForecastRegistry(
      documentClient(runtime.clients.dynamodb),
      runtime.names.recommendationsTable,
    ),
    io: objectIo(),
    artifactsUri: pathToFileURL(join(runtime.lakeDir, 'ml', 'forecast')).href,
    statements: {
      async run(sql) {
        await engine.execute(sql);
      },
    },
    ...(now ? { now } : {}),
  };
}

/** Runs one forecast execution locally; throws `ForecastRunFailedError` when it fails. */
export async function runLocalForecast(options: LocalForecastOptions): Promise<LocalForecastResult> {
  const started = performance.now();
  const { engine, runtime } = options;
  const now = options.now ?? (() => new Date());
  const progress = options.onProgress ?? (() => undefined);
  const deps = localForecastDeps(runtime, engine, now);
  const definition = localForecastDefinition();
  const states = (definition.States ?? {}) as Record<
    string,
    { Type: string; Resource?: string; Retry?: unknown }
  >;
  const steps: { state: string; ms: number }[] = [];
  const resultsDir = join(runtime.lakeDir, 'athena-results');
  mkdirSync(resultsDir, { recursive: true });
  const seen: {
    run?: ForecastRun;
    candidate?: TrainResult;
    prediction?: Record<string, unknown>;
    loaded?: { rows: number };
  } = {};
  let counter = 0;
  const timed = async <T>(state: string, fn: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    const ms = Math.round(performance.now() - t0);
    steps.push({ state, ms });
    progress(`  ${state.padEnd(16)} ${ms} ms`);
    return r;
  };
  const R = LOCAL_FORECAST_RESOURCES;
  const lambdaTasks: Record<string, (state: string, input: unknown) => Promise<unknown>> = {
    [R.ForecastPrepareFunctionArn]: async (_s, input) => {
      seen.run = prepareForecast(input, now(), deps.artifactsUri);
      return seen.run;
    },
    [R.ForecastModelFunctionArn]: async (state, input) => {
      const out = await invokeModelStep(input);
      if (state === 'Train') seen.candidate = out as TrainResult;
      else seen.prediction = out as Record<string, unknown>;
      return out;
    },
    [R.ForecastRegisterFunctionArn]: async (_s, input) => {
      const entry = await registerCandidate(isObject(input) ? input.candidate : undefined, deps);
      return { version: entry.version, status: entry.status };
    },
    [R.ForecastActivateFunctionArn]: async (_s, input) =>
      activateForecastModel(requiredText(input, 'version'), deps),
    [R.ForecastResolveFunctionArn]: async () => resolveActiveModel(deps),
    [R.ForecastLoadFunctionArn]: async (_s, input) => {
      seen.loaded = await loadForecasts({ forecastsUri: requiredText(input, 'forecastsUri') }, deps);
      return seen.loaded;
    },
  };
  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retryOverrides: Record<string, number> = {};
  for (const [name, s] of Object.entries(states)) {
    if (s.Retry) retryOverrides[name] = 0;
    if (s.Type !== 'Task' || !s.Resource) continue;
    const lambda = lambdaTasks[s.Resource];
    if (lambda) {
      handlers[name] = (input) => timed(name, () => lambda(name, input));
    } else if (s.Resource === 'arn:aws:states:::athena:startQueryExecution.sync') {
      handlers[name] = (input) =>
        timed(
          name,
          async () =>
            (
              await runAthenaTaskToCsv(
                engine,
                name,
                input,
                resultsDir,
                `local-forecast-${Date.now()}-${++counter}`,
              )
            ).out,
        );
    } else {
      throw new Error(`no local handler for task resource ${s.Resource} (state ${name})`);
    }
  }
  const machine = new StateMachine(definition as never, {
    validationOptions: { checkArn: true, checkPaths: true },
  });
  const execution = machine.run((options.input ?? {}) as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: retryOverrides },
  });
  const base = {
    steps,
    ...(seen.run ? { run: seen.run } : {}),
  };
  try {
    await execution.result;
    return {
      status: 'SUCCEEDED',
      ...base,
      ...(seen.run ? { run: seen.run } : {}),
      ...(seen.candidate ? { candidate: seen.candidate } : {}),
      ...(seen.prediction ? { prediction: seen.prediction } : {}),
      ...(seen.loaded ? { loaded: seen.loaded } : {}),
      elapsedMs: Math.round(performance.now() - started),
    };
  } catch (error: unknown) {
    const refused = seen.candidate?.gate.passed === false ? seen.candidate : undefined;
    const cause = error instanceof Error ? error.message : String(error);
    const result: LocalForecastResult = {
      status: 'FAILED',
      steps,
      ...(seen.run ? { run: seen.run } : {}),
      ...(seen.candidate ? { candidate: seen.candidate } : {}),
      error: refused
        ? { error: 'QualityGateRejected', cause: refused.gate.reasons.join('; ') }
        : { error: 'ForecastFailed', cause },
      elapsedMs: Math.round(performance.now() - started),
    };
    throw new ForecastRunFailedError(
      result,
      `forecast ${String(options.input?.mode ?? 'predict')} failed: ${result.error?.error}: ${result.error?.cause}`,
    );
  }
}
