/**
 * A CloudFormation-shaped template of the stateful resources, built from
 * `infra/definitions/resources.ts`. It stands in for the CDK-synthesized template until the CDK
 * app can synthesize in-process; `provisionFromTemplate` only reads CloudFormation resource
 * properties, so swapping in the synthesized template changes nothing downstream.
 */
import {
  EVENTS_STREAM,
  type KeyAttribute,
  TABLES,
  type TableDefinition,
} from '../../infra/definitions/resources.ts';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
}

function keySchema(partitionKey: KeyAttribute, sortKey?: KeyAttribute) {
  const schema = [{ AttributeName: partitionKey.AttributeName, KeyType: 'HASH' }];
  if (sortKey) schema.push({ AttributeName: sortKey.AttributeName, KeyType: 'RANGE' });
  return schema;
}

function tableResource(table: TableDefinition): CfnResource {
  const attributes = new Map<string, KeyAttribute>();
  const add = (a?: KeyAttribute) => {
    if (a) attributes.set(a.AttributeName, a);
  };
  add(table.partitionKey);
  add(table.sortKey);
  for (const gsi of table.globalSecondaryIndexes ?? []) {
    add(gsi.partitionKey);
    add(gsi.sortKey);
  }
  const properties: Record<string, unknown> = {
    KeySchema: keySchema(table.partitionKey, table.sortKey),
    AttributeDefinitions: [...attributes.values()].map((a) => ({
      AttributeName: a.AttributeName,
      AttributeType: a.AttributeType,
    })),
    BillingMode: 'PAY_PER_REQUEST',
  };
  if (table.globalSecondaryIndexes?.length) {
    properties.GlobalSecondaryIndexes = table.globalSecondaryIndexes.map((g) => ({
      IndexName: g.IndexName,
      KeySchema: keySchema(g.partitionKey, g.sortKey),
      Projection: { ProjectionType: 'ALL' },
    }));
  }
  if (table.timeToLiveAttribute) {
    properties.TimeToLiveSpecification = { AttributeName: table.timeToLiveAttribute, Enabled: true };
  }
  return { Type: 'AWS::DynamoDB::Table', Properties: properties };
}

/** The stateful resources of `resources.ts` as a CloudFormation template (logical id = definition id). */
export function definitionsToTemplate(): CfnTemplate {
  const resources: Record<string, CfnResource> = {};
  for (const table of TABLES) resources[table.id] = tableResource(table);
  resources[EVENTS_STREAM.id] = {
    Type: 'AWS::Kinesis::Stream',
    Properties: {
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      RetentionPeriodHours: EVENTS_STREAM.retentionHours,
    },
  };
  return { Resources: resources };
}
