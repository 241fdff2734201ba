/**
 * Generates the ETL state machine (`step-functions/etl.asl.json`) from the step list of
 * `steps.ts`: one Task per step with the shared retry policy and a catch-all into the
 * failure notification, result reads and the quality-gate choice where a step asks for them,
 * a source-flag choice before each Glue extract job, independent steps in `Parallel` states,
 * then Iceberg maintenance.
 *
 * `npm run generate:etl` writes the file; `test/unit/asl-etl-generated.test.ts` fails when the
 * committed file differs from `generateEtlDefinitionText()`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ETL_DEFINITION_PATH, sqlStatementParameters } from './definition.ts';
import { ETL_LEASE_ID } from './prepare-run.ts';
import { ETL_STEPS, type EtlStep, type GlueStep, type LambdaStep, type SqlStep } from './steps.ts';

type Json = Record<string, unknown>;

const ATHENA_SYNC = 'arn:aws:states:::athena:startQueryExecution.sync';
const ATHENA_RESULTS = 'arn:aws:states:::athena:getQueryResults';
const LAMBDA_INVOKE = 'arn:aws:states:::lambda:invoke';
const SNS_PUBLISH = 'arn:aws:states:::sns:publish';
const DYNAMODB_PUT = 'arn:aws:states:::dynamodb:putItem';
const DYNAMODB_DELETE = 'arn:aws:states:::dynamodb:deleteItem';
/** Glue job run, waited for until it ends (the processing stack grants it on the extract jobs only). */
export const GLUE_START_JOB_RUN_SYNC = 'arn:aws:states:::glue:startJobRun.sync';

/** Substitution key of the lease table's name. */
export const LEASE_TABLE_KEY = 'EtlLeaseTable';
/** Error of the lease put when another run holds an unexpired lease. */
export const LEASE_HELD_ERROR = 'DynamoDB.ConditionalCheckFailedException';

/** Retry policy of the lease calls (throttling and transient DynamoDB errors only). */
export const DYNAMODB_RETRY: readonly Json[] = [
  {
    ErrorEquals: [
      'DynamoDB.ProvisionedThroughputExceededException',
      'DynamoDB.RequestLimitExceeded',
      'DynamoDB.ThrottlingException',
      'DynamoDB.InternalServerErrorException',
    ],
    IntervalSeconds: 1,
    MaxAttempts: 5,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
];

/** The one retry policy of every Athena task. */
export const ATHENA_RETRY: readonly Json[] = [
  {
    ErrorEquals: ['Athena.TooManyRequestsException', 'Athena.InternalServerException'],
    IntervalSeconds: 5,
    MaxAttempts: 5,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
  { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 10, MaxAttempts: 2, BackoffRate: 2 },
];

/** Retry policy of task Lambdas (transient Lambda service errors only). */
export const LAMBDA_RETRY: readonly Json[] = [
  {
    ErrorEquals: [
      'Lambda.ServiceException',
      'Lambda.AWSLambdaException',
      'Lambda.SdkClientException',
      'Lambda.TooManyRequestsException',
    ],
    IntervalSeconds: 2,
    MaxAttempts: 3,
    BackoffRate: 2,
  },
];

/**
 * Retry policy of the Glue extract jobs: the start call's transient errors (a run of the
 * previous execution still finishing, throttling, Glue-side errors) with backoff, and a failed
 * run once more after a minute (a dropped database connection); a second failure notifies.
 */
export const GLUE_RETRY: readonly Json[] = [
  {
    ErrorEquals: [
      'Glue.ConcurrentRunsExceededException',
      'Glue.ThrottlingException',
      'Glue.InternalServiceException',
      'Glue.OperationTimeoutException',
    ],
    IntervalSeconds: 30,
    MaxAttempts: 4,
    BackoffRate: 2,
    JitterStrategy: 'FULL',
  },
  { ErrorEquals: ['States.TaskFailed'], IntervalSeconds: 60, MaxAttempts: 1, BackoffRate: 2 },
];

/** Athena query timeout of one task. */
export const TASK_TIMEOUT_SECONDS = 3600;
/**
 * Timeout of a Glue extract job state: the longest job timeout a stage may configure (300
 * minutes, infra/config/stage-config.ts) plus 10 minutes of queueing and start-up. Explicit,
 * since a Task state without one is bounded by nothing on AWS and by 60 s in the local runner.
 */
export const GLUE_TASK_TIMEOUT_SECONDS = 300 * 60 + 600;
/** Whole-execution timeout (the processing stack sets the same). */
export const EXECUTION_TIMEOUT_SECONDS = 21_600;

const NOTIFY_FAILURE = 'NotifyFailure';

/** `${Key}`: a definition substitution (resolved by CDK, or by the local runner). */
function placeholder(key: string): string {
  return `\${${key}}`;
}
const CATCH_ALL: readonly Json[] = [
  { ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: NOTIFY_FAILURE },
];

export class EtlStepListError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EtlStepListError';
  }
}

