/** Stage configuration: typed stages, clear errors at synth, context overrides, BI toggle. */
import { describe, expect, it } from 'vitest';
import {
  resolveStageConfig,
  STAGES,
  StageConfigError,
  validateStageConfig,
} from '../../infra/config/index.ts';
import { synthesizeApp } from '../../infra/synth.ts';
import { QUICKSIGHT_PRINCIPAL, synth } from './helpers.ts';

describe('stage configuration', () => {
  it('validates every shipped stage', () => {
    for (const [name, config] of Object.entries(STAGES))
      expect(validateStageConfig(name, config)).toEqual(config);
    expect(Object.keys(STAGES).sort()).toEqual(['dev', 'prod']);
  });

  it('keeps data on removal in every shipped stage', () => {
    for (const config of Object.values(STAGES)) expect(config.destroyOnRemoval).toBe(false);
  });

  it('rejects an unknown stage naming the known ones', () => {
    expect(() => resolveStageConfig((k) => (k === 'stage' ? 'staging' : undefined))).toThrow(
      StageConfigError,
    );
    expect(() => synthesizeApp({ stage: 'staging' })).toThrow(/unknown stage; pass -c stage=<dev\|prod>/);
  });

  it('names every invalid field', () => {
    const bad = { ...STAGES.dev, logRetentionDays: 13, athena: { bytesScannedCutoffPerQuery: 5 } };
    try {
      validateStageConfig('dev', bad);
      expect.unreachable('validation must fail');
    } catch (error: unknown) {
      expect(error).toBeInstanceOf(StageConfigError);
      const message = error instanceof Error ? error.message : '';
      expect(message).toContain('invalid stage configuration "dev"');
      expect(message).toContain('logRetentionDays');
      expect(message).toContain('athena.bytesScannedCutoffPerQuery');
    }
  });

  it('rejects a malformed QuickSight principal and destroyOnRemoval value from context', () => {
    expect(() => synthesizeApp({ context: { quicksightPrincipalArn: 'analyst' } })).toThrow(
      /quicksightPrincipalArn/,
    );
    expect(() => synthesizeApp({ context: { destroyOnRemoval: 'yes' } })).toThrow(/destroyOnRemoval/);
  });

  it('deploys a separately named copy of a stage with stageSuffix', () => {
    const ctx = (values: Record<string, string>) => (k: string) => values[k];
    const copy = resolveStageConfig(ctx({ stage: 'dev', stageSuffix: 'e2e-k3j9x' }));
    expect(copy.stage).toBe('dev-e2e-k3j9x');
    expect({ ...copy, stage: 'dev' }).toEqual(STAGES.dev);
    expect(() => resolveStageConfig(ctx({ stage: 'dev', stageSuffix: 'Has Spaces' }))).toThrow(/stage/);
    expect(() => resolveStageConfig(ctx({ stage: 'dev', stageSuffix: 'x'.repeat(20) }))).toThrow(
      StageConfigError,
    );
  });
});

describe('BI stack toggle', () => {
  it('is absent without a QuickSight principal', () => {
    const app = synth({ stage: 'dev' });
    expect(app.templates.Bi).toBeUndefined();
    expect(app.stacks.bi).toBeUndefined();
  });

  it('is created, owned by the principal, when one is configured', () => {
    const app = synth({ stage: 'dev', context: { quicksightPrincipalArn: QUICKSIGHT_PRINCIPAL } });
    const bi = app.templates.Bi;
    expect(bi).toBeDefined();
    const resources = Object.values(bi?.Resources ?? {});
    const dataSource = resources.find((r) => r.Type === 'AWS::QuickSight::DataSource');
    expect(dataSource?.Properties).toMatchObject({
      Type: 'ATHENA',
      DataSourceParameters: { AthenaParameters: { WorkGroup: 'shoplake-dev' } },
    });
    const dataSets = resources.filter((r) => r.Type === 'AWS::QuickSight::DataSet');
    expect(dataSets.length).toBeGreaterThanOrEqual(5);
    const dashboard = resources.find((r) => r.Type === 'AWS::QuickSight::Dashboard');
    expect(JSON.stringify(dashboard?.Properties)).toContain('Monthly business');
    for (const r of [dataSource, dashboard, ...dataSets]) {
      expect(JSON.stringify(r?.Properties)).toContain(QUICKSIGHT_PRINCIPAL);
    }
  });
});
