/** Ingestion: ingest Lambda → stream; consumer event-source mapping; Firehose → bronze Iceberg. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONSUMER_EVENT_SOURCE, EVENTS_STREAM, LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { BRONZE_EVENTS, databaseName } from '../../lambdas/shared/catalog/index.ts';
import { resourcesOfType, synth, template } from './helpers.ts';

const app = synth({ stage: 'dev' });
const ingestion = template(app, 'Ingestion');
const functions = resourcesOfType(app, 'AWS::Lambda::Function');
const env = (descriptionStart: string) => {
  const fn = functions.find((f) => String(f.properties.Description).startsWith(descriptionStart));
  if (!fn) throw new Error(`no function described "${descriptionStart}…"`);
  return (fn.properties.Environment as { Variables: Record<string, unknown> }).Variables;
};

describe('stream consumer event-source mapping', () => {
  it('uses exactly the CONSUMER_EVENT_SOURCE settings', () => {
    const mappings = resourcesOfType(app, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const p = mappings[0]?.properties ?? {};
    expect(p).toMatchObject({
      BatchSize: CONSUMER_EVENT_SOURCE.batchSize,
      MaximumBatchingWindowInSeconds: CONSUMER_EVENT_SOURCE.maxBatchingWindowSeconds,
      BisectBatchOnFunctionError: CONSUMER_EVENT_SOURCE.bisectBatchOnError,
      MaximumRetryAttempts: CONSUMER_EVENT_SOURCE.maxRetryAttempts,
      MaximumRecordAgeInSeconds: CONSUMER_EVENT_SOURCE.maxRecordAgeSeconds,
      ParallelizationFactor: CONSUMER_EVENT_SOURCE.parallelizationFactor,
      FunctionResponseTypes: CONSUMER_EVENT_SOURCE.reportBatchItemFailures
        ? ['ReportBatchItemFailures']
        : undefined,
      StartingPosition: 'TRIM_HORIZON',
      EventSourceArn: { 'Fn::GetAtt': [EVENTS_STREAM.id, 'Arn'] },
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [expect.stringMatching(/^ConsumerFailureQueue/), 'Arn'] } },
      },
    });
  });

  it('sends failed batches to a KMS-encrypted queue', () => {
    ingestion.hasResourceProperties('AWS::SQS::Queue', {
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^StreamKey'), 'Arn'] },
      MessageRetentionPeriod: 14 * 24 * 3600,
    });
  });
});

describe('handler environment', () => {
  it('gives the ingest Lambda the stream and the lake root for quarantine', () => {
    const vars = env('POST /events');
    expect(vars.EVENTS_STREAM_NAME).toEqual({ Ref: EVENTS_STREAM.id });
    expect(JSON.stringify(vars.QUARANTINE_URI)).toMatch(/s3:\/\/.*\/"\]\]\}$/);
  });

  it('gives the consumer the features table and the lake root', () => {
    const vars = env('Kinesis events');
    expect(JSON.stringify(vars.FEATURES_TABLE_NAME)).toContain('FeaturesTable');
    expect(vars.QUARANTINE_URI).toEqual(env('POST /events').QUARANTINE_URI);
  });

  it('lets handlers write quarantine objects only under quarantine/', () => {
    const policies = resourcesOfType(app, 'AWS::IAM::Policy').filter((p) =>
      /^(Ingest|StreamConsumer)FunctionRole/.test(p.logicalId),
    );
    expect(policies).toHaveLength(2);
    for (const p of policies) {
      const s3Statements = (
        p.properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }
      ).Statement.filter((s) => ([] as string[]).concat(s.Action).some((a) => a.startsWith('s3:')));
      expect(s3Statements.length).toBeGreaterThan(0);
      for (const s of s3Statements)
        expect(JSON.stringify(s.Resource)).toContain(`/${LAKE_PREFIXES.quarantine}*`);
    }
  });
});

describe('Firehose to the bronze events Iceberg table', () => {
  it("reads the stream and writes the catalog's bronze events table with an error prefix", () => {
    const streams = resourcesOfType(app, 'AWS::KinesisFirehose::DeliveryStream');
    expect(streams).toHaveLength(1);
    const p = streams[0]?.properties ?? {};
    expect(p.DeliveryStreamType).toBe('KinesisStreamAsSource');
    expect(p.KinesisStreamSourceConfiguration).toMatchObject({
      KinesisStreamARN: { 'Fn::GetAtt': [EVENTS_STREAM.id, 'Arn'] },
    });
    expect(p.IcebergDestinationConfiguration).toMatchObject({
      AppendOnly: true,
      s3BackupMode: 'FailedDataOnly',
      DestinationTableConfigurationList: [
        {
          DestinationDatabaseName: databaseName(BRONZE_EVENTS.namespace),
          DestinationTableName: BRONZE_EVENTS.name,
          S3ErrorOutputPrefix: LAKE_PREFIXES.firehoseErrors,
        },
      ],
      BufferingHints: {
        IntervalInSeconds: app.config.firehose.bufferIntervalSeconds,
        SizeInMBs: app.config.firehose.bufferSizeMiB,
      },
      S3Configuration: { ErrorOutputPrefix: LAKE_PREFIXES.firehoseErrors },
      CloudWatchLoggingOptions: { Enabled: true },
    });
  });
});
