/**
 * Processing: every step-functions/*.asl.json is a valid state machine (asl-validator) and is
 * deployed from its file with every substitution resolved; schedules, task Lambdas and failure
 * notifications.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { pascalCase, stateMachineFiles } from '../../infra/constructs/state-machine-files.ts';
import {
  DEFAULT_TASK_SIZING,
  FORECAST_SCHEDULES,
  notifiesOwnFailures,
  SCHEDULED_STATE_MACHINES,
  sqlSubstitution,
  UNCATCHABLE_FAILURE_STATUSES,
} from '../../infra/stacks/processing-stack.ts';
import { resourcesOfType, synth } from './helpers.ts';

interface AslValidation {
  isValid: boolean;
  errorsText(separator?: string): string;
}
const aslValidator = createRequire(import.meta.url)('asl-validator') as (
  definition: unknown,
) => AslValidation;

const app = synth({ stage: 'dev' });
const files = stateMachineFiles();

/** A definition with every `${Key}` replaced by a well-formed stand-in of its kind. */
function standIn(text: string): unknown {
  const replaced = text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_whole, key: string) => {
    if (key.startsWith('Sql_')) return sqlSubstitution(key);
    if (key.endsWith('FunctionArn')) return 'arn:aws:lambda:us-east-1:123456789012:function:stand-in';
    if (key.endsWith('TopicArn')) return 'arn:aws:sns:us-east-1:123456789012:stand-in';
    return 'stand-in';
  });
  return JSON.parse(replaced);
}

describe('state machine definitions (asl-validator)', () => {
  it('finds the ETL definition', () => {
    expect(files.map((f) => f.name)).toContain('etl');
  });

  for (const file of files) {
    it(`${file.name}.asl.json is valid ASL as written and once substituted`, () => {
      const raw = aslValidator(JSON.parse(file.text));
      expect(raw.isValid, raw.errorsText()).toBe(true);
      const substituted = aslValidator(standIn(file.text));
      expect(substituted.isValid, substituted.errorsText()).toBe(true);
    });
  }

  it('rejects a broken definition (the validator can fail)', () => {
    const result = aslValidator({ StartAt: 'Missing', States: { A: { Type: 'Pass', Next: 'Nowhere' } } });
    expect(result.isValid).toBe(false);
  });
});