/** A block of the pipeline: one step, or parallel branches each being a sequence of blocks. */
type Block = { step: EtlStep } | { parallel: string; branches: Block[][] };

function validate(steps: readonly EtlStep[]): void {
  const names = new Set<string>();
  for (const s of steps) {
    if (!/^[A-Z][A-Za-z0-9]*$/.test(s.name))
      throw new EtlStepListError(`step name ${s.name} is not PascalCase`);
    if (names.has(s.name)) throw new EtlStepListError(`step ${s.name} appears twice`);
    for (const d of s.dependsOn) {
      if (!names.has(d))
        throw new EtlStepListError(`step ${s.name} depends on ${d}, which is not listed before it`);
    }
    names.add(s.name);
    if (s.kind === 'sql') {
      const used = sqlStatementParameters(`${s.sql}.sql`);
      const declared = [...new Set(s.params)].sort();
      const actual = [...new Set(used)].sort();
      if (declared.join(',') !== actual.join(',')) {
        throw new EtlStepListError(
          `step ${s.name}: athena/${s.sql}.sql uses parameters [${actual.join(', ')}], the step declares [${declared.join(', ')}]`,
        );
      }
      if (s.gate && !s.results) throw new EtlStepListError(`step ${s.name}: a gate needs results`);
      if (s.skipWhenIdle && !s.results)
        throw new EtlStepListError(`step ${s.name}: skipWhenIdle needs results`);
    }
  }
  const skips = steps.filter((s): s is SqlStep => s.kind === 'sql' && s.skipWhenIdle !== undefined);
  if (skips.length > 1) throw new EtlStepListError('only one step may declare skipWhenIdle');
  for (const s of skips) {
    const to = s.skipWhenIdle?.to ?? '';
    const target = steps.find((x) => x.name === to);
    if (!target || steps.indexOf(target) <= steps.indexOf(s))
      throw new EtlStepListError(`step ${s.name}: skipWhenIdle jumps to ${to}, which is not a later step`);
  }
}

/** The Choice condition of the idle skip: the first result column is `column` and is true. */
function idleCondition(step: SqlStep): Json {
  const path = step.results?.path ?? '';
  return {
    And: [
      { Variable: `${path}.Rows[0].Data[0].VarCharValue`, IsPresent: true },
      { Variable: `${path}.Rows[0].Data[0].VarCharValue`, StringEquals: step.skipWhenIdle?.column },
      { Variable: `${path}.Rows[1].Data[0].VarCharValue`, IsPresent: true },
      { Variable: `${path}.Rows[1].Data[0].VarCharValue`, StringEquals: 'true' },
    ],
  };
}

/** Transitive dependencies of each step. */
function ancestors(steps: readonly EtlStep[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const s of steps) {
    const set = new Set<string>();
    for (const d of s.dependsOn) {
      set.add(d);
      for (const a of out.get(d) ?? []) set.add(a);
    }
    out.set(s.name, set);
  }
  return out;
}

