/**
 * `shoplake train`: runs the training state machine (`step-functions/train.asl.json`) locally
 * with aws-local-stepfunctions — the same definition and the same `${Sql_*}` substitutions the
 * processing stack deploys — with task overrides doing locally what the services do:
 *  - Athena `startQueryExecution.sync` → the task's QueryString and ExecutionParameters on the
 *    DuckDB engine over the local Iceberg lake; result rows written as CSV where Athena would
 *    (`<lake>/athena-results/<id>.csv`), returned as the task's OutputLocation;
 *  - the training Lambdas → their own functions (`lambdas/training/pipeline.ts`) with local
 *    clients: the recommendations table on the DynamoDB emulator, artifacts under
 *    `<lake>/ml/models/`, snapshot ids from the local Iceberg catalog.
 * Also home of `loadLakeInteractions`, which `shoplake evaluate` uses without a file.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import type { Command } from 'commander';
import { localSubstitutedDefinition } from '../../../lambdas/etl/definition.ts';
import { documentClient } from '../../../lambdas/shared/aws-clients.ts';
import { interactionsFromEvents } from '../../../lambdas/shared/recommender/data.ts';
import {
  RecommendationStore,
  type RecommendationStoreOptions,
} from '../../../lambdas/shared/recommender/store.ts';
import type { Interaction } from '../../../lambdas/shared/recommender/types.ts';
import { requiredText } from '../../../lambdas/training/context.ts';
import { objectIo } from '../../../lambdas/training/objects.ts';
import {
  activateVersion,
  parseTrainInput,
  prepareRun,
  publishCandidate,
  TRAINING_ACTIVATION,
  type TrainingDeps,
  type TrainOutput,
  trainAndEvaluate,
} from '../../../lambdas/training/pipeline.ts';
import { runDeployedStateMachine } from '../../deployed/run.ts';
import type { DuckdbEngine } from '../../engine/duckdb.ts';
import { openLocalEngine } from '../../engine/open.ts';
import { withRuntime } from '../../runtime/session.ts';
import type { LocalRuntime } from '../../runtime/types.ts';
import { runAthenaTaskToCsv } from '../../sfn/athena-csv.ts';
import { fmt, reporter } from '../output.ts';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TRAIN_DEFINITION_PATH = join(REPO, 'step-functions', 'train.asl.json');

/** Local stand-ins for the substituted resources (well-formed ARNs for the interpreter). */
export const LOCAL_TRAIN_RESOURCES = {
  AthenaWorkGroup: 'shoplake-local',
  TrainingPrepareFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-training-prepare',
  TrainingTrainFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-training-train',
  TrainingPublishFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-training-publish',
  TrainingActivateFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-training-activate',
} as const;

export class LakeNotReadyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LakeNotReadyError';
  }
}

export class TrainingRunFailedError extends Error {
  constructor(
    readonly result: LocalTrainingResult,
    message: string,
  ) {
    super(message);
    this.name = 'TrainingRunFailedError';
  }
}

/** The substituted definition the local interpreter runs (what CloudFormation deploys). */
export function localTrainDefinition(): Record<string, unknown> {
  return localSubstitutedDefinition(TRAIN_DEFINITION_PATH, LOCAL_TRAIN_RESOURCES);
}

export interface LocalTrainingOptions {
  readonly runtime: Pick<LocalRuntime, 'lakeDir' | 'clients' | 'names'>;
  readonly engine: DuckdbEngine;
  /** Execution input (`version`, `model`, `seed`, `lookbackDays`, `since`, `weights`, …). */
  readonly input?: Record<string, unknown>;
  readonly onProgress?: (message: string) => void;
  readonly now?: () => Date;
}

export interface LocalTrainingResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly candidate?: TrainOutput;
  readonly steps: { state: string; ms: number; rows?: number }[];
  readonly error?: { error: string; cause: string };
  readonly elapsedMs: number;
}

/** The recommendations table on the local runtime's DynamoDB emulator. */
export function localRecommendationStore(
  runtime: Pick<LocalRuntime, 'clients' | 'names'>,
  options: Omit<RecommendationStoreOptions, 'client' | 'tableName'> = {},
): RecommendationStore {
  return new RecommendationStore({
    ...options,
    client: documentClient(runtime.clients.dynamodb),
    tableName: runtime.names.recommendationsTable,
  });
}

