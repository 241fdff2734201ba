/**
 * A deployed shoplake stage, as the CLI sees it (`shoplake tables|etl|train --stage <name>`):
 * resource names come from the stacks' CloudFormation outputs, the lake's tables from the Glue
 * Data Catalog plus each table's Iceberg metadata file in S3, and ETL/training runs are Step
 * Functions executions started and followed here. Every function takes its SDK clients, so
 * tests point them at a local HTTP endpoint; `deployedClients()` builds the real ones (region,
 * credentials and `AWS_ENDPOINT_URL*` from the standard AWS environment).
 */
import { gunzipSync } from 'node:zlib';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GlueClient, paginateGetTables } from '@aws-sdk/client-glue';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  GetExecutionHistoryCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { stackName } from '../../infra/definitions/stack-names.ts';
import { clientConfig } from '../../lambdas/shared/aws-clients.ts';

export interface DeployedClients {
  readonly cloudformation: CloudFormationClient;
  readonly glue: GlueClient;
  readonly s3: S3Client;
  readonly sfn: SFNClient;
}

/**
 * SDK clients for a deployed stage with the project's retry/timeout settings. With a custom
 * endpoint (`AWS_ENDPOINT_URL`, e.g. LocalStack) S3 is addressed path-style.
 */
export function deployedClients(env: NodeJS.ProcessEnv = process.env): DeployedClients {
  const customEndpoint = Boolean(env.AWS_ENDPOINT_URL || env.AWS_ENDPOINT_URL_S3);
  return {
    cloudformation: new CloudFormationClient(clientConfig()),
    glue: new GlueClient(clientConfig()),
    s3: new S3Client({
      ...clientConfig(),
      forcePathStyle: customEndpoint,
      requestChecksumCalculation: 'WHEN_REQUIRED',
    }),
    sfn: new SFNClient(clientConfig()),
  };
}

/** Closes the clients' connection pools. */
export function destroyClients(clients: DeployedClients): void {
  clients.cloudformation.destroy();
  clients.glue.destroy();
  clients.s3.destroy();
  clients.sfn.destroy();
}

/** Output keys the CLI reads, by the stack (concern) that defines them. */
export const STAGE_OUTPUTS = {
  lakeBucket: { concern: 'Storage', key: 'LakeBucketName' },
  glueDatabases: { concern: 'Storage', key: 'GlueDatabaseNames' },
  etlStateMachine: { concern: 'Processing', key: 'EtlStateMachineArn' },
  trainStateMachine: { concern: 'Processing', key: 'TrainStateMachineArn' },
  apiUrl: { concern: 'Api', key: 'ApiUrl' },
} as const;
export type StageOutput = keyof typeof STAGE_OUTPUTS;

export class DeployedStageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeployedStageError';
  }
}

/**
 * Reads one output of a deployed stage's stack; throws `DeployedStageError` naming the stack
 * and the output when either is missing (an older deployment: `cdk deploy` adds it).
 */
export async function stageOutput(
  cloudformation: CloudFormationClient,
  stage: string,
  output: StageOutput,
): Promise<string> {
  const { concern, key } = STAGE_OUTPUTS[output];
  const name = stackName({ stage }, concern);
  let outputs: { OutputKey?: string; OutputValue?: string }[];
  try {
    const described = await cloudformation.send(new DescribeStacksCommand({ StackName: name }));
    outputs = described.Stacks?.[0]?.Outputs ?? [];
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    if (/does not exist/.test(message))
      throw new DeployedStageError(
        `stack ${name} of stage ${stage} is not deployed (${message}); deploy it with: npx cdk deploy --all -c stage=${stage}`,
      );
    throw new DeployedStageError(`cannot read stack ${name} of stage ${stage}: ${message}`);
  }
  const value = outputs.find((o) => o.OutputKey === key)?.OutputValue;
  if (!value) {
    throw new DeployedStageError(
      `stack ${name} has no output ${key} (it has: ${outputs.map((o) => o.OutputKey).join(', ') || 'none'}); redeploy the stage with this version of shoplake`,
    );
  }
  return value;
}

