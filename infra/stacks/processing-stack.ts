/**
 * Processing: the state machines of `step-functions/*.asl.json` (loaded from file with
 * definition substitutions), their task Lambdas (`lambdas/etl/`, `lambdas/training/`),
 * EventBridge Scheduler schedules (daily ETL, weekly training) and failure notifications:
 * a machine that notifies its own failures (a catch-all → SNS publish state, as the ETL's
 * NotifyFailure) is watched by EventBridge only for TIMED_OUT / ABORTED, which no Catch can
 * see; a machine without one also for FAILED. Each failure notifies exactly once.
 */
import { CfnOutput, Duration, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { athenaStatementOfFile, NO_EXTRACT_JOB, sqlFileOfKey } from '../../lambdas/etl/definition.ts';
import { PREPARE_RUN_LAMBDA } from '../../lambdas/etl/steps.ts';
import { DEFAULT_DATABASE_PREFIX, NAMESPACES, type Namespace } from '../../lambdas/shared/catalog/index.ts';
import {
  ETL_SOURCES_ENV,
  EXTRACT_JOB_NAME_KEYS,
  EXTRACT_SOURCES,
  formatSourceFlags,
  sourceFlags,
} from '../../lambdas/shared/extract-sources.ts';
import type { StageConfig } from '../config/stage-config.ts';
import { SourceExtractJobs } from '../constructs/extract-jobs.ts';
import { ForecastModelFunction } from '../constructs/forecast-model-function.ts';
import { dataRemovalPolicy, serviceNotificationTopic, stageLogGroup } from '../constructs/secure-defaults.ts';
import { ShoplakeFunction } from '../constructs/shoplake-function.ts';
import { pascalCase, type StateMachineFile, stateMachineFiles } from '../constructs/state-machine-files.ts';
import { LAKE_PREFIXES } from '../definitions/resources.ts';
import { taskLambdas } from '../definitions/task-functions.ts';
import type { StorageStack } from './storage-stack.ts';

/** Which state machine each schedule starts (file stem of `step-functions/<name>.asl.json`). */
export const SCHEDULED_STATE_MACHINES = { etl: 'etl', training: 'train' } as const;

/**
 * Statuses no Catch inside a state machine can observe: EventBridge notifies them for every
 * machine. FAILED is notified by EventBridge only for machines that do not notify it themselves.
 */
export const UNCATCHABLE_FAILURE_STATUSES = ['TIMED_OUT', 'ABORTED'] as const;

/** Step Functions' SNS publish integration (the in-machine failure notification). */
const SNS_PUBLISH = 'arn:aws:states:::sns:publish';

/**
 * Whether an ASL definition notifies its own failures: it has a Task publishing to SNS that
 * is the target of a `States.ALL` Catch, and every other Task / Map / Parallel state catches
 * `States.ALL`. Such a machine's FAILED executions already notified once; an EventBridge rule
 * on FAILED would notify twice.
 */
export function notifiesOwnFailures(definition: unknown): boolean {
  if (typeof definition !== 'object' || definition === null || !('States' in definition)) return false;
  const states = (definition as { States: unknown }).States;
  if (typeof states !== 'object' || states === null) return false;
  type StateView = { Type?: unknown; Resource?: unknown; Catch?: unknown };
  const entries = Object.entries(states as Record<string, StateView>);
  const catchAllTargets = (state: StateView): string[] => {
    const targets: string[] = [];
    for (const c of Array.isArray(state.Catch) ? state.Catch : []) {
      if (typeof c !== 'object' || c === null) continue;
      const { ErrorEquals: errors, Next: next } = c as { ErrorEquals?: unknown; Next?: unknown };
      if (Array.isArray(errors) && errors.includes('States.ALL') && typeof next === 'string')
        targets.push(next);
    }
    return targets;
  };
  const isPublish = (state: StateView | undefined) =>
    state?.Type === 'Task' && state.Resource === SNS_PUBLISH;
  const byName = new Map(entries);
  let notifier = false;
  for (const [, state] of entries) {
    if (isPublish(state)) continue;
    if (state.Type !== 'Task' && state.Type !== 'Map' && state.Type !== 'Parallel') continue;
    const targets = catchAllTargets(state);
    if (targets.length === 0) return false;
    if (targets.some((t) => isPublish(byName.get(t)))) notifier = true;
  }
  return notifier;
}

/**
 * Execution input of a scheduled run. The ETL's `MaintenanceChoice` skips its Athena
 * OPTIMIZE/VACUUM when `glueTableOptimizers` is true, i.e. when the stage's Glue table
 * optimizers already maintain the tables (maintenance runs once).
 */
export function scheduleInput(scheduleName: string, config: StageConfig): Record<string, unknown> {
  const input: Record<string, unknown> = { trigger: 'schedule', schedule: scheduleName };
  if (scheduleName === 'etl') input.glueTableOptimizers = config.icebergMaintenance.glueTableOptimizers;
  return input;
}

/** DynamoDB actions a task calls on a table (granted on that table and its indexes only). */
export type TableAction =
  | 'GetItem'
  | 'PutItem'
  | 'BatchWriteItem'
  | 'BatchGetItem'
  | 'Query'
  | 'UpdateItem'
  | 'DeleteItem';

/**
 * What one task Lambda's code calls, and so all it is granted (least privilege per function;
 * `test/infra/task-access.test.ts` lists each function's actions and resources).
 */
export interface TaskAccess {
  /** Lake prefixes whose objects it reads (`s3:GetObject*`, `s3:List*` under the prefix). */
  readonly lakeRead?: readonly string[];
  /** Lake prefixes it writes objects under (`s3:PutObject*`, no delete). */
  readonly lakePut?: readonly string[];
  /** Read-only Athena queries in the stage's workgroup (catalog read, warehouse read, results). */
  readonly athenaReadQueries?: boolean;
  /**
   * Lake tables (`namespace.table`) it writes with Athena INSERT/DELETE: Athena queries in the
   * workgroup, catalog read, `glue:UpdateTable` on those tables only (the Iceberg commit) and
   * warehouse read/write (no delete).
   */
  readonly athenaWriteTables?: readonly string[];
  readonly recommendations?: readonly TableAction[];
  readonly features?: readonly TableAction[];
}

/** Forecast models and outputs (`<lake root>/ml/forecast/`, forecast/context.ts). */
export const FORECAST_ARTIFACTS_PREFIX = 'ml/forecast/';

/**
 * Schedules of the demand-forecast machine (stage time zone): weekly training (which also
 * predicts) on Monday after the daily ETL, daily prediction on the other days.
 */
export const FORECAST_SCHEDULES = {
  'forecast-train': { expression: 'cron(0 5 ? * MON *)', mode: 'train' },
  'forecast-predict': { expression: 'cron(0 5 ? * TUE-SUN *)', mode: 'predict' },
} as const;

/** Model artifacts (`<lake root>/ml/models/`, training/context.ts `artifactsUri`). */
export const MODEL_ARTIFACTS_PREFIX = 'ml/models/';

/** Access of each task handler module (`lambdas/<group>/<file>.ts`), from what its code calls. */
export const TASK_ACCESS: Readonly<Record<string, TaskAccess>> = {
  /** Builds the run context from the execution input: no AWS call. */
  'etl/handler.ts': {},
  /** Validates the input, fixes version and SQL parameters: no AWS call. */
  'training/prepare.ts': {},
  /**
   * Reads the exported interactions / co-occurrence (Athena results), writes the candidate's
   * artifact, resolves table snapshots with Athena, reads the active pointer and registry and
   * writes the candidate's registry entry (RecommendationStore.get / putRegistryEntry).
   */
  'training/train.ts': {
    lakeRead: [LAKE_PREFIXES.athenaResults],
    lakePut: [MODEL_ARTIFACTS_PREFIX],
    athenaReadQueries: true,
    recommendations: ['GetItem', 'PutItem'],
  },
  /** Reads the artifact, writes the lists in batches and the registry entry. */
  'training/publish.ts': {
    lakeRead: [MODEL_ARTIFACTS_PREFIX],
    recommendations: ['GetItem', 'PutItem', 'BatchWriteItem'],
  },
  /** Reads the registry and active pointer, writes the pointer and the retired entry. */
  'training/activate.ts': { recommendations: ['GetItem', 'PutItem'] },
  /** Demand forecasting (docs/forecasting.md). Prepare: validates the input, no AWS call. */
  'forecast/prepare.ts': {},
  /** Writes the candidate's registry entry (kind demand-forecast). */
  'forecast/register.ts': { recommendations: ['PutItem'] },
  /** Reads the entry and pointer, writes the pointer and the entries' status. */
  'forecast/activate.ts': { recommendations: ['GetItem', 'PutItem'] },
  /** Reads the active pointer and its entry. */
  'forecast/resolve.ts': { recommendations: ['GetItem'] },
  /** Reads the model step's forecasts, replaces them in gold.demand_forecast through Athena. */
  'forecast/load.ts': { lakeRead: [FORECAST_ARTIFACTS_PREFIX], athenaWriteTables: ['gold.demand_forecast'] },
};

/** A task handler without a `TASK_ACCESS` entry: it would get no access, so synthesis stops. */
export class MissingTaskAccessError extends Error {
  constructor(readonly entry: string) {
    super(
      `lambdas/${entry} is a state machine task without an entry in TASK_ACCESS (infra/stacks/processing-stack.ts): declare what its code calls`,
    );
    this.name = 'MissingTaskAccessError';
  }
}

export interface ProcessingStackProps extends StackProps {
  readonly config: StageConfig;
  readonly storage: StorageStack;
  readonly recommendationsTable: dynamodb.ITable;
  readonly featuresTable: dynamodb.ITable;
}

/** A state machine placeholder nothing in the stack can resolve. */
export class UnresolvedSubstitutionError extends Error {
  constructor(
    readonly file: string,
    readonly keys: readonly string[],
    readonly known: readonly string[],
  ) {
    super(
      `step-functions/${file}.asl.json uses unknown substitution(s) ${keys.map((k) => `\${${k}}`).join(', ')}; known: ${known.join(', ')}`,
    );
    this.name = 'UnresolvedSubstitutionError';
  }
}

/** Memory and timeout of a state-machine task Lambda. */
export interface TaskSizing {
  readonly memorySize: number;
  readonly timeoutMinutes: number;
}

/** Default sizing of task Lambdas (they mostly start Athena queries or move small results). */
export const DEFAULT_TASK_SIZING: TaskSizing = { memorySize: 1024, timeoutMinutes: 5 };

/**
 * Tasks that need more: top-K + evaluation holds the co-occurrence matrix in memory; 1M
 * interactions peak at about 2 GB RSS and 5M at about 5 GB (`bench/reco.bench.ts`), so the
 * training task gets 4 GB (and the CPU share that comes with it) and Lambda's 15-minute limit.
 */
export const TASK_SIZING: Readonly<Record<string, TaskSizing>> = {
  'training/train.ts': { memorySize: 4096, timeoutMinutes: 15 },
};

function taskSizing(entry: string): TaskSizing {
  return TASK_SIZING[entry] ?? DEFAULT_TASK_SIZING;
}

export class ProcessingStack extends Stack {
  readonly notificationKey: kms.Key;
  readonly failureTopic: sns.Topic;
  /** The ETL run lease (one run at a time; `lambdas/etl/prepare-run.ts`). */
  readonly etlLeaseTable: dynamodb.Table;
  readonly stateMachines: Readonly<Record<string, sfn.StateMachine>>;
  readonly taskFunctions: Readonly<Record<string, ShoplakeFunction>>;
  /** Substitution values every state machine may use (besides `<Task>FunctionArn`). */
  substitutions: Readonly<Record<string, string>>;
  /** The demand-forecast model step (Python), when a definition references it. */
  forecastModelFunction?: ForecastModelFunction;
  /** The Glue extract jobs of the stage's batch sources (none without sources). */
  readonly extractJobs: SourceExtractJobs;

  constructor(scope: Construct, id: string, props: ProcessingStackProps) {
    super(scope, id, props);
    const { config, storage } = props;

    const notifications = serviceNotificationTopic(this, config, {
      keyId: 'NotificationKey',
      keyDescription: `shoplake ${config.stage} pipeline notifications`,
      topicId: 'FailureTopic',
      displayName: `shoplake ${config.stage} pipeline failures`,
      publisher: { service: 'events.amazonaws.com', sid: 'EventBridgePublishesToEncryptedTopic' },
    });
    this.notificationKey = notifications.key;
    this.failureTopic = notifications.topic;

    // One ETL run at a time: the state machine's AcquireLease puts the lock item conditionally.
    this.etlLeaseTable = new dynamodb.Table(this, 'EtlLeaseTable', {
      partitionKey: { name: 'lock_id', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.notificationKey,
      deletionProtection: !config.destroyOnRemoval,
      removalPolicy: dataRemovalPolicy(config),
    });

    this.extractJobs = new SourceExtractJobs(this, 'SourceExtract', {
      config,
      lakeBucket: storage.lakeBucket,
      lakeKey: storage.lakeKey,
      warehouseUri: storage.warehouseUri,
      bronzeDatabaseName: storage.catalog.databaseNames.bronze,
      opsDatabaseName: storage.catalog.databaseNames.ops,
    });
    const extractJobs = this.extractJobs.jobs;

    const lakeRoot = storage.lakeRootUri;
    const base: Record<string, string> = {
      AthenaWorkGroup: storage.workGroupName,
      LakeBucket: storage.lakeBucket.bucketName,
      LakeRootUri: lakeRoot,
      WarehouseUri: storage.warehouseUri,
      AthenaResultsUri: storage.lakeBucket.s3UrlForObject(LAKE_PREFIXES.athenaResults),
      LandingEventsUri: storage.lakeBucket.s3UrlForObject(LAKE_PREFIXES.landingEvents),
      RecommendationsTable: props.recommendationsTable.tableName,
      FeaturesTable: props.featuresTable.tableName,
      FailureTopicArn: this.failureTopic.topicArn,
      EtlLeaseTable: this.etlLeaseTable.tableName,
      GlueDatabasePrefix: DEFAULT_DATABASE_PREFIX,
    };
    // A source the stage has no job for: its extract state is skipped (PrepareRun's flag is false).
    for (const source of EXTRACT_SOURCES)
      base[EXTRACT_JOB_NAME_KEYS[source]] = extractJobs[source]?.job.jobName ?? NO_EXTRACT_JOB;
    for (const ns of NAMESPACES) base[`${pascalCase(ns)}Database`] = storage.catalog.databaseNames[ns];
    this.substitutions = base;

    // Task Lambdas: one per handler module a state machine references (`${<Name>FunctionArn}`).
    const files = stateMachineFiles();
    const referenced = new Set(files.flatMap((f) => f.substitutions));
    const candidates = taskLambdas();
    const byEntry = new Map<string, ShoplakeFunction>();
    const tasks: Record<string, ShoplakeFunction> = {};
    for (const [key, task] of Object.entries(candidates)) {
      if (!referenced.has(key)) continue;
      let fn = byEntry.get(task.entry);
      if (!fn) {
        fn = new ShoplakeFunction(this, `${pascalCase(task.group)}${task.name}Function`, {
          entry: task.entry,
          serviceName: `${task.group}-${task.name}`.toLowerCase(),
          description: `${task.group} task: lambdas/${task.entry}`,
          config,
          memorySize: taskSizing(task.entry).memorySize,
          timeout: Duration.minutes(taskSizing(task.entry).timeoutMinutes),
        });
        this.grantTaskAccess(task.entry, fn, props);
        byEntry.set(task.entry, fn);
      }
      tasks[key] = fn;
    }
    this.taskFunctions = tasks;
    // PrepareRun tells the state machine which sources' extract jobs to run.
    tasks[PREPARE_RUN_LAMBDA.key]?.addEnvironment(
      ETL_SOURCES_ENV,
      formatSourceFlags(sourceFlags(EXTRACT_SOURCES.filter((s) => extractJobs[s] !== undefined))),
    );

    // The forecast model step: a Python Lambda (not a TypeScript task), named like the others.
    if (referenced.has('ForecastModelFunctionArn')) {
      const model = new ForecastModelFunction(this, 'ForecastModelFunction', {
        config,
        environment: {
          LAKE_ROOT_URI: storage.lakeRootUri,
          FORECAST_ARTIFACTS_URI: `${storage.lakeRootUri.replace(/\/+$/, '')}/${FORECAST_ARTIFACTS_PREFIX}`,
        },
      });
      storage.lakeBucket.grantRead(model.function, `${LAKE_PREFIXES.athenaResults}*`);
      storage.lakeBucket.grantRead(model.function, `${FORECAST_ARTIFACTS_PREFIX}*`);
      storage.lakeBucket.grantPut(model.function, `${FORECAST_ARTIFACTS_PREFIX}*`);
      this.forecastModelFunction = model;
      this.substitutions = { ...this.substitutions, ForecastModelFunctionArn: model.function.functionArn };
    }

    const machines: Record<string, sfn.StateMachine> = {};
    for (const file of files) machines[file.name] = this.stateMachine(file, config, props);
    this.stateMachines = machines;
    // What `shoplake etl|train --stage` and operators start (docs/deploy.md#outputs).
    for (const [name, machine] of Object.entries(machines)) {
      new CfnOutput(this, `${pascalCase(name)}StateMachineArn`, {
        value: machine.stateMachineArn,
        description: `ARN of the ${name} state machine (step-functions/${name}.asl.json)`,
      });
    }
    for (const [source, extract] of Object.entries(extractJobs)) {
      new CfnOutput(this, `${pascalCase(source)}ExtractJobName`, {
        value: extract.job.jobName,
        description: `Glue job extracting the ${source} database into bronze`,
      });
    }
    const forecastMachine = machines.forecast;
    if (forecastMachine && this.forecastModelFunction)
      this.forecastModelFunction.function.grantInvoke(forecastMachine);

    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': this.account } },
      }),
      description: 'EventBridge Scheduler: start the ETL and training state machines',
    });
    for (const [scheduleName, machineName] of Object.entries(SCHEDULED_STATE_MACHINES)) {
      const machine = machines[machineName];
      if (!machine) continue;
      const expression = scheduleName === 'etl' ? config.schedules.etl : config.schedules.training;
      new scheduler.Schedule(this, `${pascalCase(scheduleName)}Schedule`, {
        description: `shoplake ${config.stage}: start ${machineName}`,
        schedule: scheduler.ScheduleExpression.expression(expression, TimeZone.of(config.schedules.timeZone)),
        target: new schedulerTargets.StepFunctionsStartExecution(machine, {
          role: scheduleRole,
          input: scheduler.ScheduleTargetInput.fromObject(scheduleInput(scheduleName, config)),
          retryAttempts: 3,
          maxEventAge: Duration.hours(1),
        }),
      });
    }
    if (forecastMachine) {
      for (const [name, s] of Object.entries(FORECAST_SCHEDULES)) {
        new scheduler.Schedule(this, `${pascalCase(name)}Schedule`, {
          description: `shoplake ${config.stage}: forecast (${s.mode})`,
          schedule: scheduler.ScheduleExpression.expression(
            s.expression,
            TimeZone.of(config.schedules.timeZone),
          ),
          target: new schedulerTargets.StepFunctionsStartExecution(forecastMachine, {
            role: scheduleRole,
            input: scheduler.ScheduleTargetInput.fromObject({
              trigger: 'schedule',
              schedule: name,
              mode: s.mode,
            }),
            retryAttempts: 3,
            maxEventAge: Duration.hours(1),
          }),
        });
      }
    }

    const selfNotifying = new Set(
      files.filter((f) => notifiesOwnFailures(JSON.parse(f.text))).map((f) => f.name),
    );
    const allArns = Object.values(machines).map((m) => m.stateMachineArn);
    if (allArns.length > 0) {
      new events.Rule(this, 'ExecutionTimeoutAbortRule', {
        description: 'State machine executions that timed out or were aborted (no Catch can notify these)',
        eventPattern: {
          source: ['aws.states'],
          detailType: ['Step Functions Execution Status Change'],
          detail: { status: [...UNCATCHABLE_FAILURE_STATUSES], stateMachineArn: allArns },
        },
        targets: [new eventTargets.SnsTopic(this.failureTopic)],
      });
    }
    const etlMachine = machines[SCHEDULED_STATE_MACHINES.etl];
    if (etlMachine) {
      // Executions that end without their own release states (timeout, abort) free the lease.
      const release = new ShoplakeFunction(this, 'EtlReleaseLeaseFunction', {
        entry: 'etl/release-lease.ts',
        serviceName: 'etl-release-lease',
        description: 'Releases the ETL run lease of a timed-out, aborted or failed execution',
        config,
        memorySize: DEFAULT_TASK_SIZING.memorySize,
        environment: { ETL_LEASE_TABLE_NAME: this.etlLeaseTable.tableName },
      });
      this.etlLeaseTable.grant(release.function, 'dynamodb:DeleteItem');
      new events.Rule(this, 'EtlLeaseReleaseRule', {
        description: 'ETL executions that ended without releasing their run lease',
        eventPattern: {
          source: ['aws.states'],
          detailType: ['Step Functions Execution Status Change'],
          detail: {
            status: ['FAILED', ...UNCATCHABLE_FAILURE_STATUSES],
            stateMachineArn: [etlMachine.stateMachineArn],
          },
        },
        targets: [new eventTargets.LambdaFunction(release.function, { retryAttempts: 8 })],
      });
    }

    const failedArns = Object.entries(machines)
      .filter(([name]) => !selfNotifying.has(name))
      .map(([, m]) => m.stateMachineArn);
    if (failedArns.length > 0) {
      new events.Rule(this, 'ExecutionFailedRule', {
        description: 'Failed executions of state machines that do not notify their own failures',
        eventPattern: {
          source: ['aws.states'],
          detailType: ['Step Functions Execution Status Change'],
          detail: { status: ['FAILED'], stateMachineArn: failedArns },
        },
        targets: [new eventTargets.SnsTopic(this.failureTopic)],
      });
    }
  }

  /**
   * The access one task Lambda's own code needs (`TASK_ACCESS[entry]`), nothing more; the
   * environment names the resources for every task (names are not privileges).
   */
  private grantTaskAccess(entry: string, fn: ShoplakeFunction, props: ProcessingStackProps): void {
    const { storage } = props;
    fn.addEnvironment('LAKE_BUCKET', storage.lakeBucket.bucketName);
    fn.addEnvironment('LAKE_ROOT_URI', storage.lakeRootUri);
    fn.addEnvironment('ATHENA_WORKGROUP', storage.workGroupName);
    fn.addEnvironment('GLUE_DATABASE_PREFIX', DEFAULT_DATABASE_PREFIX);
    for (const ns of NAMESPACES)
      fn.addEnvironment(`GLUE_DATABASE_${ns.toUpperCase()}`, storage.catalog.databaseNames[ns]);
    fn.addEnvironment('RECOMMENDATIONS_TABLE_NAME', props.recommendationsTable.tableName);
    fn.addEnvironment('FEATURES_TABLE_NAME', props.featuresTable.tableName);

    const access = TASK_ACCESS[entry];
    if (!access) throw new MissingTaskAccessError(entry);
    for (const prefix of access.lakeRead ?? []) storage.lakeBucket.grantRead(fn.function, `${prefix}*`);
    for (const prefix of access.lakePut ?? []) storage.lakeBucket.grantPut(fn.function, `${prefix}*`);
    if (access.athenaWriteTables && access.athenaWriteTables.length > 0) {
      this.grantAthena(fn.role, storage, { readOnly: true });
      iam.Grant.addToPrincipal({
        grantee: fn.role,
        actions: ['glue:UpdateTable'],
        resourceArns: [
          this.formatArn({ service: 'glue', resource: 'catalog' }),
          ...access.athenaWriteTables.map((t) => {
            const [ns, name] = t.split('.') as [Namespace, string];
            return this.formatArn({
              service: 'glue',
              resource: 'table',
              resourceName: `${storage.catalog.databaseNames[ns]}/${name}`,
            });
          }),
          ...access.athenaWriteTables.map((t) =>
            this.formatArn({
              service: 'glue',
              resource: 'database',
              resourceName: storage.catalog.databaseNames[t.split('.')[0] as Namespace],
            }),
          ),
        ],
      });
      storage.lakeKey.grantEncryptDecrypt(fn.role);
      storage.lakeBucket.grantRead(fn.function, `${LAKE_PREFIXES.warehouse}*`);
      storage.lakeBucket.grantPut(fn.function, `${LAKE_PREFIXES.warehouse}*`);
      storage.lakeBucket.grantRead(fn.function, `${LAKE_PREFIXES.athenaResults}*`);
      storage.lakeBucket.grantPut(fn.function, `${LAKE_PREFIXES.athenaResults}*`);
    }
    if (access.athenaReadQueries) {
      // Athena runs the query with the caller's rights: catalog and table files read, results
      // written and read back under the workgroup's output location.
      this.grantAthena(fn.role, storage, { readOnly: true });
      storage.lakeBucket.grantRead(fn.function, `${LAKE_PREFIXES.warehouse}*`);
      storage.lakeBucket.grantRead(fn.function, `${LAKE_PREFIXES.athenaResults}*`);
      storage.lakeBucket.grantPut(fn.function, `${LAKE_PREFIXES.athenaResults}*`);
    }
    const tables = [
      [props.recommendationsTable, access.recommendations],
      [props.featuresTable, access.features],
    ] as const;
    for (const [table, actions] of tables) {
      if (!actions || actions.length === 0) continue;
      table.grant(fn.function, ...actions.map((a) => `dynamodb:${a}`));
      table.encryptionKey?.grantEncryptDecrypt(fn.function);
    }
  }

  /**
   * Athena queries in the stage's workgroup over the shoplake Glue databases. The state
   * machines run the ETL and training SQL (tables created, replaced, dropped); a read-only
   * grantee only starts, polls and reads queries and reads the catalog.
   */
  private grantAthena(
    grantee: iam.IGrantable,
    storage: StorageStack,
    options: { readOnly: boolean } = { readOnly: false },
  ): void {
    const workGroupArn = this.formatArn({
      service: 'athena',
      resource: 'workgroup',
      resourceName: storage.workGroupName,
    });
    const queries = ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults'];
    iam.Grant.addToPrincipal({
      grantee,
      actions: options.readOnly
        ? queries
        : [
            ...queries,
            'athena:StopQueryExecution',
            'athena:GetWorkGroup',
            'athena:GetNamedQuery',
            'athena:BatchGetNamedQuery',
            'athena:ListNamedQueries',
          ],
      resourceArns: [workGroupArn],
    });
    const catalog = this.formatArn({ service: 'glue', resource: 'catalog' });
    const tableArns = Object.values(storage.catalog.databaseNames).map((db) =>
      this.formatArn({ service: 'glue', resource: 'table', resourceName: `${db}/*` }),
    );
    if (options.readOnly) {
      // What Athena checks for a SELECT: the database, then the table.
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['glue:GetDatabase'],
        resourceArns: [catalog, ...storage.catalog.databaseArns],
      });
      iam.Grant.addToPrincipal({
        grantee,
        actions: ['glue:GetTable'],
        resourceArns: [catalog, ...storage.catalog.databaseArns, ...tableArns],
      });
    } else {
      iam.Grant.addToPrincipal({
        grantee,
        actions: [
          'glue:GetDatabase',
          'glue:GetDatabases',
          'glue:GetTable',
          'glue:GetTables',
          'glue:GetPartition',
          'glue:GetPartitions',
          'glue:BatchGetPartition',
          'glue:CreateTable',
          'glue:UpdateTable',
          'glue:DeleteTable',
        ],
        resourceArns: [catalog, ...storage.catalog.databaseArns, ...tableArns],
      });
    }
    if (options.readOnly) storage.lakeKey.grantDecrypt(grantee);
    else storage.lakeKey.grantEncryptDecrypt(grantee);
  }

  private stateMachine(
    file: StateMachineFile,
    config: StageConfig,
    props: ProcessingStackProps,
  ): sfn.StateMachine {
    const values: Record<string, string> = {};
    const unknown: string[] = [];
    const invoked: ShoplakeFunction[] = [];
    for (const key of file.substitutions) {
      const task = this.taskFunctions[key];
      if (task) {
        values[key] = task.function.functionArn;
        invoked.push(task);
        continue;
      }
      if (key.startsWith('Sql_')) {
        values[key] = sqlSubstitution(key);
        continue;
      }
      const value = this.substitutions[key];
      if (value === undefined) unknown.push(key);
      else values[key] = value;
    }
    if (unknown.length > 0) {
      throw new UnresolvedSubstitutionError(
        file.name,
        unknown,
        [...Object.keys(this.substitutions), ...Object.keys(this.taskFunctions)].sort(),
      );
    }
    const id = `${pascalCase(file.name)}StateMachine`;
    const logGroup = stageLogGroup(this, `${id}Logs`, config);
    const machine = new sfn.StateMachine(this, id, {
      definitionBody: sfn.DefinitionBody.fromFile(file.path),
      definitionSubstitutions: values,
      stateMachineType: sfn.StateMachineType.STANDARD,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
      timeout: Duration.hours(6),
      comment: `step-functions/${file.name}.asl.json`,
    });
    for (const task of new Set(invoked)) task.function.grantInvoke(machine);
    this.grantAthena(machine, props.storage);
    props.storage.lakeBucket.grantReadWrite(machine);
    // Iceberg maintenance (VACUUM) run by the ETL deletes expired files in the warehouse.
    props.storage.lakeBucket.grantDelete(machine, `${LAKE_PREFIXES.warehouse}*`);
    this.failureTopic.grantPublish(machine);
    // `glue:startJobRun.sync` on the extract jobs this machine names, and on nothing else.
    const jobArns = EXTRACT_SOURCES.filter((s) => file.substitutions.includes(EXTRACT_JOB_NAME_KEYS[s]))
      .map((s) => this.extractJobs.jobs[s]?.job.jobArn)
      .filter((arn): arn is string => arn !== undefined);
    if (jobArns.length > 0) {
      iam.Grant.addToPrincipal({
        grantee: machine,
        actions: ['glue:StartJobRun', 'glue:GetJobRun', 'glue:GetJobRuns', 'glue:BatchStopJobRun'],
        resourceArns: jobArns,
      });
    }
    if (file.substitutions.includes('EtlLeaseTable')) {
      this.etlLeaseTable.grant(machine, 'dynamodb:PutItem', 'dynamodb:DeleteItem');
    }
    return machine;
  }
}

/**
 * `${Sql_<file>}`: the text of `athena/<file>.sql` as Athena runs it (namespaces qualified with
 * the Glue database prefix, `:name` parameters positional), JSON-escaped because the
 * substitution lands inside a JSON string — computed by the ETL's own definition module.
 */
export function sqlSubstitution(key: string): string {
  const { sql } = athenaStatementOfFile(sqlFileOfKey(key), DEFAULT_DATABASE_PREFIX);
  return JSON.stringify(sql).slice(1, -1);
}
