/**
 * Ingestion: the ingest Lambda behind `POST /events` (the route itself is created by the API
 * stack) writing to the Kinesis events stream (on-demand, KMS); the stream consumer Lambda
 * with the event-source mapping of `CONSUMER_EVENT_SOURCE` and an encrypted SQS on-failure
 * destination; Firehose reading the same stream into the bronze events Iceberg table through
 * a record-transformation Lambda (`lambdas/firehose-bronze/`: bronze rows with epoch-µs
 * timestamps, as the Iceberg destination requires), with records it cannot transform or
 * deliver written under the `errors/firehose/` prefix.
 *
 * The stream's logical id equals its definition id (`EventsStream`) for the local runtime.
 */
import { Duration, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as firehose from 'aws-cdk-lib/aws-kinesisfirehose';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { CORS_ENV } from '../../lambdas/shared/cors.ts';
import type { StageConfig } from '../config/stage-config.ts';
import { AccessLogDelivery } from '../constructs/access-log-delivery.ts';
import { icebergDelivery } from '../constructs/iceberg-delivery.ts';
import type { CatalogTable } from '../constructs/lake-catalog.ts';
import { dataRemovalPolicy, secureKey, secureQueue } from '../constructs/secure-defaults.ts';
import { ShoplakeFunction } from '../constructs/shoplake-function.ts';
import { CONSUMER_EVENT_SOURCE, EVENTS_STREAM, LAKE_PREFIXES } from '../definitions/resources.ts';

/** Handler modules (relative to `lambdas/`). */
export const INGEST_HANDLER = 'ingest/handler.ts';
export const STREAM_CONSUMER_HANDLER = 'stream-consumer/handler.ts';
export const FIREHOSE_BRONZE_HANDLER = 'firehose-bronze/handler.ts';

/**
 * Firehose → transformation Lambda buffering. Firehose invokes the processor with at most this
 * much data (its 6 MB invocation payload limit leaves room for base64 growth at 3 MB) or after
 * this many seconds, whichever comes first.
 * @default 3 MB / 60 s
 */
export const BRONZE_TRANSFORM_BUFFER = { sizeInMBs: 3, intervalInSeconds: 60 } as const;

export interface IngestionStackProps extends StackProps {
  readonly config: StageConfig;
  readonly lakeBucket: s3.IBucket;
  /** `s3://<lake bucket>/`: the lake root; quarantine objects go under `quarantine/`. */
  readonly lakeRootUri: string;
  readonly featuresTable: dynamodb.ITable;
  /** Bronze events table Firehose delivers into. */
  readonly bronzeEventsTable: CatalogTable;
  /** Bronze access-log table the access-log delivery stream writes (docs/access-logs.md). */
  readonly bronzeAccessLogsTable: CatalogTable;
}

export class IngestionStack extends Stack {
  readonly streamKey: kms.Key;
  readonly eventsStream: kinesis.Stream;
  readonly ingestFunction: ShoplakeFunction;
  readonly consumerFunction: ShoplakeFunction;
  /** Batches the consumer gave up on (after retries / max record age): their stream coordinates. */
  readonly consumerFailureQueue: sqs.Queue;
  readonly deliveryStream: firehose.CfnDeliveryStream;
  /** Firehose record transformation: stream events → bronze rows (epoch-µs timestamps). */
  readonly bronzeTransformFunction: ShoplakeFunction;
  /** Access logs → bronze.access_logs (Firehose, transformation, CloudWatch Logs shipper). */
  readonly accessLogs: AccessLogDelivery;

  constructor(scope: Construct, id: string, props: IngestionStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.streamKey = secureKey(this, 'StreamKey', config, {
      description: `shoplake ${config.stage} events stream and queues`,
    });
    this.eventsStream = new kinesis.Stream(this, EVENTS_STREAM.id, {
      ...(config.stream.mode === 'provisioned'
        ? { streamMode: kinesis.StreamMode.PROVISIONED, shardCount: config.stream.shards }
        : { streamMode: kinesis.StreamMode.ON_DEMAND }),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.streamKey,
      retentionPeriod: Duration.hours(EVENTS_STREAM.retentionHours),
      removalPolicy: dataRemovalPolicy(config),
    });
    Validations.of(this.eventsStream).acknowledge({
      id: 'AwsSolutions::AwsSolutions-KDS3',
      reason:
        "The stream uses a customer-managed KMS key (rotation on, retained with the data) instead of aws/kinesis, so key policy and lifetime are under the deployer's control.",
    });
    const cfnStream = this.eventsStream.node.defaultChild;
    if (cfnStream instanceof kinesis.CfnStream) cfnStream.overrideLogicalId(EVENTS_STREAM.id);

    // Both handlers put rejected records under quarantine/ in the lake bucket.
    const writesQuarantine = (fn: ShoplakeFunction) => {
      props.lakeBucket.grantPut(fn.function, `${LAKE_PREFIXES.quarantine}*`);
      fn.addEnvironment('QUARANTINE_URI', props.lakeRootUri);
    };

    const ingest = new ShoplakeFunction(this, 'IngestFunction', {
      entry: INGEST_HANDLER,
      serviceName: 'ingest',
      description: 'POST /events: validate a batch, put accepted events on the stream, quarantine the rest',
      config,
      memorySize: 1024,
      timeout: Duration.seconds(29),
    });
    this.eventsStream.grantWrite(ingest.function);
    ingest.addEnvironment('EVENTS_STREAM_NAME', this.eventsStream.streamName);
    if (config.api.cors) ingest.addEnvironment(CORS_ENV, config.api.cors.allowedOrigins.join(','));
    writesQuarantine(ingest);
    this.ingestFunction = ingest;

    this.consumerFailureQueue = secureQueue(this, 'ConsumerFailureQueue', config, this.streamKey);
    Validations.of(this.consumerFailureQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        'This queue is the on-failure destination of the stream consumer event-source mapping (it holds the coordinates of failed batches); it is itself the dead-letter location.',
    });

    const fn = new ShoplakeFunction(this, 'StreamConsumerFunction', {
      entry: STREAM_CONSUMER_HANDLER,
      serviceName: 'stream-consumer',
      description: 'Kinesis events → dedup → real-time features in DynamoDB; bad records to quarantine',
      config,
      memorySize: 1024,
      timeout: Duration.minutes(2),
    });
    props.featuresTable.grantReadWriteData(fn.function);
    fn.addEnvironment('FEATURES_TABLE_NAME', props.featuresTable.tableName);
    writesQuarantine(fn);
    fn.function.addEventSource(
      new KinesisEventSource(this.eventsStream, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: CONSUMER_EVENT_SOURCE.batchSize,
        maxBatchingWindow: Duration.seconds(config.consumer.maxBatchingWindowSeconds),
        bisectBatchOnError: CONSUMER_EVENT_SOURCE.bisectBatchOnError,
        retryAttempts: CONSUMER_EVENT_SOURCE.maxRetryAttempts,
        maxRecordAge: Duration.seconds(CONSUMER_EVENT_SOURCE.maxRecordAgeSeconds),
        parallelizationFactor: CONSUMER_EVENT_SOURCE.parallelizationFactor,
        reportBatchItemFailures: CONSUMER_EVENT_SOURCE.reportBatchItemFailures,
        onFailure: new SqsDlq(this.consumerFailureQueue),
      }),
    );
    this.consumerFunction = fn;

    this.bronzeTransformFunction = new ShoplakeFunction(this, 'BronzeTransformFunction', {
      entry: FIREHOSE_BRONZE_HANDLER,
      serviceName: 'firehose-bronze',
      description: 'Firehose processor: stream events → bronze.events rows (epoch-µs timestamps)',
      config,
      memorySize: 512,
      // Firehose waits at most 5 minutes for a processor invocation.
      timeout: Duration.minutes(1),
    });
    this.deliveryStream = this.createBronzeDelivery(props, this.bronzeTransformFunction);
    this.accessLogs = new AccessLogDelivery(this, 'AccessLogs', {
      config,
      lakeBucket: props.lakeBucket,
      table: props.bronzeAccessLogsTable,
      queueKey: this.streamKey,
    });
  }

  /** Firehose: stream → bronze events Iceberg table; undeliverable records → `errors/firehose/`. */
  private createBronzeDelivery(
    props: IngestionStackProps,
    transform: ShoplakeFunction,
  ): firehose.CfnDeliveryStream {
    const { config, lakeBucket, bronzeEventsTable } = props;
    const { role, destination } = icebergDelivery(this, {
      config,
      lakeBucket,
      table: bronzeEventsTable,
      errorsPrefix: LAKE_PREFIXES.firehoseErrors,
      transform: transform.function,
      transformBuffer: BRONZE_TRANSFORM_BUFFER,
      description: 'Firehose: read the events stream, write the bronze events Iceberg table',
      ids: {
        role: 'BronzeDeliveryRole',
        logGroup: 'BronzeDeliveryLogs',
        logStream: 'BronzeDeliveryLogStream',
      },
    });
    this.eventsStream.grantRead(role);

    const stream = new firehose.CfnDeliveryStream(this, 'BronzeEventsDelivery', {
      // An explicit name (unique per stage): LocalStack's CloudFormation fails without one
      // (KeyError on DeliveryStreamName), and it names the stream readably in the console.
      deliveryStreamName: `shoplake-${config.stage}-bronze-events`,
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: {
        kinesisStreamArn: this.eventsStream.streamArn,
        roleArn: role.roleArn,
      },
      icebergDestinationConfiguration: destination,
    });
    // The role's policy must exist before Firehose validates access at creation time.
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) stream.node.addDependency(policy);
    Validations.of(stream).acknowledge({
      id: 'AwsSolutions::AwsSolutions-KDF1',
      reason:
        'Firehose server-side encryption is not available for Kinesis-stream sources; records are encrypted at rest by the stream (KMS) and by the destination bucket (KMS).',
    });
    return stream;
  }
}