/** One lake table of a deployed stage. */
export interface DeployedTable {
  readonly table: string;
  /** `ICEBERG` for the lake's tables (Glue's `table_type`), else Glue's table type. */
  readonly format: string;
  readonly status: 'ok' | 'damaged' | 'not-iceberg';
  readonly metadataLocation?: string;
  readonly formatVersion?: number;
  /** Current snapshot id (a 64-bit integer, kept as text); absent before the first commit. */
  readonly snapshotId?: string;
  readonly snapshotAt?: string;
  /** From the current snapshot's summary (`total-records`, `total-data-files`). */
  readonly rows?: number;
  readonly files?: number;
  readonly error?: string;
}

const ID_KEYS = /"(snapshot-id|current-snapshot-id|parent-snapshot-id)"\s*:\s*(-?\d+)/g;

const IcebergMetadataSummary = z.looseObject({
  'format-version': z.number().int(),
  'current-snapshot-id': z.string().nullable().optional(),
  snapshots: z
    .array(
      z.looseObject({
        'snapshot-id': z.string(),
        'timestamp-ms': z.number(),
        summary: z.record(z.string(), z.unknown()).optional(),
      }),
    )
    .optional(),
});

/**
 * The current snapshot of an Iceberg table metadata file (JSON text). Snapshot ids are 64-bit
 * integers, beyond JavaScript's exact range, so they are read as text.
 */
