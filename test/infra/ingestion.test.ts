/** Ingestion: ingest Lambda → stream; consumer event-source mapping; Firehose → bronze Iceberg. */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONSUMER_EVENT_SOURCE, EVENTS_STREAM, LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { BRONZE_TRANSFORM_BUFFER, FIREHOSE_BRONZE_HANDLER } from '../../infra/stacks/ingestion-stack.ts';
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
  it('uses exactly the CONSUMER_EVENT_SOURCE settings and the stage batching window', () => {
    const mappings = resourcesOfType(app, 'AWS::Lambda::EventSourceMapping');
    expect(mappings).toHaveLength(1);
    const p = mappings[0]?.properties ?? {};
    expect(p).toMatchObject({
      BatchSize: CONSUMER_EVENT_SOURCE.batchSize,
      // The batching window is a stage cost option (dev gathers longer: fewer invocations and writes).
      MaximumBatchingWindowInSeconds: app.config.consumer.maxBatchingWindowSeconds,
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
    // The access-log delivery stream is checked in access-logs.test.ts.
    const streams = resourcesOfType(app, 'AWS::KinesisFirehose::DeliveryStream').filter(
      (s) => s.properties.DeliveryStreamType === 'KinesisStreamAsSource',
    );
    expect(streams).toHaveLength(1);
    const p = streams[0]?.properties ?? {};
    expect(p.DeliveryStreamType).toBe('KinesisStreamAsSource');
    // Named explicitly (LocalStack's CloudFormation needs it), unique per stage.
    expect(p.DeliveryStreamName).toBe('shoplake-dev-bronze-events');
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

describe('Firehose record transformation (bronze rows with epoch-µs timestamps)', () => {
  const streamProps = () => {
    const stream = resourcesOfType(app, 'AWS::KinesisFirehose::DeliveryStream').find(
      (s) => s.properties.DeliveryStreamName === 'shoplake-dev-bronze-events',
    );
    if (!stream) throw new Error('no delivery stream');
    return stream.properties as {
      IcebergDestinationConfiguration: {
        RoleARN: { 'Fn::GetAtt': [string, string] };
        ProcessingConfiguration: {
          Enabled: boolean;
          Processors: { Type: string; Parameters: { ParameterName: string; ParameterValue: unknown }[] }[];
        };
      };
    };
  };
  const transformFunction = () => {
    const fns = resourcesOfType(app, 'AWS::Lambda::Function').filter(
      (f) =>
        f.stack === 'Ingestion' &&
        String(f.properties.Description).startsWith('Firehose processor: stream events'),
    );
    expect(fns).toHaveLength(1);
    const [fn] = fns;
    if (!fn) throw new Error('no transformation function');
    return fn;
  };

  it('runs the firehose-bronze Lambda as the delivery stream processor, with the delivery role', () => {
    const dest = streamProps().IcebergDestinationConfiguration;
    const fn = transformFunction();

    expect(dest.ProcessingConfiguration.Enabled).toBe(true);
    expect(dest.ProcessingConfiguration.Processors).toHaveLength(1);
    const [processor] = dest.ProcessingConfiguration.Processors;
    expect(processor?.Type).toBe('Lambda');
    const params = Object.fromEntries(
      processor?.Parameters.map((p) => [p.ParameterName, p.ParameterValue]) ?? [],
    );
    expect(params.LambdaArn).toEqual({ 'Fn::GetAtt': [fn.logicalId, 'Arn'] });
    expect(params.RoleArn).toEqual(dest.RoleARN);
    expect(params.BufferSizeInMBs).toBe(String(BRONZE_TRANSFORM_BUFFER.sizeInMBs));
    expect(params.BufferIntervalInSeconds).toBe(String(BRONZE_TRANSFORM_BUFFER.intervalInSeconds));
    expect(FIREHOSE_BRONZE_HANDLER).toBe('firehose-bronze/handler.ts');
  });

  it('runs on ARM64 with the shared runtime, JSON logs and tracing', () => {
    const fn = transformFunction();

    expect(fn.properties.Architectures).toEqual(['arm64']);
    expect(fn.properties.Runtime).toBe('nodejs24.x');
    expect(fn.properties.TracingConfig).toEqual({ Mode: 'Active' });
    expect(fn.properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON' });
  });

  it('lets the delivery role (and only it) invoke the transformation function', () => {
    const fn = transformFunction();
    const roleLogicalId = streamProps().IcebergDestinationConfiguration.RoleARN['Fn::GetAtt'][0];
    const invokers = resourcesOfType(app, 'AWS::IAM::Policy').filter(
      (p) =>
        JSON.stringify(p.properties.PolicyDocument).includes('lambda:InvokeFunction') &&
        JSON.stringify(p.properties.PolicyDocument).includes(fn.logicalId),
    );

    expect(invokers).toHaveLength(1);
    expect(JSON.stringify(invokers[0]?.properties.PolicyDocument)).toContain(
      'lambda:GetFunctionConfiguration',
    );
    expect(invokers[0]?.properties.Roles).toEqual([{ Ref: roleLogicalId }]);
    ingestion.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleLogicalId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            Resource: Match.arrayWith([{ 'Fn::GetAtt': [fn.logicalId, 'Arn'] }]),
          }),
        ]),
      },
    });
  });
});
