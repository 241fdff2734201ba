/**
 * The bridge to the local runtime: the synthesized template provisions the emulators
 * (`provisionFromTemplate`, the same function the local runtime and integration tests use), and
 * what gets created has exactly the key schema, TTL and stream settings of
 * `infra/definitions/resources.ts`. So the local stack is built from what `cdk deploy` creates.
 */
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_STREAM, TABLES } from '../../infra/definitions/resources.ts';
import { type Emulator, startDynamoDbEmulator, startKinesisEmulator } from '../../local/runtime/emulators.ts';
import {
  type ProvisionedResource,
  provisionFromTemplate,
  resourceFor,
} from '../../local/runtime/provision.ts';
import { synth } from './helpers.ts';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
let emulators: Emulator[] = [];
let dynamodb: DynamoDBClient;
let kinesis: KinesisClient;
let provisioned: ProvisionedResource[];

beforeAll(async () => {
  const [ddb, kin] = await Promise.all([startDynamoDbEmulator(), startKinesisEmulator()]);
  emulators = [ddb, kin];
  const common = { region: 'us-east-1', credentials, requestHandler: new NodeHttpHandler(), maxAttempts: 2 };
  dynamodb = new DynamoDBClient({ ...common, endpoint: ddb.endpoint });
  kinesis = new KinesisClient({ ...common, endpoint: kin.endpoint });
  const { combined } = synth({ stage: 'dev' });
  provisioned = await provisionFromTemplate(
    combined,
    { dynamodb, kinesis },
    { namePrefix: 'infra-test', maxWaitMs: 30_000 },
  );
});

afterAll(async () => {
  dynamodb?.destroy();
  kinesis?.destroy();
  await Promise.all(emulators.map((e) => e.close()));
});

describe('provisioning the emulators from the synthesized template', () => {
  it('creates exactly the defined tables and stream, and the ETL run-lease table', () => {
    const ids = provisioned.map((r) => r.logicalId).sort();
    // The processing stack's lease table (one ETL run at a time) is provisioned for the local runner too.
    expect(ids.filter((id) => id.startsWith('EtlLeaseTable'))).toHaveLength(1);
    expect(ids.filter((id) => !id.startsWith('EtlLeaseTable'))).toEqual(
      [...TABLES.map((t) => t.id), EVENTS_STREAM.id].sort(),
    );
  });

  for (const definition of TABLES) {
    it(`${definition.id} has the defined keys and TTL`, async () => {
      const name = resourceFor(provisioned, definition.id).physicalName;
      const { Table } = await dynamodb.send(new DescribeTableCommand({ TableName: name }));
      const keys = [{ AttributeName: definition.partitionKey.AttributeName, KeyType: 'HASH' }];
      if (definition.sortKey)
        keys.push({ AttributeName: definition.sortKey.AttributeName, KeyType: 'RANGE' });
      expect(Table?.KeySchema).toEqual(keys);
      // The template's capacity mode (the dev features table is provisioned, a cost option).
      const props = synth({ stage: 'dev' }).combined.Resources[definition.id]?.Properties ?? {};
      if (props.ProvisionedThroughput !== undefined) {
        expect(Table?.BillingModeSummary?.BillingMode ?? 'PROVISIONED').toBe('PROVISIONED');
        expect(Table?.ProvisionedThroughput?.WriteCapacityUnits).toBeGreaterThan(0);
      } else {
        expect(Table?.BillingModeSummary?.BillingMode ?? 'PAY_PER_REQUEST').toBe('PAY_PER_REQUEST');
      }
      if (definition.timeToLiveAttribute) {
        const notes = resourceFor(provisioned, definition.id).notes.join(' ');
        if (notes.includes('not supported')) {
          // dynalite has no UpdateTimeToLive; provisioning records that instead of failing.
          expect(notes).toContain(`TTL on ${definition.timeToLiveAttribute}`);
        } else {
          const ttl = await dynamodb.send(new DescribeTimeToLiveCommand({ TableName: name }));
          expect(ttl.TimeToLiveDescription?.AttributeName).toBe(definition.timeToLiveAttribute);
        }
      }
    });
  }

  it('creates the events stream with the defined retention', async () => {
    const name = resourceFor(provisioned, EVENTS_STREAM.id).physicalName;
    const { StreamDescriptionSummary } = await kinesis.send(
      new DescribeStreamSummaryCommand({ StreamName: name }),
    );
    expect(StreamDescriptionSummary?.StreamStatus).toBe('ACTIVE');
    expect(StreamDescriptionSummary?.RetentionPeriodHours).toBe(EVENTS_STREAM.retentionHours);
  });
});
