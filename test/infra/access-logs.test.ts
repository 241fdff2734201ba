/** Access logs on AWS: API Gateway logs → subscription → shipper → Firehose → bronze.access_logs. */
import { describe, expect, it } from 'vitest';
import {
  ACCESS_LOG_TRANSFORM_BUFFER,
  ACCESS_LOG_TRANSFORM_HANDLER,
} from '../../infra/constructs/access-log-delivery.ts';
import { LAKE_PREFIXES } from '../../infra/definitions/resources.ts';
import { API_ACCESS_LOG_FIELDS } from '../../lambdas/shared/access-log/apigw-format.ts';
import { BRONZE_ACCESS_LOGS, databaseName } from '../../lambdas/shared/catalog/index.ts';
import { type FoundResource, resourcesOfType, synth } from './helpers.ts';

const app = synth({ stage: 'dev' });
const byDescription = (start: string): FoundResource => {
  const fns = resourcesOfType(app, 'AWS::Lambda::Function').filter((f) =>
    String(f.properties.Description).startsWith(start),
  );
  expect(fns).toHaveLength(1);
  const [fn] = fns;
  if (!fn) throw new Error(`no function ${start}`);
  return fn;
};
const stream = (): FoundResource => {
  const s = resourcesOfType(app, 'AWS::KinesisFirehose::DeliveryStream').find(
    (x) => x.properties.DeliveryStreamName === 'shoplake-dev-bronze-access-logs',
  );
  if (!s) throw new Error('no access-log delivery stream');
  return s;
};
const apiStage = (): FoundResource => {
  const stages = resourcesOfType(app, 'AWS::ApiGateway::Stage');
  expect(stages).toHaveLength(1);
  const [stage] = stages;
  if (!stage) throw new Error('no API stage');
  return stage;
};
const policiesOf = (roleLogicalId: string, stack: string) =>
  resourcesOfType(app, 'AWS::IAM::Policy').filter(
    (p) => p.stack === stack && JSON.stringify(p.properties.Roles).includes(roleLogicalId),
  );