/** `GoldDailySales`, `GoldTopProductsDelete` → `Gold`: the shared leading word(s). */
function commonPrefix(names: readonly string[]): string {
  const words = names.map((n) => n.match(/[A-Z][a-z0-9]*/g) ?? []);
  const first = words[0] ?? [];
  let k = 0;
  while (k < first.length && words.every((w) => w[k] === first[k])) k++;
  return first.slice(0, k).join('');
}

/**
 * Orders the steps into blocks: while steps remain, the ready ones (every dependency done)
 * start one branch each; a branch grows with the steps that depend only on done steps and on
 * that branch. One branch is a plain sequence; several become a `Parallel` block.
 */
function plan(steps: readonly EtlStep[], done: Set<string> = new Set()): Block[] {
  const anc = ancestors(steps);
  const remaining = steps.filter((s) => !done.has(s.name));
  const blocks: Block[] = [];
  let parallelCount = 0;
  while (remaining.length > 0) {
    const ready = remaining.filter((s) => s.dependsOn.every((d) => done.has(d)));
    if (ready.length === 0) throw new EtlStepListError('the steps have a dependency cycle');
    if (ready.length === 1) {
      const [step] = ready as [EtlStep];
      blocks.push({ step });
      done.add(step.name);
      remaining.splice(remaining.indexOf(step), 1);
      continue;
    }
    const branches: EtlStep[][] = ready.map((r) => [r]);
    const taken = new Set(ready.map((r) => r.name));
    let grew = true;
    while (grew) {
      grew = false;
      for (const s of remaining) {
        if (taken.has(s.name)) continue;
        const own = branches.filter((b) => b.some((x) => anc.get(s.name)?.has(x.name)));
        if (own.length !== 1) continue;
        const branch = own[0] as EtlStep[];
        const inBranch = new Set(branch.map((x) => x.name));
        if (!s.dependsOn.every((d) => done.has(d) || inBranch.has(d))) continue;
        branch.push(s);
        taken.add(s.name);
        grew = true;
      }
    }
    const name = `${commonPrefix(ready.map((r) => r.name)) || `Parallel${++parallelCount}`}Steps`;
    blocks.push({ parallel: name, branches: branches.map((b) => b.map((step) => ({ step }))) });
    for (const b of branches) for (const s of b) done.add(s.name);
    for (const s of branches.flat()) remaining.splice(remaining.indexOf(s), 1);
  }
  return blocks;
}

function sqlKey(step: SqlStep): string {
  return `Sql_${step.sql}`;
}

