/**
 * Cross-cutting guarantees: every Lambda on Graviton with the newest Node runtime, JSON logs
 * into a retained log group, tracing; everything holding data encrypted and RETAINed by default;
 * no full-access IAM actions; cdk-nag AwsSolutions clean with a written reason for every
 * acknowledgement; and the nag check itself catches an insecure resource.
 */
import { App, Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { buildShoplake } from '../../infra/build-app.ts';
import { resolveStageConfig } from '../../infra/config/index.ts';
import { isFullAccessAction } from '../../infra/constructs/iam-wildcards.ts';
import { FUNCTION_ARCHITECTURE, FUNCTION_RUNTIME } from '../../infra/constructs/shoplake-function.ts';
import { cdkJsonContext } from '../../infra/synth.ts';
import { QUICKSIGHT_PRINCIPAL, resourcesOfType, synth } from './helpers.ts';

const STATEFUL_TYPES = [
  'AWS::S3::Bucket',
  'AWS::DynamoDB::Table',
  'AWS::Kinesis::Stream',
  'AWS::KMS::Key',
  'AWS::Logs::LogGroup',
  'AWS::SQS::Queue',
  'AWS::Glue::Database',
  'AWS::Glue::Table',
];

describe('Lambda functions', () => {
  const app = synth({ stage: 'dev' });
  const functions = resourcesOfType(app, 'AWS::Lambda::Function');

  it('deploys the ingest, consumer and recommendations handlers', () => {
    const handlers = functions.map((f) => String(f.properties.Description ?? ''));
    expect(handlers.some((d) => d.startsWith('POST /events'))).toBe(true);
    expect(handlers.some((d) => d.startsWith('Kinesis events'))).toBe(true);
    expect(handlers.some((d) => d.startsWith('GET recommendations'))).toBe(true);
  });

  it('runs every function on ARM64 with the newest Node.js runtime', () => {
    expect(FUNCTION_RUNTIME.name).toBe('nodejs24.x');
    expect(functions.length).toBeGreaterThanOrEqual(3);
    for (const fn of functions) {
      expect(fn.properties.Architectures, fn.logicalId).toEqual([FUNCTION_ARCHITECTURE.name]);
      expect(fn.properties.Architectures, fn.logicalId).toEqual(['arm64']);
      // The one Python function: the demand-forecast model step (test/infra/forecast.test.ts).
      const python = String(fn.logicalId).startsWith('ForecastModelFunction');
      expect(fn.properties.Runtime, fn.logicalId).toBe(python ? 'python3.12' : 'nodejs24.x');
    }
  });

  it('gives every function JSON logs in its own log group, active tracing and Powertools settings', () => {
    for (const fn of functions) {
      const p = fn.properties;
      expect(p.TracingConfig, fn.logicalId).toEqual({ Mode: 'Active' });
      expect(p.LoggingConfig, fn.logicalId).toMatchObject({
        LogFormat: 'JSON',
        LogGroup: { Ref: expect.any(String) },
      });
      // Powertools and NODE_OPTIONS are Node settings; the Python model step has neither.
      if (String(fn.logicalId).startsWith('ForecastModelFunction')) continue;
      const env = (p.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env.POWERTOOLS_SERVICE_NAME, fn.logicalId).toEqual(expect.any(String));
      expect(env.POWERTOOLS_METRICS_NAMESPACE, fn.logicalId).toBe('Shoplake');
      expect(env.NODE_OPTIONS).toBe('--enable-source-maps');
    }
  });

  it('uses no AWS managed policies on function roles', () => {
    const roles = resourcesOfType(app, 'AWS::IAM::Role').filter((r) =>
      JSON.stringify(r.properties.AssumeRolePolicyDocument).includes('lambda.amazonaws.com'),
    );
    expect(roles.length).toBe(functions.length);
    for (const role of roles) expect(role.properties.ManagedPolicyArns, role.logicalId).toBeUndefined();
  });
});

describe('retention and encryption', () => {
  const dev = synth({ stage: 'dev' });

  it('retains every stateful resource by default', () => {
    for (const type of STATEFUL_TYPES) {
      const found = resourcesOfType(dev, type);
      expect(found.length, type).toBeGreaterThan(0);
      for (const r of found) {
        expect(r.resource.DeletionPolicy, `${r.stack}/${r.logicalId}`).toBe('Retain');
        expect(r.resource.UpdateReplacePolicy, `${r.stack}/${r.logicalId}`).toBe('Retain');
      }
    }
  });

  it('deletes them only when the stage explicitly says destroyOnRemoval', () => {
    const throwaway = synth({ stage: 'dev', context: { destroyOnRemoval: 'true' }, nag: false });
    expect(throwaway.config.destroyOnRemoval).toBe(true);
    for (const r of resourcesOfType(throwaway, 'AWS::DynamoDB::Table')) {
      expect(r.resource.DeletionPolicy).toBe('Delete');
      expect(r.properties.DeletionProtectionEnabled).toBe(false);
    }
    for (const r of resourcesOfType(throwaway, 'AWS::S3::Bucket'))
      expect(r.resource.DeletionPolicy).toBe('Delete');
  });

  it('rotates every KMS key', () => {
    for (const key of resourcesOfType(dev, 'AWS::KMS::Key'))
      expect(key.properties.EnableKeyRotation).toBe(true);
  });

  it('encrypts buckets, tables, the stream, queues and topics', () => {
    for (const b of resourcesOfType(dev, 'AWS::S3::Bucket')) {
      expect(b.properties.BucketEncryption, b.logicalId).toBeDefined();
      expect(b.properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    }
    for (const t of resourcesOfType(dev, 'AWS::DynamoDB::Table')) {
      expect(t.properties.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
    }
    for (const s of resourcesOfType(dev, 'AWS::Kinesis::Stream')) {
      expect(s.properties.StreamEncryption).toMatchObject({ EncryptionType: 'KMS' });
    }
    for (const q of resourcesOfType(dev, 'AWS::SQS::Queue'))
      expect(q.properties.KmsMasterKeyId).toBeDefined();
    for (const t of resourcesOfType(dev, 'AWS::SNS::Topic'))
      expect(t.properties.KmsMasterKeyId).toBeDefined();
  });

  it('denies non-TLS access in every bucket policy', () => {
    const policies = resourcesOfType(dev, 'AWS::S3::BucketPolicy');
    expect(policies.length).toBe(resourcesOfType(dev, 'AWS::S3::Bucket').length);
    for (const p of policies) {
      expect(JSON.stringify(p.properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe('IAM', () => {
  it('grants no "*" or "service:*" actions anywhere', () => {
    const app = synth({ stage: 'dev' });
    const statements: { where: string; actions: string[] }[] = [];
    for (const type of [
      'AWS::IAM::Policy',
      'AWS::IAM::Role',
      'AWS::KMS::Key',
      'AWS::S3::BucketPolicy',
      'AWS::SQS::QueuePolicy',
      'AWS::SNS::TopicPolicy',
    ]) {
      for (const r of resourcesOfType(app, type)) {
        const docs = [
          r.properties.PolicyDocument,
          r.properties.KeyPolicy,
          ...((r.properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map(
            (p) => p.PolicyDocument,
          ),
        ];
        for (const doc of docs) {
          const list =
            (doc as { Statement?: { Effect: string; Action: string | string[] }[] } | undefined)?.Statement ??
            [];
          for (const s of list) {
            if (s.Effect !== 'Allow') continue;
            statements.push({
              where: `${r.stack}/${r.logicalId}`,
              actions: ([] as string[]).concat(s.Action),
            });
          }
        }
      }
    }
    expect(statements.length).toBeGreaterThan(20);
    const fullAccess = statements.flatMap((s) =>
      s.actions.filter(isFullAccessAction).map((a) => `${s.where}: ${a}`),
    );
    // KMS key policies created by CDK give the account root kms:* (the key's administrator),
    // which is the documented default key policy; nothing else may use a full-access action.
    expect(fullAccess.filter((f) => !/\/\w*Key[0-9A-F]{8}: kms:\*$/.test(f))).toEqual([]);
  });

  it('recognises full-access actions', () => {
    expect(isFullAccessAction('*')).toBe(true);
    expect(isFullAccessAction('s3:*')).toBe(true);
    expect(isFullAccessAction('s3:GetObject*')).toBe(false);
    expect(isFullAccessAction('dynamodb:PutItem')).toBe(false);
  });
});

describe('cdk-nag AwsSolutions', () => {
  it('passes with zero unacknowledged findings for dev, prod and the BI stack', () => {
    for (const options of [
      { stage: 'dev' },
      { stage: 'prod' },
      { stage: 'dev', context: { quicksightPrincipalArn: QUICKSIGHT_PRINCIPAL } },
    ]) {
      const app = synth(options);
      expect(Object.keys(app.templates).length).toBeGreaterThanOrEqual(6);
    }
  });

  it('has a written reason on every acknowledgement', () => {
    const app = synth({ stage: 'dev' });
    const acknowledgements: { path: string; id: string; reason: unknown }[] = [];
    for (const stack of Object.values(app.stacks)) {
      if (!stack) continue;
      for (const node of stack.node.findAll()) {
        for (const entry of node.node.metadata) {
          if (entry.type !== 'aws:cdk:acknowledged-rules') continue;
          for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
            acknowledgements.push({ path: node.node.path, id, reason });
          }
        }
      }
    }
    expect(acknowledgements.length).toBeGreaterThan(5);
    for (const a of acknowledgements) {
      expect(typeof a.reason, `${a.path} ${a.id}`).toBe('string');
      expect(String(a.reason).length, `${a.path} ${a.id}: reason too short`).toBeGreaterThanOrEqual(40);
    }
  });

  it('fails synthesis on an unacknowledged finding (the check can fail)', () => {
    const app = new App({ context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [] } });
    buildShoplake(
      app,
      resolveStageConfig(() => undefined),
    );
    const extra = new Stack(app, 'Insecure');
    new s3.Bucket(extra, 'NoLogsNoSsl');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1'[\s\S]*AwsSolutions-S10'/);
  });
});
