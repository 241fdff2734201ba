/**
 * Serving and the shared resource definitions: the synthesized DynamoDB tables and Kinesis
 * stream must match `infra/definitions/resources.ts` (which the local runtime provisions from
 * the same template), and the recommendations Lambda gets least-privilege access.
 */
import { describe, expect, it } from 'vitest';
import { EVENTS_STREAM, FEATURES_TABLE, TABLES } from '../../infra/definitions/resources.ts';
import { resourcesOfType, synth } from './helpers.ts';

const app = synth({ stage: 'dev' });
const prod = synth({ stage: 'prod' });

describe('DynamoDB tables match resources.ts', () => {
  for (const definition of TABLES) {
    it(`${definition.id}: keys, TTL, capacity mode of the stage, PITR, KMS`, () => {
      const table = app.combined.Resources[definition.id];
      expect(table?.Type).toBe('AWS::DynamoDB::Table');
      const p = table?.Properties ?? {};
      const keySchema = [{ AttributeName: definition.partitionKey.AttributeName, KeyType: 'HASH' }];
      if (definition.sortKey)
        keySchema.push({ AttributeName: definition.sortKey.AttributeName, KeyType: 'RANGE' });
      expect(p.KeySchema).toEqual(keySchema);
      const attributes = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
      expect(p.AttributeDefinitions).toEqual(expect.arrayContaining(attributes.map((a) => ({ ...a }))));
      const billing =
        definition === FEATURES_TABLE ? app.config.featuresTable : ({ billing: 'on-demand' } as const);
      if (billing.billing === 'provisioned') {
        // PROVISIONED is CloudFormation's default: CDK leaves BillingMode out.
        expect(p.BillingMode ?? 'PROVISIONED').toBe('PROVISIONED');
        expect(p.ProvisionedThroughput).toEqual({
          ReadCapacityUnits: billing.readUnits.min,
          WriteCapacityUnits: billing.writeUnits.min,
        });
      } else {
        expect(p.BillingMode).toBe('PAY_PER_REQUEST');
      }
      expect(prod.combined.Resources[definition.id]?.Properties?.BillingMode).toBe('PAY_PER_REQUEST');
      expect(p.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(p.TimeToLiveSpecification).toEqual(
        definition.timeToLiveAttribute
          ? { AttributeName: definition.timeToLiveAttribute, Enabled: true }
          : undefined,
      );
      expect(p.SSESpecification).toMatchObject({ SSEEnabled: true, SSEType: 'KMS' });
      expect(p.DeletionProtectionEnabled).toBe(true);
      expect(table?.DeletionPolicy).toBe('Retain');
    });
  }

  it('has no tables other than the definitions and the ETL run lease', () => {
    const ids = resourcesOfType(app, 'AWS::DynamoDB::Table')
      .map((t) => t.logicalId)
      .sort();
    expect(ids.filter((id) => id.startsWith('EtlLeaseTable'))).toHaveLength(1);
    expect(ids.filter((id) => !id.startsWith('EtlLeaseTable'))).toEqual(TABLES.map((t) => t.id).sort());
  });
});

describe('features table capacity (stage cost option)', () => {
  it('auto-scales a provisioned features table on utilisation between the stage bounds', () => {
    const c = app.config.featuresTable;
    if (c.billing !== 'provisioned')
      throw new Error('the dev stage is expected to use a provisioned features table');
    const targets = resourcesOfType(app, 'AWS::ApplicationAutoScaling::ScalableTarget');
    const byDimension = Object.fromEntries(
      targets.map((t) => [t.properties.ScalableDimension, t.properties]),
    );
    expect(byDimension['dynamodb:table:WriteCapacityUnits']).toMatchObject({
      MinCapacity: c.writeUnits.min,
      MaxCapacity: c.writeUnits.max,
      ServiceNamespace: 'dynamodb',
    });
    expect(byDimension['dynamodb:table:ReadCapacityUnits']).toMatchObject({
      MinCapacity: c.readUnits.min,
      MaxCapacity: c.readUnits.max,
    });
    expect(targets).toHaveLength(2);
    const policies = resourcesOfType(app, 'AWS::ApplicationAutoScaling::ScalingPolicy');
    expect(policies).toHaveLength(2);
    for (const policy of policies) {
      expect(policy.properties).toMatchObject({
        PolicyType: 'TargetTrackingScaling',
        TargetTrackingScalingPolicyConfiguration: { TargetValue: c.targetUtilizationPercent },
      });
    }
    expect(resourcesOfType(prod, 'AWS::ApplicationAutoScaling::ScalableTarget')).toHaveLength(0);
  });
});

describe('Kinesis stream matches resources.ts', () => {
  it('has the stage capacity mode, KMS encryption, the defined retention and logical id', () => {
    for (const synthesized of [app, prod]) {
      const stream = synthesized.combined.Resources[EVENTS_STREAM.id];
      expect(stream?.Type).toBe('AWS::Kinesis::Stream');
      const mode = synthesized.config.stream;
      expect(stream?.Properties).toMatchObject({
        StreamModeDetails: { StreamMode: mode.mode === 'provisioned' ? 'PROVISIONED' : 'ON_DEMAND' },
        RetentionPeriodHours: EVENTS_STREAM.retentionHours,
        StreamEncryption: { EncryptionType: 'KMS' },
      });
      if (mode.mode === 'provisioned') expect(stream?.Properties?.ShardCount).toBe(mode.shards);
      else expect(stream?.Properties?.ShardCount).toBeUndefined();
      expect(resourcesOfType(synthesized, 'AWS::Kinesis::Stream')).toHaveLength(1);
    }
    expect(app.config.stream).toEqual({ mode: 'provisioned', shards: 1 });
    expect(prod.config.stream).toEqual({ mode: 'on-demand' });
  });
});

describe('recommendations Lambda', () => {
  const fn = resourcesOfType(app, 'AWS::Lambda::Function').find((f) =>
    String(f.properties.Description).startsWith('GET recommendations'),
  );

  it('names both tables in its environment', () => {
    const env =
      (fn?.properties.Environment as { Variables: Record<string, unknown> } | undefined)?.Variables ?? {};
    expect(env.RECOMMENDATIONS_TABLE_NAME).toEqual({ Ref: 'RecommendationsTable' });
    expect(env.FEATURES_TABLE_NAME).toEqual({ Ref: 'FeaturesTable' });
  });

  it('may only read the tables', () => {
    const policies = resourcesOfType(app, 'AWS::IAM::Policy').filter((p) =>
      p.logicalId.startsWith('RecommendationsFunctionRole'),
    );
    const actions = policies.flatMap((p) =>
      (p.properties.PolicyDocument as { Statement: { Action: string | string[] }[] }).Statement.flatMap((s) =>
        ([] as string[]).concat(s.Action),
      ),
    );
    const dynamo = actions.filter((a) => a.startsWith('dynamodb:'));
    expect(dynamo.length).toBeGreaterThan(0);
    expect(dynamo.filter((a) => /Put|Update|Delete|Write/.test(a))).toEqual([]);
  });
});