/** Training dependencies on the local runtime. */
export function localTrainingDeps(
  runtime: Pick<LocalRuntime, 'lakeDir' | 'clients' | 'names'>,
  engine?: DuckdbEngine,
): TrainingDeps {
  return {
    store: localRecommendationStore(runtime),
    io: objectIo(),
    artifactsUri: pathToFileURL(join(runtime.lakeDir, 'ml', 'models')).href,
    ...(engine
      ? {
          snapshots: async () => {
            const out: Record<string, string> = {};
            for (const t of ['ml.interactions', 'silver.events']) {
              const s = (await engine.table(t)).currentSnapshot();
              if (s) out[t] = String(s['snapshot-id']);
            }
            return out;
          },
        }
      : {}),
  };
}

/** Runs one training execution locally; throws `TrainingRunFailedError` when it fails. */
export async function runLocalTraining(options: LocalTrainingOptions): Promise<LocalTrainingResult> {
  const started = performance.now();
  const { engine, runtime } = options;
  const now = options.now ?? (() => new Date());
  const progress = options.onProgress ?? (() => undefined);
  const deps = { ...localTrainingDeps(runtime, engine), now };
  const definition = localTrainDefinition();
  const states = (definition.States ?? {}) as Record<
    string,
    { Type: string; Resource?: string; Retry?: unknown }
  >;
  const steps: { state: string; ms: number; rows?: number }[] = [];
  const resultsDir = join(runtime.lakeDir, 'athena-results');
  mkdirSync(resultsDir, { recursive: true });
  let candidate: TrainOutput | undefined;
  let counter = 0;
  const timed = async <T>(
    state: string,
    fn: () => Promise<T>,
    rows?: (r: T) => number | undefined,
  ): Promise<T> => {
    const t0 = performance.now();
    const r = await fn();
    const n = rows?.(r);
    steps.push({ state, ms: Math.round(performance.now() - t0), ...(n !== undefined ? { rows: n } : {}) });
    progress(
      `  ${state.padEnd(20)} ${n !== undefined ? `${fmt(n).padStart(9)} rows  ` : ''}${Math.round(performance.now() - t0)} ms`,
    );
    return r;
  };

  const lambdaTasks: Record<string, (input: unknown) => Promise<unknown>> = {
    [LOCAL_TRAIN_RESOURCES.TrainingPrepareFunctionArn]: async (input) => prepareRun(input, now()),
    [LOCAL_TRAIN_RESOURCES.TrainingTrainFunctionArn]: async (input) => {
      candidate = await trainAndEvaluate(parseTrainInput(input, now()), deps);
      return candidate;
    },
    // Task inputs read as the Lambda handlers read them (publish.ts, activate.ts).
    [LOCAL_TRAIN_RESOURCES.TrainingPublishFunctionArn]: async (input) =>
      publishCandidate(
        { version: requiredText(input, 'version'), artifactUri: requiredText(input, 'artifactUri') },
        deps,
      ),
    [LOCAL_TRAIN_RESOURCES.TrainingActivateFunctionArn]: async (input) =>
      activateVersion({ version: requiredText(input, 'version') }, deps, TRAINING_ACTIVATION),
  };

  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retryOverrides: Record<string, number> = {};
  for (const [name, s] of Object.entries(states)) {
    if (s.Retry) retryOverrides[name] = 0;
    if (s.Type !== 'Task' || !s.Resource) continue;
    const lambda = lambdaTasks[s.Resource];
    if (lambda) {
      handlers[name] = (input) => timed(name, () => lambda(input));
    } else if (s.Resource === 'arn:aws:states:::athena:startQueryExecution.sync') {
      handlers[name] = (input) =>
        timed(
          name,
          () => runAthenaTaskToCsv(engine, name, input, resultsDir, `local-train-${Date.now()}-${++counter}`),
          (r) => r.rows,
        ).then((r) => r.out);
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
  const base = { steps, ...(candidate ? { candidate } : {}) };
  try {
    await execution.result;
    return {
      status: 'SUCCEEDED',
      ...base,
      ...(candidate ? { candidate } : {}),
      elapsedMs: Math.round(performance.now() - started),
    };
  } catch (error: unknown) {
    const cause = error instanceof Error ? error.message : String(error);
    const refused: TrainOutput | undefined = candidate?.gate.passed === false ? candidate : undefined;
    const result: LocalTrainingResult = {
      status: 'FAILED',
      steps,
      ...(candidate ? { candidate } : {}),
      error: {
        error: refused ? 'QualityGateRejected' : error instanceof ExecutionError ? 'TrainingFailed' : 'Error',
        cause: refused ? refused.gate.reasons.join('; ') : cause,
      },
      elapsedMs: Math.round(performance.now() - started),
    };
    throw new TrainingRunFailedError(
      result,
      `training failed: ${result.error?.error}: ${result.error?.cause}`,
    );
  }
}

/** Interactions from the local lake's silver events (the mapping of `reco_interactions.sql`). */
export async function loadLakeInteractions(
  stateDir: string,
): Promise<{ interactions: Interaction[]; source: string }> {
  const engine = await openLocalEngine(stateDir);
  try {
    const rows = await engine.query(
      "SELECT event_type, event_time, session_id, user_id, product_id, category, order_status, items FROM silver.events WHERE event_type IN ('product_view', 'add_to_cart', 'purchase') ORDER BY event_time, event_id",
    );
    if (rows.length === 0) {
      throw new LakeNotReadyError(
        `silver.events in ${stateDir}/lake is empty: run the pipeline first (shoplake demo, or ingest + etl) or pass --interactions FILE`,
      );
    }
    const parsed = interactionsFromEvents(rows);
    return { interactions: parsed.interactions, source: `silver.events, ${fmt(rows.length)} events` };
  } finally {
    await engine.close();
  }
}

/** Renders a training result for people. */
export function describeTraining(result: LocalTrainingResult): string[] {
  const c = result.candidate;
  const lines = [`training ${result.status.toLowerCase()} in ${fmt(result.elapsedMs / 1000, 1)} s`];
  if (c) {
    lines.push(
      `  candidate ${c.version} (${c.model}): ${fmt(c.counts.interactions)} interactions, ${fmt(c.counts.users)} user lists, ${fmt(c.counts.items)} item lists`,
    );
    for (const [model, m] of Object.entries(c.metrics)) {
      const shown = Object.entries(m)
        .filter(([k]) => k !== 'users')
        .map(([k, v]) => `${k} ${v.toFixed(4)}`)
        .join('  ');
      lines.push(`    ${model.padEnd(12)} ${shown}  (${fmt(m.users ?? 0)} users, loo-sampled)`);
    }
    lines.push(`  quality gate: ${c.gate.passed ? 'passed' : `refused — ${c.gate.reasons.join('; ')}`}`);
  }
  if (result.error && !(c && !c.gate.passed))
    lines.push(`  error: ${result.error.error}: ${result.error.cause}`);
  if (result.status === 'SUCCEEDED' && c) lines.push(`  published and activated ${c.version}`);
  return lines;
}

export function register(program: Command): void {
  program
    .command('train')
    .description(
      'train, evaluate, gate, publish and activate a recommendation model (runs train.asl.json locally)',
    )
    .option(
      '--model <name>',
      'model to train: auto (the best of item-cf, sequence, blend, ranker on validation), ranker, blend, item-cf, item-cf-chance, sequence, popularity, random',
      'auto',
    )
    .option('--seed <seed>', 'evaluation seed', '42')
    .option('--lookback-days <days>', 'train on interactions of the last N days', '90')
    .option('--since <iso>', 'train on interactions since this time (overrides --lookback-days)')
    .option('--model-version <version>', 'version id to publish under (default: generated, time-sortable)')
    .option('--json', 'print the result as JSON on stdout')
    .option('--quiet', 'no progress on stderr')
    .option(
      '--stage <name>',
      "start the deployed stage's training state machine and follow it (AWS credentials from the environment)",
    )
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{
        model: string;
        seed: string;
        lookbackDays: string;
        since?: string;
        modelVersion?: string;
        json?: boolean;
        quiet?: boolean;
        stateDir: string;
        stage?: string;
      }>();
      const report = reporter({ json: opts.json, quiet: opts.quiet });
      const input: Record<string, unknown> = {
        model: opts.model,
        seed: Number(opts.seed),
        lookbackDays: Number(opts.lookbackDays),
        ...(opts.since ? { since: opts.since } : {}),
        ...(opts.modelVersion ? { version: opts.modelVersion } : {}),
      };
      if (opts.stage) {
        await runDeployedStateMachine(opts.stage, 'trainStateMachine', input, report, {
          json: Boolean(opts.json),
        });
        return;
      }
      await withRuntime(
        { stateDir: opts.stateDir, report, firehose: false, consumer: false },
        async ({ runtime }) => {
          const engine = await openLocalEngine(runtime.stateDir);
          try {
            report.progress('running step-functions/train.asl.json locally');
            const result = await runLocalTraining({
              runtime,
              engine,
              input,
              onProgress: (m) => report.progress(m),
            }).catch((error: unknown) => {
              if (error instanceof TrainingRunFailedError) {
                report.result(error.result, () => describeTraining(error.result).join('\n'));
              }
              throw error;
            });
            report.result(result, () => describeTraining(result).join('\n'));
          } finally {
            await engine.close();
          }
        },
      );
    });
}
