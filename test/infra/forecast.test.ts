/**
 * Demand forecasting on AWS: the forecast state machine from step-functions/forecast.asl.json,
 * the Python 3.12 ARM64 model-step Lambda, its access, and the weekly-train / daily-predict
 * schedules.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  aarch64PipArgs,
  FORECAST_BUNDLE_MB,
  FORECAST_MODEL_MEMORY_MB,
} from '../../infra/constructs/forecast-model-function.ts';
import { FORECAST_SCHEDULES } from '../../infra/stacks/processing-stack.ts';
import { resourcesOfType, synth } from './helpers.ts';

const app = synth({ stage: 'dev' });

describe('forecast state machine', () => {
  const machine = resourcesOfType(app, 'AWS::StepFunctions::StateMachine').find((m) =>
    m.logicalId.startsWith('ForecastStateMachine'),
  );

  it('is deployed from forecast.asl.json with every task resolved', () => {
    expect(machine).toBeDefined();
    const subs = machine?.properties.DefinitionSubstitutions as Record<string, unknown>;
    const keys = [...readFileSync('step-functions/forecast.asl.json', 'utf8').matchAll(/\$\{(\w+)\}/g)].map(
      (m) => m[1],
    );
    for (const k of new Set(keys)) expect(subs[k as string], k).toBeDefined();
    expect(JSON.stringify(subs.ForecastModelFunctionArn)).toMatch(/ForecastModelFunction/);
    expect(JSON.stringify(subs.ForecastLoadFunctionArn)).toMatch(/ForecastLoadFunction/);
    expect(String(subs.Sql_forecast_history_export)).toContain('shoplake_gold.demand_features');
  });

  it('runs the model step as a Python 3.12 ARM64 Lambda with room to train', () => {
    const fn = resourcesOfType(app, 'AWS::Lambda::Function').find((f) =>
      f.logicalId.startsWith('ForecastModelFunction'),
    );
    expect(fn?.properties).toMatchObject({
      Runtime: 'python3.12',
      Architectures: ['arm64'],
      Handler: 'shoplake_forecast.handler.handler',
      MemorySize: FORECAST_MODEL_MEMORY_MB,
      Timeout: 900,
      TracingConfig: { Mode: 'Active' },
    });
    const env =
      (fn?.properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(env.OMP_WAIT_POLICY).toBe('PASSIVE');
    expect(env.FORECAST_ARTIFACTS_URI).toBeDefined();
    // Bundled from aarch64 CPython 3.12 wheels (no Docker), and it fits Lambda's 250 MB.
    expect(aarch64PipArgs('/out')).toEqual(
      expect.arrayContaining([
        '--platform',
        'manylinux2014_aarch64',
        '--only-binary=:all:',
        '--python-version',
        '3.12',
      ]),
    );
    expect(FORECAST_BUNDLE_MB).toBeLessThan(250);
  });

  it('lets the state machine invoke the model step, and the model step only its lake prefixes', () => {
    const policies = resourcesOfType(app, 'AWS::IAM::Policy');
    const text = JSON.stringify(policies.map((p) => p.properties));
    expect(text).toMatch(/ForecastModelFunction[A-Za-z0-9]*\.Arn|ForecastModelFunction/);
    const model = policies.filter((p) => String(p.logicalId).startsWith('ForecastModelFunctionRole'));
    const statements = JSON.stringify(model.map((p) => p.properties.PolicyDocument));
    expect(statements).toContain('ml/forecast/*');
    expect(statements).toContain('athena-results/*');
    expect(statements).not.toMatch(/s3:DeleteObject|dynamodb:|glue:/);
  });

  it('trains weekly and predicts daily on schedules in the stage time zone', () => {
    const schedules = resourcesOfType(app, 'AWS::Scheduler::Schedule').filter((s) =>
      JSON.stringify(s.properties.Target).includes('ForecastStateMachine'),
    );
    expect(schedules.map((s) => s.properties.ScheduleExpression).sort()).toEqual(
      Object.values(FORECAST_SCHEDULES)
        .map((s) => s.expression)
        .sort(),
    );
    for (const s of schedules) {
      expect(s.properties.ScheduleExpressionTimezone).toBe(app.config.schedules.timeZone);
      const input = JSON.parse((s.properties.Target as { Input: string }).Input) as { mode: string };
      expect(['train', 'predict']).toContain(input.mode);
    }
  });
});
