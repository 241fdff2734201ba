/**
 * Secure defaults in one place: every stack builds its keys, buckets, queues, topics and log
 * groups through these helpers so encryption, TLS-only access, blocked public access and the
 * RETAIN policy cannot be forgotten. Each default is overridable by the caller.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StageConfig } from '../config/stage-config.ts';

/** Removal policy for anything holding data: RETAIN unless the stage explicitly says destroy. */
export function dataRemovalPolicy(config: Pick<StageConfig, 'destroyOnRemoval'>): RemovalPolicy {
  return config.destroyOnRemoval ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}

/** A customer-managed KMS key with yearly rotation, retained like the data it protects. */
export function secureKey(
  scope: Construct,
  id: string,
  config: Pick<StageConfig, 'destroyOnRemoval'>,
  props: Partial<kms.KeyProps> = {},
): kms.Key {
  return new kms.Key(scope, id, {
    enableKeyRotation: true,
    removalPolicy: dataRemovalPolicy(config),
    pendingWindow: Duration.days(30),
    ...props,
  });
}

/**
 * Bucket defaults: KMS (or S3-managed for the access-log bucket, which S3 server access logging
 * requires), versioning, TLS only, all public access blocked, object ownership enforced.
 */
export function secureBucket(
  scope: Construct,
  id: string,
  config: Pick<StageConfig, 'destroyOnRemoval'>,
  props: s3.BucketProps,
): s3.Bucket {
  return new s3.Bucket(scope, id, {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    minimumTLSVersion: 1.2,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: dataRemovalPolicy(config),
    autoDeleteObjects: false,
    ...props,
  });
}

/** SQS queue defaults: KMS with the given key, TLS only, 14-day retention (for DLQs). */
export function secureQueue(
  scope: Construct,
  id: string,
  config: Pick<StageConfig, 'destroyOnRemoval'>,
  key: kms.IKey,
  props: Partial<sqs.QueueProps> = {},
): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    removalPolicy: dataRemovalPolicy(config),
    ...props,
  });
  return queue;
}

/** SNS topic defaults: KMS with the given key and TLS-only publishing. */
export function secureTopic(
  scope: Construct,
  id: string,
  key: kms.IKey,
  props: Partial<sns.TopicProps> = {},
): sns.Topic {
  return new sns.Topic(scope, id, { masterKey: key, enforceSSL: true, ...props });
}

/**
 * A notification topic an AWS service publishes to: its own customer-managed key whose policy
 * lets `publisher` (same account only) use it, the KMS-encrypted topic, and the stage's
 * notification e-mail subscribed when one is configured.
 */
export function serviceNotificationTopic(
  scope: Construct,
  config: Pick<StageConfig, 'destroyOnRemoval' | 'notificationEmail'>,
  props: {
    readonly keyId: string;
    readonly keyDescription: string;
    readonly topicId: string;
    readonly displayName: string;
    /** Service principal that publishes (`cloudwatch.amazonaws.com`) and the key-policy statement id. */
    readonly publisher: { readonly service: string; readonly sid: string };
  },
): { key: kms.Key; topic: sns.Topic } {
  const key = secureKey(scope, props.keyId, config, { description: props.keyDescription });
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: props.publisher.sid,
      principals: [new iam.ServicePrincipal(props.publisher.service)],
      actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(scope).account } },
    }),
  );
  const topic = secureTopic(scope, props.topicId, key, { displayName: props.displayName });
  if (config.notificationEmail)
    topic.addSubscription(new subscriptions.EmailSubscription(config.notificationEmail));
  return { key, topic };
}

/** Log group with the stage's retention; retained with the data unless the stage destroys. */
export function stageLogGroup(
  scope: Construct,
  id: string,
  config: Pick<StageConfig, 'destroyOnRemoval' | 'logRetentionDays'>,
  props: Partial<logs.LogGroupProps> = {},
): logs.LogGroup {
  return new logs.LogGroup(scope, id, {
    retention: config.logRetentionDays as logs.RetentionDays,
    removalPolicy: dataRemovalPolicy(config),
    ...props,
  });
}
