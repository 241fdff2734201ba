/**
 * Access logs into `bronze.access_logs` (docs/access-logs.md):
 *  - a Direct-PUT Firehose delivery stream into the Iceberg table, with the record
 *    transformation Lambda `lambdas/firehose-access-logs/` (the parser the local ingest uses;
 *    rejected lines are kept under `errors/access-logs/`), server-side encrypted;
 *  - the salt of the client-IP pseudonyms, a generated Secrets Manager secret only the
 *    transformation may read;
 *  - the shipper Lambda `lambdas/access-log-shipper/`, which a CloudWatch Logs subscription
 *    invokes (the API stack subscribes shoplake's API Gateway access logs) and which puts one
 *    record per log line on the stream; failed invocations go to an encrypted SQS queue.
 * The shop's own web-server logs are put on the same stream by its log forwarder
 * (`PutRecordBatch`, one line per record): grant it `firehose:PutRecord*` on `deliveryStream`.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.ts';
import { LAKE_PREFIXES } from '../definitions/resources.ts';
import { icebergDelivery } from './iceberg-delivery.ts';
import type { CatalogTable } from './lake-catalog.ts';
import { secureQueue } from './secure-defaults.ts';
import { ShoplakeFunction } from './shoplake-function.ts';

/** Handler modules (relative to `lambdas/`). */
export const ACCESS_LOG_TRANSFORM_HANDLER = 'firehose-access-logs/handler.ts';
export const ACCESS_LOG_SHIPPER_HANDLER = 'access-log-shipper/handler.ts';

/**
 * Transformation buffering: Firehose hands the processor at most this much or waits this long.
 * @default 1 MB / 60 s
 */
export const ACCESS_LOG_TRANSFORM_BUFFER = { sizeInMBs: 1, intervalInSeconds: 60 } as const;

export interface AccessLogDeliveryProps {
  readonly config: StageConfig;
  readonly lakeBucket: s3.IBucket;
  /** The Iceberg table Firehose writes (`bronze.access_logs`). */
  readonly table: CatalogTable;
  /** Key of the shipper's on-failure queue. */
  readonly queueKey: kms.IKey;
}

export class AccessLogDelivery extends Construct {
  readonly deliveryStream: firehose.CfnDeliveryStream;
  readonly transformFunction: ShoplakeFunction;
  readonly shipperFunction: ShoplakeFunction;
  readonly saltSecret: secretsmanager.Secret;
  /** Shipper invocations that failed after the asynchronous retries. */
  readonly shipperFailureQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: AccessLogDeliveryProps) {
    super(scope, id);
    const { config, lakeBucket, table } = props;
    const _stack = Stack.of(this);

    this.saltSecret = new secretsmanager.Secret(this, 'SaltSecret', {
      description: `shoplake ${config.stage}: HMAC salt of access-log client pseudonyms`,
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
      // Losing the salt breaks pseudonym continuity (distinct clients, sessions across days).
      removalPolicy: config.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN,
    });
    Validations.of(this.saltSecret).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SMG4',
      reason:
        'The salt keys the client-IP pseudonyms; rotating it automatically would silently split every client and session at the rotation. It is rotated deliberately (docs/access-logs.md).',
    });

    this.transformFunction = new ShoplakeFunction(this, 'TransformFunction', {
      entry: ACCESS_LOG_TRANSFORM_HANDLER,
      serviceName: 'firehose-access-logs',
      description: 'Firehose processor: access-log lines → bronze.access_logs rows (parsed, pseudonymised)',
      config,
      memorySize: 512,
      timeout: Duration.minutes(1),
    });
    this.saltSecret.grantRead(this.transformFunction.function);
    this.transformFunction.addEnvironment('ACCESS_LOG_SALT_SECRET_ARN', this.saltSecret.secretArn);

    const { role, destination } = icebergDelivery(this, {
      config,
      lakeBucket,
      table,
      errorsPrefix: LAKE_PREFIXES.accessLogErrors,
      transform: this.transformFunction.function,
      transformBuffer: ACCESS_LOG_TRANSFORM_BUFFER,
      description: 'Firehose: write the bronze access_logs Iceberg table',
      ids: { role: 'DeliveryRole', logGroup: 'DeliveryLogs', logStream: 'DeliveryLogStream' },
    });
    this.deliveryStream = new firehose.CfnDeliveryStream(this, 'Delivery', {
      deliveryStreamName: `shoplake-${config.stage}-bronze-access-logs`,
      deliveryStreamType: 'DirectPut',
      deliveryStreamEncryptionConfigurationInput: { keyType: 'AWS_OWNED_CMK' },
      icebergDestinationConfiguration: destination,
    });
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) this.deliveryStream.node.addDependency(policy);

    this.shipperFailureQueue = secureQueue(this, 'ShipperFailureQueue', config, props.queueKey);
    Validations.of(this.shipperFailureQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        'This queue is the on-failure destination of the shipper (failed asynchronous invocations with their CloudWatch Logs payload); it is itself the dead-letter location.',
    });
    this.shipperFunction = new ShoplakeFunction(this, 'ShipperFunction', {
      entry: ACCESS_LOG_SHIPPER_HANDLER,
      serviceName: 'access-log-shipper',
      description: 'CloudWatch Logs subscription → one access-log line per record on the delivery stream',
      config,
      memorySize: 256,
      timeout: Duration.minutes(1),
    });
    iam.Grant.addToPrincipal({
      grantee: this.shipperFunction.function,
      actions: ['firehose:PutRecordBatch'],
      resourceArns: [this.deliveryStream.attrArn],
    });
    this.shipperFunction.addEnvironment('ACCESS_LOG_DELIVERY_STREAM', this.deliveryStream.ref);
    this.shipperFunction.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new lambdaDestinations.SqsDestination(this.shipperFailureQueue),
    });
  }
}