export function currentSnapshotOf(
  text: string,
): Pick<DeployedTable, 'formatVersion' | 'snapshotId' | 'snapshotAt' | 'rows' | 'files'> {
  const parsed = IcebergMetadataSummary.safeParse(JSON.parse(text.replace(ID_KEYS, '"$1":"$2"')));
  if (!parsed.success) {
    throw new DeployedStageError(
      `not an Iceberg table metadata file: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const m = parsed.data;
  const current = m['current-snapshot-id'];
  const out = { formatVersion: m['format-version'] };
  if (current === undefined || current === null || current === '-1') return out;
  const snapshot = (m.snapshots ?? []).find((s) => s['snapshot-id'] === current);
  if (!snapshot) throw new DeployedStageError(`current-snapshot-id ${current} is not in snapshots`);
  const count = (key: string): number | undefined => {
    const v = snapshot.summary?.[key];
    const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
    return Number.isFinite(n) ? n : undefined;
  };
  const rows = count('total-records');
  const files = count('total-data-files');
  return {
    ...out,
    snapshotId: current,
    snapshotAt: new Date(snapshot['timestamp-ms']).toISOString(),
    ...(rows !== undefined ? { rows } : {}),
    ...(files !== undefined ? { files } : {}),
  };
}

/** `s3://bucket/key` → its parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3a?:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match?.[1] || !match[2]) throw new DeployedStageError(`not an s3:// object location: ${uri}`);
  return { bucket: match[1], key: match[2] };
}

async function readObjectText(s3: S3Client, uri: string): Promise<string> {
  const { bucket, key } = parseS3Uri(uri);
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!object.Body) throw new DeployedStageError(`${uri} has no body`);
  const bytes = await object.Body.transformToByteArray();
  return key.endsWith('.gz') ? gunzipSync(bytes).toString('utf8') : Buffer.from(bytes).toString('utf8');
}

/**
 * Every table of the given Glue databases with its Iceberg metadata location and current
 * snapshot. A table whose metadata file cannot be read is listed as `damaged` with the reason;
 * the others are listed as usual.
 */
export async function listDeployedTables(
  clients: Pick<DeployedClients, 'glue' | 's3'>,
  databases: readonly string[],
): Promise<DeployedTable[]> {
  const out: DeployedTable[] = [];
  for (const database of databases) {
    for await (const page of paginateGetTables({ client: clients.glue }, { DatabaseName: database })) {
      for (const t of page.TableList ?? []) {
        const params = t.Parameters ?? {};
        const table = `${database}.${t.Name ?? '?'}`;
        const format = (params.table_type ?? t.TableType ?? 'unknown').toUpperCase();
        const metadataLocation = params.metadata_location;
        if (format !== 'ICEBERG' || !metadataLocation) {
          out.push({ table, format, status: 'not-iceberg' });
          continue;
        }
        try {
          const snapshot = currentSnapshotOf(await readObjectText(clients.s3, metadataLocation));
          out.push({ table, format, status: 'ok', metadataLocation, ...snapshot });
        } catch (error: unknown) {
          out.push({
            table,
            format,
            status: 'damaged',
            metadataLocation,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
    }
  }
  return out.sort((a, b) => a.table.localeCompare(b.table));
}

/** The lake tables of a deployed stage (databases from the Storage stack's outputs). */
export async function deployedStageTables(clients: DeployedClients, stage: string): Promise<DeployedTable[]> {
  const databases = (await stageOutput(clients.cloudformation, stage, 'glueDatabases'))
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d.length > 0);
  return listDeployedTables(clients, databases);
}

/** How an execution of a deployed state machine ended. */
export interface DeployedExecution {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly status: string;
  readonly startDate?: string;
  readonly stopDate?: string;
  /** States entered, in order. */
  readonly states: string[];
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
}

export interface FollowOptions {
  /** Poll interval. @default 5000 */
  readonly pollMs?: number;
  /** Give up following (the execution goes on) after this long. @default 6 h (the execution timeout) */
  readonly timeoutMs?: number;
  readonly onState?: (state: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

export class FollowTimeoutError extends Error {
  constructor(readonly executionArn: string) {
    super(`stopped following ${executionArn}: it is still running`);
    this.name = 'FollowTimeoutError';
  }
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * Starts an execution of a deployed state machine (`stage` output `machine`) with `input`
 * and follows it until it ends, reporting each state entered.
 */
export async function startAndFollow(
  clients: Pick<DeployedClients, 'cloudformation' | 'sfn'>,
  stage: string,
  machine: 'etlStateMachine' | 'trainStateMachine',
  input: Record<string, unknown>,
  options: FollowOptions = {},
): Promise<DeployedExecution> {
  const stateMachineArn = await stageOutput(clients.cloudformation, stage, machine);
  const started = await clients.sfn.send(
    new StartExecutionCommand({ stateMachineArn, input: JSON.stringify(input) }),
  );
  if (!started.executionArn)
    throw new DeployedStageError(`StartExecution on ${stateMachineArn} returned no ARN`);
  return followExecution(clients.sfn, started.executionArn, options);
}

/** Follows an execution until it is no longer RUNNING (or `timeoutMs` passes). */
export async function followExecution(
  sfn: SFNClient,
  executionArn: string,
  options: FollowOptions = {},
): Promise<DeployedExecution> {
  const pollMs = options.pollMs ?? 5_000;
  const deadline = Date.now() + (options.timeoutMs ?? 6 * 3_600_000);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const states: string[] = [];
  let seen = 0;
  for (;;) {
    // The whole history each time (oldest first), reporting only the events not seen yet.
    let token: string | undefined;
    let index = 0;
    do {
      const page = await sfn.send(
        new GetExecutionHistoryCommand({ executionArn, nextToken: token, maxResults: 1000 }),
      );
      for (const event of page.events ?? []) {
        index++;
        if (index <= seen) continue;
        seen = index;
        const name = event.stateEnteredEventDetails?.name;
        if (name) {
          states.push(name);
          options.onState?.(name);
        }
      }
      token = page.nextToken;
    } while (token);
    const described: DescribeExecutionCommandOutput = await sfn.send(
      new DescribeExecutionCommand({ executionArn }),
    );
    if (described.status && described.status !== 'RUNNING' && described.status !== 'PENDING_REDRIVE') {
      return {
        executionArn,
        stateMachineArn: described.stateMachineArn ?? '',
        status: described.status,
        ...(described.startDate ? { startDate: described.startDate.toISOString() } : {}),
        ...(described.stopDate ? { stopDate: described.stopDate.toISOString() } : {}),
        states,
        ...(described.output !== undefined ? { output: parseJson(described.output) } : {}),
        ...(described.error ? { error: described.error } : {}),
        ...(described.cause ? { cause: described.cause } : {}),
      };
    }
    if (Date.now() >= deadline) throw new FollowTimeoutError(executionArn);
    await sleep(pollMs);
  }
}
