/**
 * The parts every Firehose → Iceberg bronze delivery shares (bronze.events from the events
 * stream, bronze.access_logs by direct put): the delivery role with its lake, catalog, logging and
 * transform-Lambda grants, and the Iceberg destination configuration (append-only, one table,
 * the transform Lambda as processor, failed records under an errors prefix).
 */
import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.ts';
import { LAKE_PREFIXES } from '../definitions/resources.ts';
import type { CatalogTable } from './lake-catalog.ts';
import { dataRemovalPolicy, stageLogGroup } from './secure-defaults.ts';

export interface IcebergDeliveryProps {
  readonly config: StageConfig;
  readonly lakeBucket: s3.IBucket;
  /** The one bronze table the stream writes. */
  readonly table: CatalogTable;
  /** Prefix (in the lake bucket) for records Firehose could not deliver. */
  readonly errorsPrefix: string;
  /** The record transformation Lambda Firehose invokes. */
  readonly transform: lambda.IFunction;
  /** Buffering of the transform invocations. */
  readonly transformBuffer: { readonly sizeInMBs: number; readonly intervalInSeconds: number };
  readonly description: string;
  /** Construct ids, kept per caller so the synthesized logical ids do not move. */
  readonly ids: { readonly role: string; readonly logGroup: string; readonly logStream: string };
}

export interface IcebergDelivery {
  readonly role: iam.Role;
  readonly logGroup: logs.ILogGroup;
  readonly logStream: logs.LogStream;
  /** `icebergDestinationConfiguration` of the delivery stream. */
  readonly destination: firehose.CfnDeliveryStream.IcebergDestinationConfigurationProperty;
}

/** Creates the delivery role and log stream and returns the Iceberg destination configuration. */
export function icebergDelivery(scope: Construct, props: IcebergDeliveryProps): IcebergDelivery {
  const { config, lakeBucket, table, errorsPrefix, transform } = props;
  const stack = Stack.of(scope);
  const catalogArn = stack.formatArn({ service: 'glue', resource: 'catalog' });
  const role = new iam.Role(scope, props.ids.role, {
    assumedBy: new iam.ServicePrincipal('firehose.amazonaws.com', {
      conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
    }),
    description: props.description,
  });
  lakeBucket.grantReadWrite(role, `${LAKE_PREFIXES.warehouse}*`);
  lakeBucket.grantReadWrite(role, `${errorsPrefix}*`);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: ['glue:GetTable', 'glue:GetDatabase', 'glue:UpdateTable'],
      resources: [catalogArn, table.databaseArn, table.tableArn],
    }),
  );
  const logGroup = stageLogGroup(scope, props.ids.logGroup, config);
  const logStream = new logs.LogStream(scope, props.ids.logStream, {
    logGroup,
    removalPolicy: dataRemovalPolicy(config),
  });
  logGroup.grantWrite(role);
  transform.grantInvoke(role);
  // Firehose reads the processor's configuration (timeout) before invoking it.
  iam.Grant.addToPrincipal({
    grantee: role,
    actions: ['lambda:GetFunctionConfiguration'],
    resourceArns: [transform.functionArn],
  });
  const destination: firehose.CfnDeliveryStream.IcebergDestinationConfigurationProperty = {
    roleArn: role.roleArn,
    appendOnly: true,
    catalogConfiguration: { catalogArn },
    destinationTableConfigurationList: [
      {
        destinationDatabaseName: table.databaseName,
        destinationTableName: table.tableName,
        s3ErrorOutputPrefix: errorsPrefix,
      },
    ],
    bufferingHints: {
      intervalInSeconds: config.firehose.bufferIntervalSeconds,
      sizeInMBs: config.firehose.bufferSizeMiB,
    },
    retryOptions: { durationInSeconds: 300 },
    processingConfiguration: {
      enabled: true,
      processors: [
        {
          type: 'Lambda',
          parameters: [
            { parameterName: 'LambdaArn', parameterValue: transform.functionArn },
            { parameterName: 'RoleArn', parameterValue: role.roleArn },
            { parameterName: 'BufferSizeInMBs', parameterValue: String(props.transformBuffer.sizeInMBs) },
            {
              parameterName: 'BufferIntervalInSeconds',
              parameterValue: String(props.transformBuffer.intervalInSeconds),
            },
            { parameterName: 'NumberOfRetries', parameterValue: '3' },
          ],
        },
      ],
    },
    // Lower-case in the CloudFormation schema of the Iceberg destination (cfn-lint E3002 otherwise).
    s3BackupMode: 'FailedDataOnly',
    s3Configuration: {
      bucketArn: lakeBucket.bucketArn,
      roleArn: role.roleArn,
      errorOutputPrefix: errorsPrefix,
      prefix: errorsPrefix,
      encryptionConfiguration: lakeBucket.encryptionKey
        ? { kmsEncryptionConfig: { awskmsKeyArn: lakeBucket.encryptionKey.keyArn } }
        : undefined,
    },
    cloudWatchLoggingOptions: {
      enabled: true,
      logGroupName: logGroup.logGroupName,
      logStreamName: logStream.logStreamName,
    },
  };
  return { role, logGroup, logStream, destination };
}
