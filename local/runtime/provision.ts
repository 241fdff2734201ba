/**
 * Creates the stateful resources of a CloudFormation template through the AWS APIs
 * (`AWS::DynamoDB::Table` → CreateTable, `AWS::Kinesis::Stream` → CreateStream).
 *
 * Why template-driven: the local runtime and the integration tests must create exactly what
 * `cdk deploy` creates, so they read the synthesized template instead of a second description
 * of the resources. It works against the in-process emulators, LocalStack or a real account.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  ResourceInUseException as StreamInUseException,
  waitUntilStreamExists,
} from '@aws-sdk/client-kinesis';
import type { CfnTemplate } from './template.ts';

export interface ProvisionClients {
  readonly dynamodb: DynamoDBClient;
  readonly kinesis: KinesisClient;
}

export interface ProvisionOptions {
  /** Physical names are `<prefix>-<LogicalId>`. @default 'shoplake' */
  readonly namePrefix?: string;
  /** Shard count for on-demand streams (which have no ShardCount). @default 2 */
  readonly onDemandShardCount?: number;
  /** Max wait for a resource to become active. @default 120_000 */
  readonly maxWaitMs?: number;
}

export interface ProvisionedResource {
  readonly logicalId: string;
  readonly type: 'AWS::DynamoDB::Table' | 'AWS::Kinesis::Stream';
  readonly physicalName: string;
  /** `created`, or `exists` when a previous run (persisted state) already made it. */
  readonly status: 'created' | 'exists';
  /** Notes on properties the endpoint could not apply (e.g. TTL on dynalite). */
  readonly notes: readonly string[];
  readonly arn?: string;
}

export class InvalidTemplateError extends Error {
  constructor(logicalId: string, message: string) {
    super(`template resource ${logicalId}: ${message}`);
    this.name = 'InvalidTemplateError';
  }
}

const SUPPORTED = new Set(['AWS::DynamoDB::Table', 'AWS::Kinesis::Stream']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(id: string, v: unknown, what: string): string {
  if (typeof v !== 'string' || v === '') throw new InvalidTemplateError(id, `${what} must be a string`);
  return v;
}

function list(id: string, v: unknown, what: string): Record<string, unknown>[] {
  if (!Array.isArray(v) || !v.every(isRecord))
    throw new InvalidTemplateError(id, `${what} must be a list of objects`);
  return v;
}

function keySchema(id: string, v: unknown): { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[] {
  return list(id, v, 'KeySchema').map((k) => {
    const keyType = str(id, k.KeyType, 'KeyType');
    if (keyType !== 'HASH' && keyType !== 'RANGE')
      throw new InvalidTemplateError(id, `bad KeyType ${keyType}`);
    return { AttributeName: str(id, k.AttributeName, 'AttributeName'), KeyType: keyType as 'HASH' | 'RANGE' };
  });
}

/** Physical name: the template's explicit name if set (a plain string), else `<prefix>-<logicalId>`. */
function physicalName(prefix: string, logicalId: string, explicit: unknown): string {
  return typeof explicit === 'string' && explicit !== '' ? explicit : `${prefix}-${logicalId}`;
}

function isInUse(error: unknown): boolean {
  return (
    error instanceof ResourceInUseException ||
    error instanceof StreamInUseException ||
    (error instanceof Error && error.name === 'ResourceInUseException')
  );
}

/** Sends a create call: 'created', or 'exists' when the resource is already there (re-runs). */
async function createOrFind(create: () => Promise<unknown>): Promise<'created' | 'exists'> {
  try {
    await create();
    return 'created';
  } catch (error: unknown) {
    if (!isInUse(error)) throw error;
    return 'exists';
  }
}

async function createTable(
  client: DynamoDBClient,
  logicalId: string,
  props: Record<string, unknown>,
  name: string,
  maxWaitMs: number,
): Promise<ProvisionedResource> {
  const input: CreateTableCommandInput = {
    TableName: name,
    KeySchema: keySchema(logicalId, props.KeySchema),
    AttributeDefinitions: list(logicalId, props.AttributeDefinitions, 'AttributeDefinitions').map((a) => {
      const t = str(logicalId, a.AttributeType, 'AttributeType');
      if (t !== 'S' && t !== 'N' && t !== 'B')
        throw new InvalidTemplateError(logicalId, `bad AttributeType ${t}`);
      return { AttributeName: str(logicalId, a.AttributeName, 'AttributeName'), AttributeType: t };
    }),
  };
  const onDemand = props.BillingMode === 'PAY_PER_REQUEST' || props.ProvisionedThroughput === undefined;
  if (onDemand) input.BillingMode = 'PAY_PER_REQUEST';
  else input.ProvisionedThroughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
  if (props.GlobalSecondaryIndexes !== undefined) {
    input.GlobalSecondaryIndexes = list(
      logicalId,
      props.GlobalSecondaryIndexes,
      'GlobalSecondaryIndexes',
    ).map((g) => {
      const projection = isRecord(g.Projection) ? g.Projection : { ProjectionType: 'ALL' };
      const projectionType = projection.ProjectionType;
      return {
        IndexName: str(logicalId, g.IndexName, 'IndexName'),
        KeySchema: keySchema(logicalId, g.KeySchema),
        Projection: {
          ProjectionType:
            projectionType === 'KEYS_ONLY' || projectionType === 'INCLUDE' ? projectionType : 'ALL',
          ...(Array.isArray(projection.NonKeyAttributes)
            ? { NonKeyAttributes: projection.NonKeyAttributes.map(String) }
            : {}),
        },
        ...(onDemand ? {} : { ProvisionedThroughput: { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }),
      };
    });
  }
  const status = await createOrFind(() => client.send(new CreateTableCommand(input)));
  await waitUntilTableExists(
    { client, maxWaitTime: Math.ceil(maxWaitMs / 1000), minDelay: 1 },
    { TableName: name },
  );
  const notes: string[] = [];
  const ttl = props.TimeToLiveSpecification;
  if (isRecord(ttl) && ttl.Enabled === true) {
    const attribute = str(logicalId, ttl.AttributeName, 'TimeToLiveSpecification.AttributeName');
    try {
      await client.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: attribute, Enabled: true },
        }),
      );
    } catch (error: unknown) {
      const errName = error instanceof Error ? error.name : String(error);
      // dynalite has no TTL API; a re-run against AWS answers "TimeToLive is already enabled".
      if (errName === 'UnknownOperationException')
        notes.push(`TTL on ${attribute} not supported by this endpoint`);
      else if (!(error instanceof Error && /already enabled/i.test(error.message))) throw error;
    }
  }
  return { logicalId, type: 'AWS::DynamoDB::Table', physicalName: name, status, notes };
}

