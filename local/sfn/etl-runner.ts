/**
 * Runs the ETL state machine (`step-functions/etl.asl.json`) locally with
 * aws-local-stepfunctions: the same definition, with the same substitutions CDK applies, and
 * task overrides that do locally what the AWS services do:
 *  - `lambda:invoke` PrepareRun → `prepareRun` (the Lambda's own code);
 *  - `glue:startJobRun.sync` (ExtractOltp / ExtractMarketing) → the local extract hook of the
 *    job's source (`localGlueJobRun`: by default the PGlite OLTP snapshot);
 *  - `athena:startQueryExecution.sync` → the task's QueryString and ExecutionParameters run on
 *    the DuckDB engine (the Extract task first loads landing files);
 *  - `athena:getQueryResults` → the stored result in Athena's ResultSet shape;
 *  - `sns:publish` → collected in the run result (and printed by the CLI).
 */
import { readFileSync } from 'node:fs';
import {
  CreateTableCommand,
  DeleteItemCommand,
  type DeleteItemCommandInput,
  DynamoDBClient,
  PutItemCommand,
  type PutItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { ExecutionError, StateMachine } from 'aws-local-stepfunctions';
import { GLUE_START_JOB_RUN_SYNC } from '../../lambdas/etl/asl.ts';
import {
  ETL_DEFINITION_PATH,
  etlDefinitionSubstitutions,
  substituteDefinition,
} from '../../lambdas/etl/definition.ts';
import {
  type EtlRunContext,
  type EtlRunInput,
  parseRunInput,
  prepareRun,
} from '../../lambdas/etl/prepare-run.ts';
import { parseAthenaLiteral } from '../../lambdas/shared/catalog/sql.ts';
import {
  EXTRACT_SOURCES,
  type ExtractSource,
  type SourceFlags,
  sourceFlags,
} from '../../lambdas/shared/extract-sources.ts';
import type { DuckdbEngine } from '../engine/duckdb.ts';
import type { Row } from '../engine/types.ts';
import { type LandingLoadResult, loadLandingEvents } from './landing.ts';

/** Local stand-ins for the substituted resources (well-formed ARNs for the interpreter). */
export const LOCAL_ETL_RESOURCES = {
  AthenaWorkGroup: 'shoplake-local',
  PrepareRunFunctionArn: 'arn:aws:lambda:us-east-1:000000000000:function:shoplake-etl-prepare-run',
  FailureTopicArn: 'arn:aws:sns:us-east-1:000000000000:shoplake-alarms',
  EtlLeaseTable: 'shoplake-etl-lease',
  OltpExtractJobName: 'shoplake-local-extract-oltp',
  MarketingExtractJobName: 'shoplake-local-extract-marketing',
} as const;

/** Where the run lease lives: a DynamoDB endpoint (the emulator locally) and its table. */
export interface EtlLeaseStore {
  readonly client: DynamoDBClient;
  readonly tableName: string;
}

/** Creates the lease table (key `lock_id`) as the processing stack defines it. */
export async function createLeaseTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'lock_id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'lock_id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}

/**
 * The lease store of a run without one: an in-memory DynamoDB emulator (dynalite) for this run
 * only. Locally the state-directory claim keeps runs apart; the lease states still run.
 */