/** Writes the states of one step; returns the name of its first state. */
function emitStep(step: EtlStep, next: string | null, states: Json, topLevel: boolean): string {
  const tail = (state: Json, to: string | null): Json =>
    to === null ? { ...state, End: true } : { ...state, Next: to };
  const catching = topLevel ? { Catch: CATCH_ALL } : {};
  if (step.kind === 'lease') {
    states[step.name] = tail(
      {
        Type: 'Task',
        ...(step.comment ? { Comment: step.comment } : {}),
        Resource: DYNAMODB_PUT,
        Parameters: {
          TableName: placeholder(LEASE_TABLE_KEY),
          Item: {
            lock_id: { S: ETL_LEASE_ID },
            run_id: { 'S.$': '$.run.lease.owner' },
            execution_id: { 'S.$': '$$.Execution.Id' },
            acquired_at: { 'S.$': '$.run.lease.acquired_at' },
            expires_at: { 'S.$': '$.run.lease.expires_at' },
          },
          ConditionExpression: 'attribute_not_exists(lock_id) OR expires_at < :now',
          ExpressionAttributeValues: { ':now': { 'S.$': '$.run.lease.acquired_at' } },
        },
        ResultPath: null,
        Retry: DYNAMODB_RETRY,
        Catch: [
          { ErrorEquals: [LEASE_HELD_ERROR], ResultPath: '$.lease_error', Next: 'LeaseHeld' },
          ...CATCH_ALL,
        ],
      },
      next,
    );
    states.LeaseHeld = {
      Type: 'Pass',
      Comment: 'Another run holds an unexpired lease: this execution ends cleanly, having written nothing',
      Parameters: { status: 'skipped', reason: 'skipped: another run holds the lease' },
      ResultPath: '$.skipped',
      Next: 'Skipped',
    };
    states.Skipped = { Type: 'Succeed' };
    return step.name;
  }
  if (step.kind === 'glue') return emitGlueStep(step, next, states, catching);
  if (step.kind === 'lambda') {
    const s: LambdaStep = step;
    states[s.name] = tail(
      {
        Type: 'Task',
        ...(s.comment ? { Comment: s.comment } : {}),
        Resource: LAMBDA_INVOKE,
        Parameters: { FunctionName: `\${${s.lambda.key}}`, Payload: s.payload },
        ResultSelector: Object.fromEntries(s.resultFields.map((f) => [`${f}.$`, `$.Payload.${f}`])),
        ResultPath: s.resultPath,
        Retry: LAMBDA_RETRY,
        ...catching,
      },
      next,
    );
    return s.name;
  }
  const params = sqlStatementParameters(`${step.sql}.sql`);
  const parameters: Json = {
    QueryString: `\${${sqlKey(step)}}`,
    WorkGroup: placeholder('AthenaWorkGroup'),
    ...(params.length > 0
      ? { 'ExecutionParameters.$': `States.Array(${params.map((p) => `$.run.sql.${p}`).join(', ')})` }
      : {}),
  };
  const task: Json = {
    Type: 'Task',
    Comment: step.comment ?? `athena/${step.sql}.sql`,
    Resource: ATHENA_SYNC,
    Parameters: parameters,
    TimeoutSeconds: TASK_TIMEOUT_SECONDS,
  };
  if (!step.results) {
    states[step.name] = tail({ ...task, ResultPath: null, Retry: ATHENA_RETRY, ...catching }, next);
    return step.name;
  }
  const { results } = step;
  let afterResults = next;
  if (step.gate) {
    afterResults = `${step.name}Choice`;
  }
  if (step.skipWhenIdle) {
    afterResults = `${step.name}IdleChoice`;
    states[afterResults] = {
      Type: 'Choice',
      Comment: `Idle: nothing new since the last completed run and nothing pending (column ${step.skipWhenIdle.column} of athena/${step.sql}.sql): skip to ${step.skipWhenIdle.to}`,
      Choices: [{ ...idleCondition(step), Next: step.skipWhenIdle.to }],
      ...(next === null ? {} : { Default: next }),
    };
  }
  states[step.name] = {
    ...task,
    ResultSelector: { 'QueryExecutionId.$': '$.QueryExecution.QueryExecutionId' },
    ResultPath: results.queryPath,
    Retry: ATHENA_RETRY,
    ...catching,
    Next: results.state,
  };
  states[results.state] = tail(
    {
      Type: 'Task',
      Resource: ATHENA_RESULTS,
      Parameters: { 'QueryExecutionId.$': `${results.queryPath}.QueryExecutionId` },
      ResultSelector: { 'Rows.$': '$.ResultSet.Rows' },
      ResultPath: results.path,
      Retry: ATHENA_RETRY,
      ...catching,
    },
    afterResults,
  );
  if (step.gate) {
    const failed = `${step.name}Failed`;
    states[`${step.name}Choice`] = {
      Type: 'Choice',
      Comment: 'Row 0 is the header: a second row is a failed blocking check',
      Choices: [{ Variable: `${results.path}.Rows[1]`, IsPresent: true, Next: failed }],
      ...(next === null ? {} : { Default: next }),
    };
    states[failed] = {
      Type: 'Pass',
      Parameters: {
        Error: step.gate.error,
        Cause: step.gate.cause,
        'FailedChecks.$': `${results.path}.Rows`,
      },
      ResultPath: '$.error',
      Next: NOTIFY_FAILURE,
    };
  }
  return step.name;
}