describe('deployed state machines', () => {
  const machines = resourcesOfType(app, 'AWS::StepFunctions::StateMachine');

  it('creates one state machine per definition file, from the file, with every substitution', () => {
    expect(machines).toHaveLength(files.length);
    for (const file of files) {
      const machine = machines.find((m) => m.logicalId.startsWith(`${pascalCase(file.name)}StateMachine`));
      expect(machine, file.name).toBeDefined();
      const p = machine?.properties ?? {};
      expect(Object.keys((p.DefinitionSubstitutions as Record<string, unknown>) ?? {}).sort()).toEqual(
        [...file.substitutions].sort(),
      );
      // DefinitionBody.fromFile ships the file unchanged as an asset; CloudFormation substitutes.
      expect(p.DefinitionString).toBeUndefined();
      expect(p.DefinitionS3Location).toMatchObject({
        Bucket: expect.anything(),
        Key: expect.stringMatching(/\.json$/),
      });
      expect(p.TracingConfiguration).toEqual({ Enabled: true });
      expect(p.LoggingConfiguration).toMatchObject({ Level: 'ALL', IncludeExecutionData: false });
    }
  });

  it('passes the ETL its SQL as Athena runs it, qualified with the Glue databases', () => {
    const etl = machines.find((m) => m.logicalId.startsWith('EtlStateMachine'));
    const subs = etl?.properties.DefinitionSubstitutions as Record<string, unknown>;
    expect(subs.Sql_etl_11_silver_events).toBe(sqlSubstitution('Sql_etl_11_silver_events'));
    expect(String(subs.Sql_etl_11_silver_events)).toContain('shoplake_silver.events');
    const code = String(subs.Sql_etl_11_silver_events)
      .split('\\n')
      .filter((line) => !line.trimStart().startsWith('--'))
      .join('\n');
    expect(code).not.toContain(':run_id');
    expect(code).toContain('?');
    expect(subs.AthenaWorkGroup).toBe('shoplake-dev');
    expect(JSON.stringify(subs.PrepareRunFunctionArn)).toMatch(/EtlPrepareRunFunction/);
  });

  it('schedules ETL daily and training weekly in the stage time zone', () => {
    const schedules = resourcesOfType(app, 'AWS::Scheduler::Schedule');
    const expected = Object.entries(SCHEDULED_STATE_MACHINES).filter(([, machine]) =>
      files.some((f) => f.name === machine),
    );
    expect(schedules).toHaveLength(expected.length + Object.keys(FORECAST_SCHEDULES).length);
    for (const [name] of expected) {
      const cron = name === 'etl' ? app.config.schedules.etl : app.config.schedules.training;
      expect(schedules.map((s) => s.properties.ScheduleExpression)).toContain(cron);
    }
    for (const s of schedules)
      expect(s.properties.ScheduleExpressionTimezone).toBe(app.config.schedules.timeZone);
  });

  it('notifies each failure once: ETL FAILED in the machine, TIMED_OUT/ABORTED by EventBridge', () => {
    const statusRules = resourcesOfType(app, 'AWS::Events::Rule').filter((r) =>
      JSON.stringify(r.properties.EventPattern).includes('Step Functions Execution Status Change'),
    );
    // Notification rules target the failure topic; the lease-release rule targets a Lambda.
    const rules = statusRules.filter((r) => JSON.stringify(r.properties.Targets).includes('FailureTopic'));
    const release = statusRules.filter((r) => String(r.logicalId).startsWith('EtlLeaseReleaseRule'));
    expect(release).toHaveLength(1);
    expect(JSON.stringify(release[0]?.properties.Targets)).toContain('EtlReleaseLeaseFunction');
    expect(
      (release[0]?.properties.EventPattern as { detail?: { status?: string[] } } | undefined)?.detail?.status,
    ).toEqual(['FAILED', 'TIMED_OUT', 'ABORTED']);
    const machines = resourcesOfType(app, 'AWS::StepFunctions::StateMachine');
    const machineId = (name: string) => {
      const m = machines.find((x) => x.logicalId.startsWith(`${pascalCase(name)}StateMachine`));
      if (!m) throw new Error(`no state machine ${name}`);
      return m.logicalId;
    };
    type Pattern = { detail: { status: string[]; stateMachineArn: { Ref: string }[] } };
    const patternOf = (status: string) =>
      rules
        .map((r) => r.properties.EventPattern as Pattern)
        .filter((p) => p.detail.status.includes(status))
        .map((p) => p.detail.stateMachineArn.map((a) => a.Ref));

    // The ETL definition notifies its own failures (NotifyFailure), the training one does not.
    const etl = JSON.parse(readFileSync('step-functions/etl.asl.json', 'utf8')) as unknown;
    const train = JSON.parse(readFileSync('step-functions/train.asl.json', 'utf8')) as unknown;
    expect(notifiesOwnFailures(etl)).toBe(true);
    expect(notifiesOwnFailures(train)).toBe(false);

    expect(patternOf('TIMED_OUT').map((ids) => [...ids].sort())).toEqual([
      [machineId('etl'), machineId('forecast'), machineId('train')].sort(),
    ]);
    expect(patternOf('ABORTED')).toEqual(patternOf('TIMED_OUT'));
    const timeoutRule = rules.find((r) =>
      (r.properties.EventPattern as Pattern).detail.status.includes('TIMED_OUT'),
    );
    expect((timeoutRule?.properties.EventPattern as Pattern | undefined)?.detail.status).toEqual([
      ...UNCATCHABLE_FAILURE_STATUSES,
    ]);
    // FAILED: only for the machine that cannot notify itself; never for the ETL.
    expect(patternOf('FAILED').map((ids) => [...ids].sort())).toEqual([
      [machineId('forecast'), machineId('train')].sort(),
    ]);
    for (const r of rules) expect(JSON.stringify(r.properties.Targets)).toContain('FailureTopic');
  });

  it('recognises a self-notifying definition only when every task catches into an SNS publish', () => {
    const publish = { Type: 'Task', Resource: 'arn:aws:states:::sns:publish', End: true };
    const catchAll = [{ ErrorEquals: ['States.ALL'], Next: 'Notify' }];
    const work = { Type: 'Task', Resource: 'arn:aws:states:::lambda:invoke', End: true };

    expect(notifiesOwnFailures({ States: { A: { ...work, Catch: catchAll }, Notify: publish } })).toBe(true);
    expect(
      notifiesOwnFailures({
        States: { A: { ...work, Catch: catchAll }, B: work, Notify: publish },
      }),
    ).toBe(false);
    expect(
      notifiesOwnFailures({
        States: {
          A: { ...work, Catch: [{ ErrorEquals: ['States.TaskFailed'], Next: 'Notify' }] },
          Notify: publish,
        },
      }),
    ).toBe(false);
    expect(
      notifiesOwnFailures({
        States: { A: { ...work, Catch: catchAll }, Notify: { Type: 'Pass', End: true } },
      }),
    ).toBe(false);
  });

  it('runs Iceberg maintenance once: the ETL schedule tells the ETL whether Glue optimizers maintain the tables', () => {
    const scheduleInputOf = (synthesized: typeof app) => {
      const etl = resourcesOfType(synthesized, 'AWS::Scheduler::Schedule').find(
        (s) => s.properties.ScheduleExpression === synthesized.config.schedules.etl,
      );
      const target = etl?.properties.Target as { Input?: string } | undefined;
      return JSON.parse(target?.Input ?? 'null') as unknown;
    };
    // dev maintains its tables from the ETL (cost option); -c glueTableOptimizers=true turns them on.
    const withOptimizers = synth({ stage: 'dev', context: { glueTableOptimizers: 'true' } });
    const withoutOptimizers = app;

    expect(withOptimizers.config.icebergMaintenance.glueTableOptimizers).toBe(true);
    expect(scheduleInputOf(withOptimizers)).toEqual({
      trigger: 'schedule',
      schedule: 'etl',
      glueTableOptimizers: true,
    });
    expect(resourcesOfType(withOptimizers, 'AWS::Glue::TableOptimizer').length).toBeGreaterThan(0);

    expect(withoutOptimizers.config.icebergMaintenance.glueTableOptimizers).toBe(false);
    expect(scheduleInputOf(withoutOptimizers)).toEqual({
      trigger: 'schedule',
      schedule: 'etl',
      glueTableOptimizers: false,
    });
    expect(resourcesOfType(withoutOptimizers, 'AWS::Glue::TableOptimizer')).toHaveLength(0);
    // The training schedule carries no maintenance flag.
    const training = resourcesOfType(app, 'AWS::Scheduler::Schedule').find(
      (s) => s.properties.ScheduleExpression === app.config.schedules.training,
    );
    const trainingTarget = training?.properties.Target as { Input?: string } | undefined;
    expect(JSON.parse(trainingTarget?.Input ?? 'null')).toEqual({
      trigger: 'schedule',
      schedule: 'training',
    });
  });

  it('gives task Lambdas the lake, Athena workgroup and Glue databases', () => {
    const tasks = resourcesOfType(app, 'AWS::Lambda::Function').filter((f) =>
      String(f.properties.Description).includes(' task: lambdas/'),
    );
    expect(tasks.length).toBeGreaterThan(0);
    for (const t of tasks) {
      const env = (t.properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.ATHENA_WORKGROUP).toBe('shoplake-dev');
      expect(env.GLUE_DATABASE_SILVER).toBe('shoplake_silver');
      expect(env.GLUE_DATABASE_PREFIX).toBe('shoplake_');
      expect(env.LAKE_ROOT_URI).toBeDefined();
    }
  });
});

