/**
 * Observability: one CloudWatch dashboard for the whole pipeline (ingest rate, consumer
 * iterator age and errors, on-failure queue depth, API p99 latency and 4xx/5xx, ETL and
 * training outcomes) and alarms that notify an encrypted SNS topic.
 */
import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.ts';
import { serviceNotificationTopic } from '../constructs/secure-defaults.ts';
import { METRICS_NAMESPACE, type ShoplakeFunction } from '../constructs/shoplake-function.ts';
import { pascalCase } from '../constructs/state-machine-files.ts';
import type { ApiStack } from './api-stack.ts';
import type { IngestionStack } from './ingestion-stack.ts';
import type { ProcessingStack } from './processing-stack.ts';
import type { ServingStack } from './serving-stack.ts';

/** Period of every dashboard metric and alarm. */
export const METRIC_PERIOD = Duration.minutes(5);

/**
 * Powertools metrics the handlers emit (namespace `METRICS_NAMESPACE`, dimension `service` =
 * the function's POWERTOOLS_SERVICE_NAME). An infra test checks each name still appears in the
 * handler's source.
 */
export const HANDLER_METRICS = {
  ingest: {
    service: 'ingest',
    source: 'lambdas/ingest/ingest.ts',
    names: ['EventsAccepted', 'EventsRejected', 'EventsFailed'],
  },
  consumer: {
    service: 'stream-consumer',
    source: 'lambdas/stream-consumer/consumer.ts',
    names: ['RecordsAccepted', 'RecordsDuplicate', 'RecordsRejected', 'BatchFailures'],
  },
} as const;

export interface ObservabilityStackProps extends StackProps {
  readonly config: StageConfig;
  readonly ingestion: IngestionStack;
  readonly serving: ServingStack;
  readonly api: ApiStack;
  readonly processing: ProcessingStack;
}