const statements = (policies: FoundResource[]) =>
  policies.flatMap(
    (p) => (p.properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
  );

describe('access-log delivery stream', () => {
  it('is a server-side encrypted Direct-PUT stream into the bronze access_logs Iceberg table', () => {
    const p = stream().properties;
    expect(stream().stack).toBe('Ingestion');
    expect(p.DeliveryStreamType).toBe('DirectPut');
    expect(p.DeliveryStreamEncryptionConfigurationInput).toEqual({ KeyType: 'AWS_OWNED_CMK' });
    expect(p.IcebergDestinationConfiguration).toMatchObject({
      AppendOnly: true,
      s3BackupMode: 'FailedDataOnly',
      DestinationTableConfigurationList: [
        {
          DestinationDatabaseName: databaseName(BRONZE_ACCESS_LOGS.namespace),
          DestinationTableName: BRONZE_ACCESS_LOGS.name,
          S3ErrorOutputPrefix: LAKE_PREFIXES.accessLogErrors,
        },
      ],
      S3Configuration: { ErrorOutputPrefix: LAKE_PREFIXES.accessLogErrors },
      CloudWatchLoggingOptions: { Enabled: true },
    });
  });

  it('transforms records with the firehose-access-logs Lambda, invocable only by the delivery role', () => {
    const dest = stream().properties.IcebergDestinationConfiguration as {
      RoleARN: { 'Fn::GetAtt': [string, string] };
      ProcessingConfiguration: {
        Processors: { Type: string; Parameters: { ParameterName: string; ParameterValue: unknown }[] }[];
      };
    };
    const fn = byDescription('Firehose processor: access-log lines');
    const [processor] = dest.ProcessingConfiguration.Processors;
    const params = Object.fromEntries(
      processor?.Parameters.map((p) => [p.ParameterName, p.ParameterValue]) ?? [],
    );
    expect(processor?.Type).toBe('Lambda');
    expect(params.LambdaArn).toEqual({ 'Fn::GetAtt': [fn.logicalId, 'Arn'] });
    expect(params.RoleArn).toEqual(dest.RoleARN);
    expect(params.BufferSizeInMBs).toBe(String(ACCESS_LOG_TRANSFORM_BUFFER.sizeInMBs));
    expect(ACCESS_LOG_TRANSFORM_HANDLER).toBe('firehose-access-logs/handler.ts');
    const invokers = resourcesOfType(app, 'AWS::IAM::Policy').filter(
      (p) =>
        JSON.stringify(p.properties.PolicyDocument).includes('lambda:InvokeFunction') &&
        JSON.stringify(p.properties.PolicyDocument).includes(fn.logicalId),
    );
    expect(invokers).toHaveLength(1);
    expect(JSON.stringify(invokers[0]?.properties.Roles)).toContain(dest.RoleARN['Fn::GetAtt'][0]);
  });

  it('gives the transformation the salt secret (read only) and nothing else of the lake', () => {
    const fn = byDescription('Firehose processor: access-log lines');
    const env = (fn.properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const secrets = resourcesOfType(app, 'AWS::SecretsManager::Secret').filter(
      (s) => s.stack === 'Ingestion',
    );
    expect(secrets).toHaveLength(1);
    expect(env.ACCESS_LOG_SALT_SECRET_ARN).toEqual({ Ref: secrets[0]?.logicalId });
    const roleId = (fn.properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const actions = statements(policiesOf(roleId, 'Ingestion')).flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(
      expect.arrayContaining(['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']),
    );
    expect(actions.filter((a) => String(a).startsWith('s3:') || String(a).startsWith('firehose:'))).toEqual(
      [],
    );
  });
});

describe('API Gateway access logs → shipper', () => {
  it('writes the JSON format the parser reads', () => {
    const format = (apiStage().properties.AccessLogSetting as { Format: string }).Format;
    expect(JSON.parse(format)).toEqual(API_ACCESS_LOG_FIELDS);
  });

  it('subscribes the access-log group to the shipper, with an invoke permission scoped to that group', () => {
    const filters = resourcesOfType(app, 'AWS::Logs::SubscriptionFilter');
    expect(filters).toHaveLength(1);
    const filter = filters[0];
    expect(filter?.stack).toBe('Api');
    const destination = (
      apiStage().properties.AccessLogSetting as { DestinationArn: { 'Fn::GetAtt': [string, string] } }
    ).DestinationArn;
    const logGroupId = destination['Fn::GetAtt'][0];
    expect(filter?.properties.LogGroupName).toEqual({ Ref: logGroupId });
    expect(filter?.properties.FilterPattern).toBe('');
    expect(JSON.stringify(filter?.properties.DestinationArn)).toContain('ShipperFunction');
    const permission = resourcesOfType(app, 'AWS::Lambda::Permission').find(
      (p) => p.stack === 'Api' && p.properties.Principal === 'logs.amazonaws.com',
    );
    expect(permission?.properties.SourceArn).toEqual({ 'Fn::GetAtt': [logGroupId, 'Arn'] });
    expect(permission?.properties.FunctionName).toEqual(filter?.properties.DestinationArn);
    expect(filter?.resource.DependsOn).toContain(permission?.logicalId);
  });

  it('lets the shipper put records on the access-log stream only, and keeps failed invocations', () => {
    const fn = byDescription('CloudWatch Logs subscription');
    const env = (fn.properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(env.ACCESS_LOG_DELIVERY_STREAM).toEqual({ Ref: stream().logicalId });
    const roleId = (fn.properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const firehoseStatements = statements(policiesOf(roleId, 'Ingestion')).filter((s) =>
      [s.Action].flat().some((a) => String(a).startsWith('firehose:')),
    );
    expect(firehoseStatements).toEqual([
      expect.objectContaining({
        Action: 'firehose:PutRecordBatch',
        Resource: { 'Fn::GetAtt': [stream().logicalId, 'Arn'] },
      }),
    ]);
    const configs = resourcesOfType(app, 'AWS::Lambda::EventInvokeConfig').filter((c) =>
      JSON.stringify(c.properties.FunctionName).includes(fn.logicalId),
    );
    expect(configs).toHaveLength(1);
    expect(configs[0]?.properties).toMatchObject({ MaximumRetryAttempts: 2 });
    const onFailure = JSON.stringify(configs[0]?.properties.DestinationConfig);
    const queue = resourcesOfType(app, 'AWS::SQS::Queue').find((q) => onFailure.includes(q.logicalId));
    expect(queue?.properties.KmsMasterKeyId).toBeDefined();
  });
});
