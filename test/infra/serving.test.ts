/**
 * Serving and the shared resource definitions: the synthesized DynamoDB tables and Kinesis
 * stream must match `infra/definitions/resources.ts` (which the local runtime provisions from
 * the same template), and the recommendations Lambda gets least-privilege access.
 */
import { describe, expect, it } from 'vitest';
import { EVENTS_STREAM, TABLES } from '../../infra/definitions/resources.ts';
import { resourcesOfType, synth } from './helpers.ts';

const app = synth({ stage: 'dev' });

describe('DynamoDB tables match resources.ts', () => {
  for (const definition of TABLES) {
    it(`${definition.id}: keys, TTL, on-demand, PITR, KMS`, () => {
      const table = app.combined.Resources[definition.id];
      expect(table?.Type).toBe('AWS::DynamoDB::Table');
      const p = table?.Properties ?? {};
      const keySchema = [{ AttributeName: definition.partitionKey.AttributeName, KeyType: 'HASH' }];
      if (definition.sortKey)
        keySchema.push({ AttributeName: definition.sortKey.AttributeName, KeyType: 'RANGE' });
      expect(p.KeySchema).toEqual(keySchema);
      const attributes = [definition.partitionKey, ...(definition.sortKey ? [definition.sortKey] : [])];
      expect(p.AttributeDefinitions).toEqual(expect.arrayContaining(attributes.map((a) => ({ ...a }))));
      expect(p.BillingMode).toBe('PAY_PER_REQUEST');
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

  it('has no tables other than the definitions', () => {
    expect(
      resourcesOfType(app, 'AWS::DynamoDB::Table')
        .map((t) => t.logicalId)
        .sort(),
    ).toEqual(TABLES.map((t) => t.id).sort());
  });
});

describe('Kinesis stream matches resources.ts', () => {
  it('is on-demand, KMS-encrypted, with the defined retention and logical id', () => {
    const stream = app.combined.Resources[EVENTS_STREAM.id];
    expect(stream?.Type).toBe('AWS::Kinesis::Stream');
    expect(stream?.Properties).toMatchObject({
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      RetentionPeriodHours: EVENTS_STREAM.retentionHours,
      StreamEncryption: { EncryptionType: 'KMS' },
    });
    expect(resourcesOfType(app, 'AWS::Kinesis::Stream')).toHaveLength(1);
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