describe('ETL run lease', () => {
  it('frees the lease of an ETL execution that failed, timed out or was aborted (EventBridge → Lambda)', () => {
    const rule = resourcesOfType(app, 'AWS::Events::Rule').find((r) =>
      r.logicalId.startsWith('EtlLeaseReleaseRule'),
    );
    type Pattern = { detail: { status: string[]; stateMachineArn: { Ref: string }[] } };
    const pattern = rule?.properties.EventPattern as Pattern | undefined;
    expect([...(pattern?.detail.status ?? [])].sort()).toEqual(['ABORTED', 'FAILED', 'TIMED_OUT']);
    expect(pattern?.detail.stateMachineArn.map((a) => a.Ref)).toEqual([
      expect.stringMatching(/^EtlStateMachine/),
    ]);
    const targets = rule?.properties.Targets as { Arn: { 'Fn::GetAtt': [string, string] } }[] | undefined;
    expect(targets?.map((t) => t.Arn['Fn::GetAtt'][0])).toEqual([
      expect.stringMatching(/^EtlReleaseLeaseFunction/),
    ]);
  });
});

describe('task Lambda sizing', () => {
  it('gives the training task 4 GB and 15 minutes, other tasks the default', () => {
    const functions = resourcesOfType(app, 'AWS::Lambda::Function').filter((f) =>
      f.stack.includes('Processing'),
    );
    const train = functions.filter((f) => String(f.logicalId).startsWith('TrainingTrainFunction'));
    expect(train).toHaveLength(1);
    expect(train[0]?.properties.MemorySize).toBe(4096);
    expect(train[0]?.properties.Timeout).toBe(900);
    const others = functions.filter(
      (f) =>
        !String(f.logicalId).startsWith('TrainingTrainFunction') &&
        // Not a task: the EventBridge target that frees the ETL lease keeps the Lambda default.
        !String(f.logicalId).startsWith('EtlReleaseLeaseFunction') &&
        // The Python forecast model step has its own sizing (test/infra/forecast.test.ts).
        !String(f.logicalId).startsWith('ForecastModelFunction') &&
        f.properties.MemorySize !== undefined,
    );
    expect(others.length).toBeGreaterThan(0);
    for (const f of others) expect(f.properties.MemorySize).toBe(DEFAULT_TASK_SIZING.memorySize);
  });
});
