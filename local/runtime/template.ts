/**
 * Where the local runtime's resources come from. `provisionFromTemplate` only reads
 * CloudFormation resource properties, so it takes either
 *  - the CDK-synthesized template, from a file named by `SHOPLAKE_TEMPLATE_FILE` (the
 *    integration tests synthesize the app once in their global set-up and use it, so tests and
 *    infrastructure cannot drift — SPEC design rule 6), or
 *  - by default, a template built from `infra/definitions/resources.ts`, the same definitions
 *    the CDK stacks build their tables and stream from (fast: no CDK synth on every CLI run;
 *    `test/infra/provision.test.ts` checks that both give the same emulator resources).
 */
import { readFileSync } from 'node:fs';
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

export class TemplateFileError extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(`cannot use CloudFormation template ${file}: ${reason}`);
    this.name = 'TemplateFileError';
  }
}

/** Reads a CloudFormation template (JSON) from a file, e.g. one written by `cdk synth`. */
export function loadTemplateFile(file: string): CfnTemplate {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
  } catch (error: unknown) {
    throw new TemplateFileError(file, error instanceof Error ? error.message : String(error));
  }
  const resources = (parsed as { Resources?: unknown } | null)?.Resources;
  if (typeof resources !== 'object' || resources === null || Array.isArray(resources)) {
    throw new TemplateFileError(file, 'it has no Resources object');
  }
  return { Resources: resources as Record<string, CfnResource> };
}

/** The template the runtime provisions by default: `SHOPLAKE_TEMPLATE_FILE`, else the definitions. */
export function defaultTemplate(env: NodeJS.ProcessEnv = process.env): CfnTemplate {
  const file = env.SHOPLAKE_TEMPLATE_FILE;
  return file ? loadTemplateFile(file) : definitionsToTemplate();
}
