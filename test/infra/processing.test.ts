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
  FAILURE_STATUSES,
  SCHEDULED_STATE_MACHINES,
  sqlSubstitution,
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
      const text = readFileSync(file.path, 'utf8');
      const raw = aslValidator(JSON.parse(text));
      expect(raw.isValid, raw.errorsText()).toBe(true);
      const substituted = aslValidator(standIn(text));
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
    expect(subs.AthenaWorkgroup).toBe('shoplake-dev');
    expect(JSON.stringify(subs.PrepareRunFunctionArn)).toMatch(/EtlPrepareRunFunction/);
  });

  it('schedules ETL daily and training weekly in the stage time zone', () => {
    const schedules = resourcesOfType(app, 'AWS::Scheduler::Schedule');
    const expected = Object.entries(SCHEDULED_STATE_MACHINES).filter(([, machine]) =>
      files.some((f) => f.name === machine),
    );
    expect(schedules).toHaveLength(expected.length);
    for (const [name] of expected) {
      const cron = name === 'etl' ? app.config.schedules.etl : app.config.schedules.training;
      expect(schedules.map((s) => s.properties.ScheduleExpression)).toContain(cron);
    }
    for (const s of schedules)
      expect(s.properties.ScheduleExpressionTimezone).toBe(app.config.schedules.timeZone);
  });

  it('notifies the failure topic of failed, timed-out and aborted executions', () => {
    const rules = resourcesOfType(app, 'AWS::Events::Rule');
    const failure = rules.find((r) =>
      JSON.stringify(r.properties.EventPattern).includes('Step Functions Execution Status Change'),
    );
    expect(
      (failure?.properties.EventPattern as { detail: { status: string[] } } | undefined)?.detail.status,
    ).toEqual([...FAILURE_STATUSES]);
    expect(JSON.stringify(failure?.properties.Targets)).toContain('FailureTopic');
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