async function createStream(
  client: KinesisClient,
  logicalId: string,
  props: Record<string, unknown>,
  name: string,
  onDemandShards: number,
  maxWaitMs: number,
): Promise<ProvisionedResource> {
  const shardCount = typeof props.ShardCount === 'number' ? props.ShardCount : onDemandShards;
  const notes: string[] = [];
  if (typeof props.ShardCount !== 'number') notes.push(`on-demand stream emulated with ${shardCount} shards`);
  const status = await createOrFind(() =>
    client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shardCount })),
  );
  await waitUntilStreamExists(
    { client, maxWaitTime: Math.ceil(maxWaitMs / 1000), minDelay: 1 },
    { StreamName: name },
  );
  const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: name }));
  const arn = summary.StreamDescriptionSummary?.StreamARN;
  return {
    logicalId,
    type: 'AWS::Kinesis::Stream',
    physicalName: name,
    status,
    notes,
    ...(arn ? { arn } : {}),
  };
}

/**
 * Creates every supported resource of the template (idempotent: existing resources are kept).
 * Other resource types are ignored: the local runtime supplies those services itself.
 */
export async function provisionFromTemplate(
  template: CfnTemplate,
  clients: ProvisionClients,
  options: ProvisionOptions = {},
): Promise<ProvisionedResource[]> {
  const prefix = options.namePrefix ?? 'shoplake';
  const maxWaitMs = options.maxWaitMs ?? 120_000;
  const out: ProvisionedResource[] = [];
  for (const [logicalId, resource] of Object.entries(template.Resources)) {
    if (!SUPPORTED.has(resource.Type)) continue;
    const props = resource.Properties ?? {};
    if (resource.Type === 'AWS::DynamoDB::Table') {
      const name = physicalName(prefix, logicalId, props.TableName);
      out.push(await createTable(clients.dynamodb, logicalId, props, name, maxWaitMs));
    } else {
      const name = physicalName(prefix, logicalId, props.Name);
      out.push(
        await createStream(
          clients.kinesis,
          logicalId,
          props,
          name,
          options.onDemandShardCount ?? 2,
          maxWaitMs,
        ),
      );
    }
  }
  return out;
}

/**
 * Finds the provisioned resource of a definition id (`FeaturesTable`): the exact logical id, or
 * the single CDK logical id that contains it (`StorageFeaturesTableA1B2C3D4`).
 */
export function resourceFor(
  resources: readonly ProvisionedResource[],
  definitionId: string,
): ProvisionedResource {
  const exact = resources.find((r) => r.logicalId === definitionId);
  if (exact) return exact;
  const matches = resources.filter((r) => r.logicalId.includes(definitionId));
  if (matches.length !== 1 || !matches[0]) {
    throw new Error(`expected exactly one provisioned resource for ${definitionId}, found ${matches.length}`);
  }
  return matches[0];
}