/** Where a Glue step keeps its job run (`$.extract_oltp`). */
export function glueResultPath(step: Pick<GlueStep, 'source'>): string {
  return `$.extract_${step.source}`;
}

/**
 * A Glue extract step: a Choice on PrepareRun's flag of the source, the job run (waited for),
 * or a Pass recording that the stage has no such source. Returns the Choice's name.
 */
function emitGlueStep(step: GlueStep, next: string | null, states: Json, catching: Json): string {
  const tail = (state: Json): Json => (next === null ? { ...state, End: true } : { ...state, Next: next });
  const flag = `$.run.sources.${step.source}`;
  const choice = `${step.name}Choice`;
  const skipped = `${step.name}Skipped`;
  states[choice] = {
    Type: 'Choice',
    Comment: `Runs the ${step.source} extract job only when the stage configures the ${step.source} source (PrepareRun's sources.${step.source})`,
    Choices: [
      {
        And: [
          { Variable: flag, IsPresent: true },
          { Variable: flag, BooleanEquals: true },
        ],
        Next: step.name,
      },
    ],
    Default: skipped,
  };
  states[skipped] = tail({
    Type: 'Pass',
    Comment: `The stage has no ${step.source} source: no job to run`,
    Parameters: { JobRunState: 'SKIPPED', reason: `no ${step.source} source in this stage` },
    ResultPath: glueResultPath(step),
  });
  states[step.name] = tail({
    Type: 'Task',
    ...(step.comment ? { Comment: step.comment } : {}),
    Resource: GLUE_START_JOB_RUN_SYNC,
    Parameters: { JobName: placeholder(step.jobNameKey), Arguments: step.arguments },
    ResultSelector: { 'JobRunId.$': '$.Id', 'JobName.$': '$.JobName', 'JobRunState.$': '$.JobRunState' },
    ResultPath: glueResultPath(step),
    TimeoutSeconds: GLUE_TASK_TIMEOUT_SECONDS,
    Retry: GLUE_RETRY,
    ...catching,
  });
  return choice;
}

/** Writes a sequence of blocks ending in `next`; returns the first state's name. */
function emitBlocks(blocks: readonly Block[], next: string | null, states: Json, topLevel: boolean): string {
  let to = next;
  for (let i = blocks.length - 1; i >= 0; i--) {
    const block = blocks[i] as Block;
    if ('step' in block) {
      to = emitStep(block.step, to, states, topLevel);
      continue;
    }
    const branches = block.branches.map((branch) => {
      const inner: Json = {};
      const start = emitBlocks(branch, null, inner, false);
      return { StartAt: start, States: ordered(inner, stateOrder(branch)) };
    });
    const parallel: Json = {
      Type: 'Parallel',
      Comment: `independent steps: ${block.branches.map((b) => b.map((x) => ('step' in x ? x.step.name : x.parallel)).join(' → ')).join(' | ')}`,
      Branches: branches,
      ResultPath: null,
      ...(topLevel ? { Catch: CATCH_ALL } : {}),
    };
    states[block.parallel] = to === null ? { ...parallel, End: true } : { ...parallel, Next: to };
    to = block.parallel;
  }
  if (to === null) throw new EtlStepListError('empty step sequence');
  return to;
}