export async function ephemeralLeaseStore(): Promise<EtlLeaseStore & { close(): Promise<void> }> {
  const { startDynamoDbEmulator } = await import('../runtime/emulators.ts');
  const emulator = await startDynamoDbEmulator();
  const client = new DynamoDBClient({
    endpoint: emulator.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  await createLeaseTable(client, LOCAL_ETL_RESOURCES.EtlLeaseTable);
  return {
    client,
    tableName: LOCAL_ETL_RESOURCES.EtlLeaseTable,
    close: async () => {
      client.destroy();
      await emulator.close();
    },
  };
}

/**
 * The local handler of a lease task (`dynamodb:putItem` / `dynamodb:deleteItem`): the task's
 * Parameters are the API input, errors are named as Step Functions names them. Undefined for
 * other resources.
 */
export function leaseTaskHandler(
  resource: string,
  store: EtlLeaseStore,
): ((input: unknown) => Promise<unknown>) | undefined {
  if (resource === 'arn:aws:states:::dynamodb:putItem') {
    return async (input) => {
      try {
        await store.client.send(new PutItemCommand(input as PutItemCommandInput));
        return {};
      } catch (error: unknown) {
        throw dynamoDbError(error);
      }
    };
  }
  if (resource === 'arn:aws:states:::dynamodb:deleteItem') {
    return async (input) => {
      try {
        await store.client.send(new DeleteItemCommand(input as DeleteItemCommandInput));
        return {};
      } catch (error: unknown) {
        throw dynamoDbError(error);
      }
    };
  }
  return undefined;
}

/** A DynamoDB error as Step Functions' integration names it (`DynamoDB.<Exception>`). */
function dynamoDbError(error: unknown): Error {
  const e = error instanceof Error ? error : new Error(String(error));
  const named = new Error(e.message);
  named.name = `DynamoDB.${e.name}`;
  return named;
}

export interface OltpExtractResult {
  readonly snapshotAt: string;
  readonly tables: Readonly<Record<string, number>>;
}

/** A local extract: one source's database into bronze (on AWS, that source's Glue job). */
export type LocalExtract = (engine: DuckdbEngine, runId: string) => Promise<OltpExtractResult>;

/** Thrown when a Glue job state runs locally for a source without a local extract. */
export class NoLocalExtractError extends Error {
  constructor(readonly jobName: string) {
    super(`no local extract for Glue job ${jobName} (known sources: ${EXTRACT_SOURCES.join(', ')})`);
    this.name = 'NoLocalExtractError';
  }
}

/** The source a Glue job name stands for (the name contains it: `…-extract-oltp`). */
export function sourceOfJobName(jobName: string): ExtractSource | undefined {
  return EXTRACT_SOURCES.find((source) => jobName.toLowerCase().includes(source));
}

/**
 * The local task handler of `glue:startJobRun.sync`: runs the extract of the job's source
 * (dispatched on the JobName) and answers with the JobRun fields the state keeps. The one place
 * the local runner maps Glue job runs; a source without an extract fails the task.
 */
export function localGlueJobRun(
  extracts: Readonly<Partial<Record<ExtractSource, LocalExtract>>>,
  context: {
    readonly engine: DuckdbEngine;
    readonly runId: () => string;
    readonly onResult: (source: ExtractSource, result: OltpExtractResult) => void;
  },
): (input: unknown) => Promise<unknown> {
  let runs = 0;
  return async (input) => {
    const jobName = isObject(input) && typeof input.JobName === 'string' ? input.JobName : '';
    const source = sourceOfJobName(jobName);
    const extract = source ? extracts[source] : undefined;
    if (!source || !extract) throw new NoLocalExtractError(jobName);
    const result = await extract(context.engine, context.runId());
    context.onResult(source, result);
    return {
      Id: `jr_local_${++runs}`,
      JobName: jobName,
      JobRunState: 'SUCCEEDED',
      Arguments: isObject(input) && isObject(input.Arguments) ? input.Arguments : {},
    };
  };
}

export interface LocalEtlOptions {
  readonly engine: DuckdbEngine;
  readonly lakeDir: string;
  readonly input?: EtlRunInput;
  /**
   * Snapshots the OLTP database into bronze (local/oltp): the ExtractOltp state's Glue job run.
   * Absent: the run has no OLTP source (PrepareRun's `sources.oltp` is false, the state skipped).
   */
  readonly extractOltp?: LocalExtract;
  /** The marketing database into bronze: the ExtractMarketing state's job run; absent: skipped. */
  readonly extractMarketing?: LocalExtract;
  readonly now?: () => Date;
  readonly onProgress?: (message: string) => void;
  /**
   * Called after every task state finished: distinct task states finished so far, task states
   * in the definition (a Map state's tasks count once however often they run).
   */
  readonly onTask?: (done: number, total: number, state: string) => void;
  /**
   * Called before every task state runs (test hook: crash or fail a given state). A throw
   * fails that task attempt like a failed AWS call would.
   */
  readonly beforeTask?: (state: string) => void | Promise<void>;
  /** The run lease's table; without it the run uses a private in-memory emulator. */
  readonly lease?: EtlLeaseStore;
}

export interface EtlStepResult {
  readonly state: string;
  readonly kind: string;
  readonly target?: string;
  readonly affectedRows?: number;
  readonly ms: number;
}

export interface LocalEtlResult {
  /** SKIPPED: another run held the lease, nothing was written. */
  readonly status: 'SUCCEEDED' | 'FAILED' | 'SKIPPED';
  readonly run?: EtlRunContext;
  readonly landing?: LandingLoadResult;
  readonly oltp?: OltpExtractResult;
  readonly marketing?: OltpExtractResult;
  readonly extractSummary?: Row;
  readonly steps: EtlStepResult[];
  readonly failedChecks: Row[];
  readonly notifications: { subject: string; message: string }[];
  readonly error?: { error: string; cause: string };
  readonly elapsedMs: number;
}

/** Exit code of a run stopped by a failed blocking data-quality check (sysexits EX_DATAERR). */
export const DATA_QUALITY_GATE_EXIT_CODE = 65;

export class EtlRunFailedError extends Error {
  constructor(
    readonly result: LocalEtlResult,
    message: string,
  ) {
    super(message);
    this.name = 'EtlRunFailedError';
  }

  /** True when a blocking data-quality check stopped the run before gold. */
  get dataQualityGateFailed(): boolean {
    return this.result.error?.error === 'DataQualityGateFailed';
  }

  /** The process exit code the CLI uses: a distinct one for a failed gate, so schedulers can tell. */
  get exitCode(): number {
    return this.dataQualityGateFailed ? DATA_QUALITY_GATE_EXIT_CODE : 1;
  }

  /** For `--json` errors (local/cli/errors.ts). */
  get cliCode(): string {
    return this.dataQualityGateFailed ? 'data_quality_gate_failed' : 'etl_failed';
  }

  cliDetails(): Record<string, unknown> {
    return {
      run_id: this.result.run?.run_id ?? null,
      date_from: this.result.run?.date_from ?? null,
      date_to: this.result.run?.date_to ?? null,
      failure: this.result.error?.error ?? null,
      failed_checks: this.result.failedChecks,
    };
  }
}

/** A state of an ASL definition, as far as the runners read it. */
export interface StateDef {
  Type: string;
  Resource?: string;
  Retry?: unknown[];
  ItemProcessor?: { States: Record<string, StateDef> };
  Iterator?: { States: Record<string, StateDef> };
  Branches?: { States: Record<string, StateDef> }[];
}

/** Every state of a definition by name, including those inside Map and Parallel states. */
export function collectStates(
  states: Record<string, StateDef>,
  out: Map<string, StateDef> = new Map(),
): Map<string, StateDef> {
  for (const [name, s] of Object.entries(states)) {
    out.set(name, s);
    const inner = s.ItemProcessor?.States ?? s.Iterator?.States;
    if (inner) collectStates(inner, out);
    for (const branch of s.Branches ?? []) collectStates(branch.States, out);
  }
  return out;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Rows of an Athena ResultSet's `Rows` (the first row holds the column names). */
function resultSetRows(rows: unknown[]): Row[] {
  const [head, ...rest] = rows as { Data?: { VarCharValue?: string }[] }[];
  const names = (head?.Data ?? []).map((d) => d.VarCharValue ?? '');
  return rest.map((r) => Object.fromEntries(names.map((n, i) => [n, r.Data?.[i]?.VarCharValue ?? null])));
}

function cellText(v: unknown): string | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** The substituted definition the local interpreter runs (what CloudFormation deploys). */
export function localEtlDefinition(
  leaseTable: string = LOCAL_ETL_RESOURCES.EtlLeaseTable,
): Record<string, unknown> {
  const text = readFileSync(ETL_DEFINITION_PATH, 'utf8');
  const substituted = substituteDefinition(
    text,
    etlDefinitionSubstitutions({ ...LOCAL_ETL_RESOURCES, EtlLeaseTable: leaseTable }, { databasePrefix: '' }),
  );
  const parsed: unknown = JSON.parse(substituted);
  if (!isObject(parsed)) throw new Error('ETL definition is not a JSON object');
  return parsed;
}

/** Definition texts this process has validated (see runWithLease). */
const VALIDATED = new Set<string>();

/**
 * Runs one ETL execution locally. Resolves with the run summary when the execution succeeds;
 * throws `EtlRunFailedError` (carrying the same summary, the failed checks and the failure
 * notification) when it fails.
 */
export async function runLocalEtl(options: LocalEtlOptions): Promise<LocalEtlResult> {
  if (options.lease) return runWithLease(options, options.lease);
  const store = await ephemeralLeaseStore();
  try {
    return await runWithLease(options, store);
  } finally {
    await store.close();
  }
}

async function runWithLease(options: LocalEtlOptions, lease: EtlLeaseStore): Promise<LocalEtlResult> {
  const started = performance.now();
  const { engine } = options;
  const now = options.now ?? (() => new Date());
  const progress = options.onProgress ?? (() => undefined);
  const definition = localEtlDefinition(lease.tableName);
  const states = collectStates((definition.States ?? {}) as Record<string, StateDef>);
  const results = new Map<string, { columns: string[]; rows: Row[] }>();
  const steps: EtlStepResult[] = [];
  const notifications: { subject: string; message: string }[] = [];
  let run: EtlRunContext | undefined;
  let landing: LandingLoadResult | undefined;
  const extracted: Partial<Record<ExtractSource, OltpExtractResult>> = {};
  let queryCounter = 0;
  const extracts: Partial<Record<ExtractSource, LocalExtract>> = {
    ...(options.extractOltp ? { oltp: options.extractOltp } : {}),
    ...(options.extractMarketing ? { marketing: options.extractMarketing } : {}),
  };
  // Locally the sources are the extracts this run has (AWS: the stage config, via ETL_SOURCES).
  const sources: SourceFlags = sourceFlags(Object.keys(extracts) as ExtractSource[]);

  const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
  const retryOverrides: Record<string, number> = {};
  const taskTotal = [...states.values()].filter((s) => s.Type === 'Task' && s.Resource).length;
  const tasksDone = new Set<string>();
  for (const [name, s] of states) {
    if (s.Retry) retryOverrides[name] = 0;
    if (s.Type !== 'Task' || !s.Resource) continue;
    const task = (fn: (input: unknown) => Promise<unknown>) => async (input: unknown) => {
      await options.beforeTask?.(name);
      const output = await fn(input);
      tasksDone.add(name);
      options.onTask?.(tasksDone.size, taskTotal, name);
      return output;
    };
    if (s.Resource === 'arn:aws:states:::lambda:invoke') {
      handlers[name] = task(async (input) => {
        const payload = isObject(input) && isObject(input.Payload) ? input.Payload : {};
        const parsed = parseRunInput(payload.input);
        const executionName = typeof payload.executionName === 'string' ? payload.executionName : undefined;
        const ctx = prepareRun(executionName ? { ...parsed, executionName } : parsed, {
          now,
          databasePrefix: '',
          sources,
        });
        run = ctx;
        progress(`etl ${ctx.run_id}: window ${ctx.date_from} .. ${ctx.date_to}`);
        return { StatusCode: 200, Payload: ctx };
      });
    } else if (s.Resource === 'arn:aws:states:::athena:startQueryExecution.sync') {
      handlers[name] = task(async (input) => {
        if (!isObject(input) || typeof input.QueryString !== 'string') {
          throw new Error(`${name}: task input has no QueryString`);
        }
        const t0 = performance.now();
        if (name === 'Extract') {
          const runId = run?.run_id ?? 'manual';
          landing = await loadLandingEvents(engine, options.lakeDir, { runId, now: now() });
          progress(
            `  extract: ${landing.rows} landed events from ${landing.files} files -> bronze.events (${landing.rejected} rejected)`,
          );
        }
        const raw = Array.isArray(input.ExecutionParameters) ? input.ExecutionParameters : [];
        const values = raw.map((v) => parseAthenaLiteral(String(v)));
        const result = await engine.executePositional(input.QueryString, values);
        const id = `local-${++queryCounter}`;
        results.set(id, { columns: result.columns.map((c) => c.name), rows: result.rows });
        const step: EtlStepResult = {
          state: name,
          kind: result.kind,
          ...(result.target ? { target: result.target } : {}),
          ...(result.affectedRows !== undefined ? { affectedRows: result.affectedRows } : {}),
          ms: Math.round(performance.now() - t0),
        };
        steps.push(step);
        if (result.kind !== 'ddl')
          progress(
            `  ${name.padEnd(28)} ${String(step.affectedRows ?? result.rows.length).padStart(9)} ${result.target ? 'rows' : 'result rows'}  ${step.ms} ms`,
          );
        return {
          QueryExecution: {
            QueryExecutionId: id,
            Query: input.QueryString,
            Status: { State: 'SUCCEEDED' },
            Statistics: { TotalExecutionTimeInMillis: step.ms },
          },
        };
      });
    } else if (s.Resource === GLUE_START_JOB_RUN_SYNC) {
      handlers[name] = task(
        localGlueJobRun(extracts, {
          engine,
          runId: () => run?.run_id ?? 'manual',
          onResult: (source, result) => {
            extracted[source] = result;
            progress(
              `  extract: ${source} snapshot ${result.snapshotAt} -> bronze (${Object.entries(result.tables)
                .map(([k, v]) => `${k} ${v}`)
                .join(', ')})`,
            );
          },
        }),
      );
    } else if (s.Resource === 'arn:aws:states:::athena:getQueryResults') {
      handlers[name] = task(async (input) => {
        const id = isObject(input) ? String(input.QueryExecutionId ?? '') : '';
        const r = results.get(id);
        if (!r) throw new Error(`${name}: no local query result ${id}`);
        const header = { Data: r.columns.map((c) => ({ VarCharValue: c })) };
        const rows = r.rows.map((row) => ({
          Data: r.columns.map((c) => {
            const text = cellText(row[c]);
            return text === undefined ? {} : { VarCharValue: text };
          }),
        }));
        return {
          ResultSet: {
            Rows: [header, ...rows],
            ResultSetMetadata: { ColumnInfo: r.columns.map((c) => ({ Name: c, Type: 'varchar' })) },
          },
        };
      });
    } else if (s.Resource === 'arn:aws:states:::sns:publish') {
      handlers[name] = task(async (input) => {
        const subject = isObject(input) ? String(input.Subject ?? '') : '';
        const message = isObject(input) ? String(input.Message ?? '') : '';
        notifications.push({ subject, message });
        progress(`  notify: ${subject}: ${message.slice(0, 500)}`);
        return { MessageId: `local-${notifications.length}` };
      });
    } else if (leaseTaskHandler(s.Resource, lease)) {
      const handler = leaseTaskHandler(s.Resource, lease);
      if (handler) handlers[name] = task(handler);
    } else {
      throw new Error(`no local handler for task resource ${s.Resource} (state ${name})`);
    }
  }

  // Validating the definition (asl-validator, ARNs, paths) costs a few hundred ms, more than
  // an idle run's statements: it is done once per definition text and process.
  const text = JSON.stringify(definition);
  const machine = new StateMachine(definition as never, {
    validationOptions: VALIDATED.has(text) ? { noValidate: true } : { checkArn: true, checkPaths: true },
  });
  VALIDATED.add(text);
  const t = now();
  const executionName = `etl-${t.toISOString().replace(/[-:.]/g, '').slice(0, 15)}-${Math.random().toString(36).slice(2, 8)}`;
  const execution = machine.run((options.input ?? {}) as never, {
    context: {
      Execution: { Id: `local:${executionName}`, Name: executionName, StartTime: t.toISOString() },
    } as never,
    overrides: {
      taskResourceLocalHandlers: handlers as never,
      retryIntervalOverrides: retryOverrides,
    },
  });

  const summaryOf = (
    status: LocalEtlResult['status'],
    output: unknown,
    error?: { error: string; cause: string },
  ) => {
    const o = isObject(output) ? output : {};
    const gateRows = isObject(o.gate) && Array.isArray(o.gate.Rows) ? o.gate.Rows : [];
    const failedChecks = resultSetRows(gateRows);
    const extractRows =
      isObject(o.extract_summary) && Array.isArray(o.extract_summary.Rows) ? o.extract_summary.Rows : [];
    const extractSummary: Row | undefined = resultSetRows(extractRows)[0];
    const result: LocalEtlResult = {
      status,
      ...(run ? { run } : {}),
      ...(landing ? { landing } : {}),
      ...(extracted.oltp ? { oltp: extracted.oltp } : {}),
      ...(extracted.marketing ? { marketing: extracted.marketing } : {}),
      ...(extractSummary ? { extractSummary } : {}),
      steps,
      failedChecks,
      notifications,
      ...(error ? { error } : {}),
      elapsedMs: Math.round(performance.now() - started),
    };
    return result;
  };

  try {
    const output = await execution.result;
    if (isObject(output) && isObject(output.skipped)) {
      progress(`etl ${run?.run_id ?? ''}: ${String(output.skipped.reason ?? 'skipped')}`);
      return summaryOf('SKIPPED', output);
    }
    return summaryOf('SUCCEEDED', output);
  } catch (error: unknown) {
    const note = notifications[notifications.length - 1];
    let cause = error instanceof Error ? error.message : String(error);
    let name = error instanceof ExecutionError ? 'EtlFailed' : error instanceof Error ? error.name : 'Error';
    let gate: Row[] = [];
    if (note) {
      try {
        const parsed: unknown = JSON.parse(note.message);
        if (isObject(parsed)) {
          name = String(parsed.Error ?? name);
          cause = String(parsed.Cause ?? cause);
          if (name === 'DataQualityGateFailed') {
            const rows: unknown = parsed.FailedChecks;
            if (Array.isArray(rows)) gate = resultSetRows(rows);
          }
        }
      } catch {
        cause = note.message;
      }
    }
    const summary = { ...summaryOf('FAILED', undefined, { error: name, cause }), failedChecks: gate };
    const detail =
      name === 'DataQualityGateFailed'
        ? `data-quality gate failed, gold not updated: ${gate.map((g) => `${g.check_name} (observed ${g.observed})`).join(', ')}`
        : `${name}: ${cause}`;
    throw new EtlRunFailedError(summary, `ETL run ${run?.run_id ?? ''} failed: ${detail}`);
  }
}
