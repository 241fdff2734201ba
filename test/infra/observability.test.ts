/** Observability: dashboard covers the pipeline; alarms notify an encrypted SNS topic. */
import { describe, expect, it } from 'vitest';
import { resourcesOfType, synth } from './helpers.ts';

const app = synth({ stage: 'dev' });

/** Metric name and statistic of an alarm, in either the plain or the `Metrics` (labelled) form. */
function metricOf(alarm: Record<string, unknown>): { name: string; stat: string | undefined } {
  if (typeof alarm.MetricName === 'string') {
    return { name: alarm.MetricName, stat: String(alarm.ExtendedStatistic ?? alarm.Statistic) };
  }
  const first = (
    alarm.Metrics as { MetricStat?: { Metric: { MetricName: string }; Stat: string } }[] | undefined
  )?.[0];
  return { name: first?.MetricStat?.Metric.MetricName ?? '', stat: first?.MetricStat?.Stat };
}

describe('dashboard', () => {
  it('shows ingest rate, iterator age, consumer errors, DLQ depth, API p99 and 4xx/5xx, ETL outcomes', () => {
    const dashboards = resourcesOfType(app, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.properties.DashboardBody);
    for (const metric of [
      'IncomingRecords',
      'IteratorAge',
      'ApproximateNumberOfMessagesVisible',
      'Latency',
      'p99',
      '4XXError',
      '5XXError',
      'Errors',
      'ExecutionsFailed',
      'ExecutionsSucceeded',
    ]) {
      expect(body, metric).toContain(metric);
    }
  });
});

describe('alarms', () => {
  const alarms = resourcesOfType(app, 'AWS::CloudWatch::Alarm');

  it('covers iterator age, the on-failure queue, API latency and 5xx, Lambda errors and state machines', () => {
    const metrics = alarms.map((a) => metricOf(a.properties).name);
    for (const m of [
      'IteratorAge',
      'ApproximateNumberOfMessagesVisible',
      'Latency',
      '5XXError',
      'Errors',
      'ExecutionsFailed',
      'ExecutionsTimedOut',
    ]) {
      expect(metrics, m).toContain(m);
    }
    const latency = alarms.find((a) => metricOf(a.properties).name === 'Latency');
    expect(metricOf(latency?.properties ?? {}).stat).toBe('p99');
    expect(latency?.properties.Threshold).toBe(app.config.alarms.apiP99LatencyMs);
    const age = alarms.find((a) => metricOf(a.properties).name === 'IteratorAge');
    expect(age?.properties.Threshold).toBe(app.config.alarms.iteratorAgeMs);
  });

  it('sends every alarm and recovery to the encrypted alarm topic', () => {
    const topic = resourcesOfType(app, 'AWS::SNS::Topic').find((t) => t.logicalId.startsWith('AlarmTopic'));
    expect(topic?.properties.KmsMasterKeyId).toBeDefined();
    for (const a of alarms) {
      expect(a.properties.AlarmActions, a.logicalId).toEqual([{ Ref: topic?.logicalId }]);
      expect(a.properties.OKActions, a.logicalId).toEqual([{ Ref: topic?.logicalId }]);
    }
  });

  it('lets CloudWatch use the topic key', () => {
    const key = resourcesOfType(app, 'AWS::KMS::Key').find((k) => k.logicalId.startsWith('AlarmKey'));
    expect(JSON.stringify(key?.properties.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
  });
});

describe('cost model assumptions match the app', () => {
  it('counts the same KMS keys, alarms, dashboards and Iceberg tables as the synthesized app', async () => {
    const { DEFAULT_ASSUMPTIONS } = await import('../../infra/cost/model.ts');
    const { TABLES } = await import('../../lambdas/shared/catalog/index.ts');
    expect(resourcesOfType(app, 'AWS::KMS::Key')).toHaveLength(DEFAULT_ASSUMPTIONS.kmsKeys);
    expect(resourcesOfType(app, 'AWS::CloudWatch::Alarm')).toHaveLength(DEFAULT_ASSUMPTIONS.alarms);
    expect(resourcesOfType(app, 'AWS::CloudWatch::Dashboard')).toHaveLength(DEFAULT_ASSUMPTIONS.dashboards);
    expect(TABLES.length).toBe(DEFAULT_ASSUMPTIONS.icebergTables);
  });
});

describe('handler metrics on the dashboard', () => {
  it('uses metric names the handlers still emit', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { HANDLER_METRICS } = await import('../../infra/stacks/observability-stack.ts');
    const { REPO_ROOT } = await import('../../infra/constructs/paths.ts');
    for (const group of Object.values(HANDLER_METRICS)) {
      const source = readFileSync(join(REPO_ROOT, group.source), 'utf8');
      for (const name of group.names) expect(source, `${group.source} ${name}`).toContain(`'${name}'`);
    }
    const body = JSON.stringify(
      resourcesOfType(app, 'AWS::CloudWatch::Dashboard')[0]?.properties.DashboardBody,
    );
    expect(body).toContain('EventsRejected');
    expect(body).toContain('RecordsDuplicate');
  });
});