export class ObservabilityStack extends Stack {
  readonly alarmKey: kms.Key;
  readonly alarmTopic: sns.Topic;
  readonly dashboard: cloudwatch.Dashboard;
  readonly alarms: readonly cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: ObservabilityStackProps) {
    super(scope, id, props);
    const { config, ingestion, serving, api, processing } = props;

    const notifications = serviceNotificationTopic(this, config, {
      keyId: 'AlarmKey',
      keyDescription: `shoplake ${config.stage} alarm notifications`,
      topicId: 'AlarmTopic',
      displayName: `shoplake ${config.stage} alarms`,
      publisher: { service: 'cloudwatch.amazonaws.com', sid: 'CloudWatchAlarmsPublishToEncryptedTopic' },
    });
    this.alarmKey = notifications.key;
    this.alarmTopic = notifications.topic;
    const action = new cwActions.SnsAction(this.alarmTopic);
    const alarms: cloudwatch.Alarm[] = [];
    const alarm = (alarmId: string, metric: cloudwatch.IMetric, threshold: number, description: string) => {
      const a = new cloudwatch.Alarm(this, alarmId, {
        metric,
        threshold,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(action);
      a.addOkAction(action);
      alarms.push(a);
      return a;
    };

    const stream = ingestion.eventsStream;
    const incoming = stream.metricIncomingRecords({
      period: METRIC_PERIOD,
      statistic: 'Sum',
      label: 'records in',
    });
    const iteratorAge = ingestion.consumerFunction.function.metric('IteratorAge', {
      period: METRIC_PERIOD,
      statistic: 'Maximum',
      label: 'consumer iterator age (ms)',
    });
    const dlqDepth = ingestion.consumerFailureQueue.metricApproximateNumberOfMessagesVisible({
      period: METRIC_PERIOD,
      statistic: 'Maximum',
      label: 'failed batches waiting',
    });
    const restApi = api.api;
    const latencyP99 = restApi.metricLatency({
      period: METRIC_PERIOD,
      statistic: 'p99',
      label: 'p99 latency (ms)',
    });
    const clientErrors = restApi.metricClientError({
      period: METRIC_PERIOD,
      statistic: 'Sum',
      label: '4xx',
    });
    const serverErrors = restApi.metricServerError({
      period: METRIC_PERIOD,
      statistic: 'Sum',
      label: '5xx',
    });
    const requests = restApi.metricCount({ period: METRIC_PERIOD, statistic: 'Sum', label: 'requests' });

    alarm(
      'ConsumerIteratorAgeAlarm',
      iteratorAge,
      config.alarms.iteratorAgeMs,
      'Stream consumer is falling behind the events stream',
    );
    alarm(
      'ConsumerFailureQueueAlarm',
      dlqDepth,
      0,
      'Stream consumer gave up on a batch: inspect the on-failure queue',
    );
    alarm(
      'ApiLatencyAlarm',
      latencyP99,
      config.alarms.apiP99LatencyMs,
      'API p99 latency above the stage threshold',
    );
    alarm('Api5xxAlarm', serverErrors, config.alarms.api5xxPer5Minutes, 'API answers with server errors');

    const functions: [string, ShoplakeFunction][] = [
      ['Ingest', ingestion.ingestFunction],
      ['StreamConsumer', ingestion.consumerFunction],
      ['Recommendations', serving.recommendationsFunction],
    ];
    const errorMetrics: cloudwatch.IMetric[] = [];
    for (const [name, fn] of functions) {
      const errors = fn.function.metricErrors({
        period: METRIC_PERIOD,
        statistic: 'Sum',
        label: `${name} errors`,
      });
      errorMetrics.push(errors);
      alarm(`${name}ErrorsAlarm`, errors, 0, `${name} Lambda invocations failed`);
    }

    const handlerMetric = (group: keyof typeof HANDLER_METRICS, name: string) =>
      new cloudwatch.Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: HANDLER_METRICS[group].service },
        period: METRIC_PERIOD,
        statistic: 'Sum',
        label: name,
      });
    const ingestOutcomes = HANDLER_METRICS.ingest.names.map((n) => handlerMetric('ingest', n));
    const consumerOutcomes = HANDLER_METRICS.consumer.names.map((n) => handlerMetric('consumer', n));
    alarm(
      'IngestEventsFailedAlarm',
      handlerMetric('ingest', 'EventsFailed'),
      0,
      'Accepted events could not be put on the stream',
    );

    const outcomeMetrics: cloudwatch.IMetric[] = [];
    for (const [name, machine] of Object.entries(processing.stateMachines)) {
      const failed = machine.metricFailed({
        period: METRIC_PERIOD,
        statistic: 'Sum',
        label: `${name} failed`,
      });
      const timedOut = machine.metricTimedOut({
        period: METRIC_PERIOD,
        statistic: 'Sum',
        label: `${name} timed out`,
      });
      outcomeMetrics.push(
        machine.metricSucceeded({ period: METRIC_PERIOD, statistic: 'Sum', label: `${name} succeeded` }),
        failed,
        timedOut,
      );
      alarm(`${pascalCase(name)}FailedAlarm`, failed, 0, `${name} state machine execution failed`);
      alarm(`${pascalCase(name)}TimedOutAlarm`, timedOut, 0, `${name} state machine execution timed out`);
    }
    this.alarms = alarms;

    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      defaultInterval: Duration.hours(24),
      widgets: [
        [
          new cloudwatch.GraphWidget({
            title: 'Ingest rate (events in)',
            left: [incoming],
            right: [requests],
            width: 8,
          }),
          new cloudwatch.GraphWidget({ title: 'Consumer iterator age', left: [iteratorAge], width: 8 }),
          new cloudwatch.GraphWidget({
            title: 'Consumer on-failure queue depth',
            left: [dlqDepth],
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Lambda errors', left: errorMetrics, width: 8 }),
          new cloudwatch.GraphWidget({ title: 'API p99 latency', left: [latencyP99], width: 8 }),
          new cloudwatch.GraphWidget({
            title: 'API 4xx / 5xx',
            left: [clientErrors, serverErrors],
            width: 8,
          }),
        ],
        [
          new cloudwatch.GraphWidget({ title: 'Ingest outcomes (events)', left: ingestOutcomes, width: 12 }),
          new cloudwatch.GraphWidget({
            title: 'Consumer outcomes (records)',
            left: consumerOutcomes,
            width: 12,
          }),
        ],
        [new cloudwatch.GraphWidget({ title: 'ETL and training outcomes', left: outcomeMetrics, width: 24 })],
        [new cloudwatch.AlarmStatusWidget({ title: 'Alarms', alarms, width: 24 })],
      ],
    });
  }
}