/** State names of blocks in the order the pipeline runs them (emitBlocks writes back to front). */
function stateOrder(blocks: readonly Block[]): string[] {
  const order: string[] = [];
  for (const b of blocks) {
    if (!('step' in b)) {
      order.push(b.parallel);
      continue;
    }
    const s = b.step;
    if (s.kind === 'glue') {
      order.push(`${s.name}Choice`, s.name, `${s.name}Skipped`);
      continue;
    }
    order.push(b.step.name);
    if (s.kind === 'lease') order.push('LeaseHeld', 'Skipped');
    if (s.kind === 'sql' && s.results) {
      order.push(s.results.state);
      if (s.gate) order.push(`${s.name}Choice`, `${s.name}Failed`);
      if (s.skipWhenIdle) order.push(`${s.name}IdleChoice`);
    }
  }
  return order;
}

/** Deletes the lock item, only if this execution holds it. */
function releaseState(extra: Json): Json {
  return {
    Type: 'Task',
    Resource: DYNAMODB_DELETE,
    Parameters: {
      TableName: placeholder(LEASE_TABLE_KEY),
      // a constant key: the release works even when the run failed before PrepareRun's output
      Key: { lock_id: { S: ETL_LEASE_ID } },
      ConditionExpression: 'execution_id = :execution',
      ExpressionAttributeValues: { ':execution': { 'S.$': '$$.Execution.Id' } },
    },
    ResultPath: null,
    Retry: DYNAMODB_RETRY,
    ...extra,
  };
}

/** Reorders an object's keys as `first`, then the rest in insertion order. */
function ordered(states: Json, first: readonly string[]): Json {
  const out: Json = {};
  for (const k of first) if (k in states) out[k] = states[k];
  for (const [k, v] of Object.entries(states)) if (!(k in out)) out[k] = v;
  return out;
}

/** The ETL state machine for a step list (placeholders unresolved). */
export function generateEtlDefinition(steps: readonly EtlStep[] = ETL_STEPS): Json {
  validate(steps);
  const blocks = plan(steps);
  const generated: Json = {};
  const startAt = emitBlocks(blocks, 'MaintenanceChoice', generated, true);
  const leased = steps.some((s) => s.kind === 'lease');
  const release = leased ? 'ReleaseLease' : 'Succeeded';
  const idleStep = steps.find((s): s is SqlStep => s.kind === 'sql' && s.skipWhenIdle !== undefined);
  const states: Json = {
    ...ordered(generated, stateOrder(blocks)),
    MaintenanceChoice: {
      Type: 'Choice',
      Comment:
        'Iceberg maintenance runs once: when the deployed stage enables Glue table optimizers its schedule passes glueTableOptimizers=true and Glue compacts/expires; otherwise (local runs, stages without optimizers) OPTIMIZE/VACUUM run here',
      Choices: [
        ...(idleStep ? [{ ...idleCondition(idleStep), Next: 'MaintenanceSkippedIdle' }] : []),
        {
          And: [
            { Variable: '$.glueTableOptimizers', IsPresent: true },
            { Variable: '$.glueTableOptimizers', BooleanEquals: true },
          ],
          Next: 'MaintenanceByGlueOptimizers',
        },
      ],
      Default: 'Maintenance',
    },
    ...(idleStep
      ? {
          MaintenanceSkippedIdle: {
            Type: 'Pass',
            Comment:
              'An idle run wrote no data: the tables are as the last run that did work left (and maintained) them',
            Next: release,
          },
        }
      : {}),
    MaintenanceByGlueOptimizers: {
      Type: 'Pass',
      Comment:
        'Glue table optimizers (compaction, snapshot retention, orphan-file deletion) maintain the tables',
      Next: release,
    },
    Maintenance: {
      Type: 'Map',
      Comment: 'Iceberg maintenance: bin-pack small files, expire old snapshots',
      ItemsPath: '$.run.maintenance_tables',
      MaxConcurrency: 2,
      ItemSelector: { 'table.$': '$$.Map.Item.Value' },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'Optimize',
        States: {
          Optimize: {
            Type: 'Task',
            Resource: ATHENA_SYNC,
            Parameters: {
              'QueryString.$': "States.Format('OPTIMIZE {} REWRITE DATA USING BIN_PACK', $.table)",
              WorkGroup: placeholder('AthenaWorkGroup'),
            },
            TimeoutSeconds: TASK_TIMEOUT_SECONDS,
            ResultPath: null,
            Retry: ATHENA_RETRY,
            Next: 'Vacuum',
          },
          Vacuum: {
            Type: 'Task',
            Resource: ATHENA_SYNC,
            Parameters: {
              'QueryString.$': "States.Format('VACUUM {}', $.table)",
              WorkGroup: placeholder('AthenaWorkGroup'),
            },
            TimeoutSeconds: TASK_TIMEOUT_SECONDS,
            ResultPath: null,
            Retry: ATHENA_RETRY,
            End: true,
          },
        },
      },
      ResultPath: null,
      Catch: [
        { ErrorEquals: ['States.ALL'], ResultPath: '$.maintenance_error', Next: 'NotifyMaintenanceSkipped' },
      ],
      Next: release,
    },
    NotifyMaintenanceSkipped: {
      Type: 'Task',
      Resource: SNS_PUBLISH,
      Parameters: {
        TopicArn: placeholder('FailureTopicArn'),
        Subject: 'shoplake ETL: maintenance failed (data is committed)',
        'Message.$': 'States.JsonToString($.maintenance_error)',
      },
      ResultPath: null,
      Next: release,
    },
    ...(leased
      ? {
          ReleaseLease: releaseState({ Catch: CATCH_ALL, Next: 'Succeeded' }),
        }
      : {}),
    Succeeded: { Type: 'Succeed' },
    [NOTIFY_FAILURE]: {
      Type: 'Task',
      Resource: SNS_PUBLISH,
      Parameters: {
        TopicArn: placeholder('FailureTopicArn'),
        Subject: 'shoplake ETL failed',
        'Message.$': 'States.JsonToString($.error)',
      },
      ResultPath: null,
      Next: leased ? 'ReleaseLeaseAfterFailure' : 'EtlFailed',
    },
    ...(leased
      ? {
          ReleaseLeaseAfterFailure: releaseState({
            Comment:
              'Releases the lease if this run holds it (a run that failed before acquiring it does not: the condition fails and is ignored)',
            Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.release_error', Next: 'EtlFailed' }],
            Next: 'EtlFailed',
          }),
        }
      : {}),
    EtlFailed: {
      Type: 'Fail',
      Error: 'EtlFailed',
      Cause: 'An ETL step or the data-quality gate failed; the SNS notification carries the details.',
    },
  };
  return {
    Comment:
      'GENERATED by lambdas/etl/asl.ts from lambdas/etl/steps.ts (npm run generate:etl) - do not edit. shoplake batch ETL: Glue extract jobs of the stage sources -> extract summary -> silver -> data-quality gate -> gold -> Iceberg maintenance. SQL: athena/etl_*.sql, one Sql_<file> substitution per task.',
    StartAt: startAt,
    TimeoutSeconds: EXECUTION_TIMEOUT_SECONDS,
    States: states,
  };
}

/** The file text `step-functions/etl.asl.json` must have. */
export function generateEtlDefinitionText(steps: readonly EtlStep[] = ETL_STEPS): string {
  return `${JSON.stringify(generateEtlDefinition(steps), null, 2)}\n`;
}

/** `tsx lambdas/etl/asl.ts [--check]`: writes the definition, or checks it is current. */
function main(argv: readonly string[]): number {
  const text = generateEtlDefinitionText();
  const current = readFileSync(ETL_DEFINITION_PATH, 'utf8');
  if (argv.includes('--check')) {
    if (current === text) return 0;
    console.error('step-functions/etl.asl.json is out of date: run `npm run generate:etl`');
    return 1;
  }
  if (current !== text) writeFileSync(ETL_DEFINITION_PATH, text);
  console.log(`step-functions/etl.asl.json ${current === text ? 'unchanged' : 'written'}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = main(process.argv.slice(2));
}
