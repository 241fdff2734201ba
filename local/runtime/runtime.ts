/**
 * The embedded default: everything the AWS deployment has on the real-time path, in this
 * process — Kinesis and DynamoDB emulators, resources created from the CloudFormation template,
 * a Lambda-like event-source mapping feeding the real stream-consumer handler, and a
 * Firehose-like landing sink. With `SHOPLAKE_EXTERNAL_AWS=1` no emulator starts and the same
 * resources are created at `AWS_ENDPOINT_URL` (LocalStack or a real account).
 */

import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import {
  CONSUMER_EVENT_SOURCE,
  EVENTS_STREAM,
  FEATURES_TABLE,
  RECOMMENDATIONS_TABLE,
} from '../../infra/definitions/resources.ts';
import { CONSUMER_SETTING_VARIABLES } from '../../lambdas/stream-consumer/settings.ts';
import { type Emulator, startDynamoDbEmulator, startKinesisEmulator } from './emulators.ts';
import {
  type EventSourceConfig,
  KinesisEventSourceMapping,
  type KinesisInvoke,
} from './event-source-mapping.ts';
import { LocalFirehose } from './firehose.ts';
import { type ConsumerTotals, jsonLinesLogger, type LocalConsumer, localConsumer } from './handlers.ts';
import { type ProvisionedResource, provisionFromTemplate, resourceFor } from './provision.ts';
import { claimStateDir, STATE_MARKER, StateDirInUseError } from './state-dir.ts';
import { type CfnTemplate, defaultTemplate } from './template.ts';
import type { LocalRuntime } from './types.ts';

/** Repository root (handler modules are resolved from here). */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_STATE_DIR = '.shoplake';
const LOCAL_REGION = 'us-east-1';

export interface StartLocalRuntimeOptions {
  /** Root of local state. @default SHOPLAKE_STATE_DIR or `.shoplake` */
  readonly stateDir?: string;
  /** Keep emulator state on disk under `<stateDir>/emulators`. @default true */
  readonly persist?: boolean;
  /** Template whose resources are created. @default `defaultTemplate()`: SHOPLAKE_TEMPLATE_FILE or the definitions */
  readonly template?: CfnTemplate;
  /**
   * How the stream consumer is invoked:
   *  - `'local'`: `createConsumerHandler` wired from `runtime.env` (as `handler.ts` does), logs
   *    as JSON lines in `<stateDir>/logs/`, per-record outcome totals in `consumerTotals`;
   *  - `'module'`: imports the real module `lambdas/stream-consumer/handler.ts` after applying
   *    `runtime.env` to `process.env` (one runtime per process; no totals);
   *  - a function: builds the handler from the runtime env (tests: faults, several runtimes);
   *  - `false`: no consumer.
   * @default 'local'
   */
  readonly consumer?:
    | 'local'
    | 'module'
    | ((env: Readonly<Record<string, string>>) => KinesisInvoke | LocalConsumer)
    | false;
  /** Start the local Firehose landing sink. @default true */
  readonly firehose?: boolean;
  /** Use AWS_ENDPOINT_URL instead of emulators. @default SHOPLAKE_EXTERNAL_AWS === '1' */
  readonly external?: boolean;
  /** Physical name prefix. @default 'shoplake' */
  readonly namePrefix?: string;
  /** Overrides of the event-source mapping (tests shorten back-off). */
  readonly eventSource?: Partial<EventSourceConfig> & {
    readonly idlePollMs?: number;
    readonly retryBaseDelayMs?: number;
  };
  /** Progress messages. */
  readonly log?: (message: string) => void;
  /** Environment to read SHOPLAKE_* / AWS_* settings from. @default process.env */
  readonly processEnv?: NodeJS.ProcessEnv;
}

/** Narrows the `LocalRuntime` a demo stage receives to this implementation. */
export function isEmbeddedRuntime(runtime: LocalRuntime): runtime is EmbeddedRuntime {
  return 'consumerTotals' in runtime && 'applyEnv' in runtime && 'onFailureFile' in runtime;
}

/** The runtime the CLI and tests get: the `LocalRuntime` contract plus inspection hooks. */
export interface EmbeddedRuntime extends LocalRuntime {
  readonly external: boolean;
  readonly provisioned: readonly ProvisionedResource[];
  readonly consumerMapping: KinesisEventSourceMapping | undefined;
  /** Consumer outcomes summed over all invocations (`'local'` or a factory returning them). */
  readonly consumerTotals: ConsumerTotals | undefined;
  readonly firehoseMapping: KinesisEventSourceMapping | undefined;
  readonly firehose: LocalFirehose | undefined;
  /** NDJSON file of records that exhausted their retries (the on-failure destination). */
  readonly onFailureFile: string;
  /** Sets `runtime.env` on `process.env` (before importing a handler module). */
  applyEnv(): void;
}

export {
  claimStateDir,
  RUNTIME_LOCK_FILE,
  resetStateDir,
  STATE_DIR_IN_USE_EXIT_CODE,
  StateDirInUseError,
} from './state-dir.ts';

function client<T>(
  Ctor: new (config: Record<string, unknown>) => T,
  endpoint: string | undefined,
  local: boolean,
): T {
  return new Ctor({
    region: LOCAL_REGION,
    ...(endpoint ? { endpoint } : {}),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
    maxAttempts: 5,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 3_000, requestTimeout: 30_000 }),
  });
}

async function importConsumerModule(): Promise<KinesisInvoke> {
  const url = pathToFileURL(join(REPO_ROOT, 'lambdas/stream-consumer/handler.ts')).href;
  const mod: unknown = await import(url);
  const handler = (mod as { handler?: unknown }).handler;
  if (typeof handler !== 'function')
    throw new Error('lambdas/stream-consumer/handler.ts does not export handler');
  return async (event: KinesisStreamEvent) =>
    (await (
      handler as (e: KinesisStreamEvent, c: unknown) => Promise<KinesisStreamBatchResponse | undefined>
    )(event, lambdaContext('stream-consumer'))) ?? undefined;
}

/** A Lambda context object good enough for Powertools (names, request id, remaining time). */
export function lambdaContext(functionName: string): Context {
  const requestId = randomUUID();
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `shoplake-local-${functionName}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:000000000000:function:shoplake-local-${functionName}`,
    memoryLimitInMB: '1024',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/shoplake-local-${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** Starts emulators (unless external), provisions resources and starts the stream consumers. */
export async function startLocalRuntime(options: StartLocalRuntimeOptions = {}): Promise<EmbeddedRuntime> {
  const penv = options.processEnv ?? process.env;
  const log = options.log ?? (() => undefined);
  const stateDir = resolve(options.stateDir ?? penv.SHOPLAKE_STATE_DIR ?? DEFAULT_STATE_DIR);
  const lakeDir = join(stateDir, 'lake');
  mkdirSync(lakeDir, { recursive: true });
  writeFileSync(join(stateDir, STATE_MARKER), 'shoplake local state; safe to delete\n');
  const external = options.external ?? penv.SHOPLAKE_EXTERNAL_AWS === '1';
  const persist = options.persist ?? true;

  const release = persist && !external ? claimStateDir(stateDir) : () => {};
  const emulators: Emulator[] = [];
  /** Closes the emulators and gives the state directory back (every failure path and `stop`). */
  const shutDown = async () => {
    await Promise.allSettled(emulators.map((e) => e.close()));
    release();
  };

  let kinesisEndpoint: string;
  let dynamoEndpoint: string;
  if (external) {
    const base = penv.AWS_ENDPOINT_URL;
    const k = penv.AWS_ENDPOINT_URL_KINESIS ?? base;
    const d = penv.AWS_ENDPOINT_URL_DYNAMODB ?? base;
    if (!k || !d) {
      throw new Error(
        'SHOPLAKE_EXTERNAL_AWS=1 needs AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_KINESIS and _DYNAMODB)',
      );
    }
    kinesisEndpoint = k;
    dynamoEndpoint = d;
    log(`using external AWS endpoints: kinesis ${k}, dynamodb ${d}`);
  } else {
    const dataDir = persist ? join(stateDir, 'emulators') : undefined;
    try {
      const [kinesis, dynamodb] = await Promise.all([
        startKinesisEmulator({ ...(dataDir ? { dataDir } : {}) }),
        startDynamoDbEmulator({ ...(dataDir ? { dataDir } : {}) }),
      ]);
      emulators.push(kinesis, dynamodb);
      kinesisEndpoint = kinesis.endpoint;
      dynamoEndpoint = dynamodb.endpoint;
    } catch (error: unknown) {
      await shutDown();
      if (error instanceof Error && /lock/i.test(error.message))
        throw new StateDirInUseError(stateDir, error);
      throw error;
    }
    log(`emulators: kinesis ${kinesisEndpoint}, dynamodb ${dynamoEndpoint}${persist ? '' : ' (in memory)'}`);
  }

  const clients = {
    kinesis: client(KinesisClient, kinesisEndpoint, !external),
    dynamodb: client(DynamoDBClient, dynamoEndpoint, !external),
  };
  const namePrefix = options.namePrefix ?? penv.SHOPLAKE_NAME_PREFIX ?? 'shoplake';
  let provisioned: ProvisionedResource[];
  try {
    provisioned = await provisionFromTemplate(options.template ?? defaultTemplate(), clients, {
      namePrefix,
      onDemandShardCount: EVENTS_STREAM.localShardCount,
    });
  } catch (error: unknown) {
    await shutDown();
    throw error;
  }
  for (const r of provisioned) {
    log(
      `${r.status === 'created' ? 'created' : 'found'} ${r.type} ${r.physicalName}${r.notes.length ? ` (${r.notes.join('; ')})` : ''}`,
    );
  }
  const names = {
    eventsStream: resourceFor(provisioned, EVENTS_STREAM.id).physicalName,
    featuresTable: resourceFor(provisioned, FEATURES_TABLE.id).physicalName,
    recommendationsTable: resourceFor(provisioned, RECOMMENDATIONS_TABLE.id).physicalName,
  };

  const env: Record<string, string> = {
    AWS_REGION: external ? (penv.AWS_REGION ?? LOCAL_REGION) : LOCAL_REGION,
    AWS_DEFAULT_REGION: external ? (penv.AWS_REGION ?? LOCAL_REGION) : LOCAL_REGION,
    AWS_ENDPOINT_URL_KINESIS: kinesisEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
    AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1',
    EVENTS_STREAM_NAME: names.eventsStream,
    FEATURES_TABLE_NAME: names.featuresTable,
    RECOMMENDATIONS_TABLE_NAME: names.recommendationsTable,
    // The quarantine writer adds the `quarantine/` prefix itself: the URI is the lake root.
    QUARANTINE_URI: penv.SHOPLAKE_QUARANTINE_URI ?? pathToFileURL(`${lakeDir}/`).href,
    SHOPLAKE_STATE_DIR: stateDir,
    SHOPLAKE_LAKE_DIR: lakeDir,
    POWERTOOLS_SERVICE_NAME: 'shoplake',
    POWERTOOLS_METRICS_NAMESPACE: 'shoplake',
    POWERTOOLS_LOG_LEVEL: penv.POWERTOOLS_LOG_LEVEL ?? 'WARN',
    // Handler modules imported locally (serve) would print CloudWatch EMF to stdout; the CLI
    // keeps stdout for its own output. Set POWERTOOLS_METRICS_DISABLED=false to see them.
    POWERTOOLS_METRICS_DISABLED: penv.POWERTOOLS_METRICS_DISABLED ?? 'true',
  };
  for (const name of CONSUMER_SETTING_VARIABLES) {
    const value = penv[name];
    if (value) env[name] = value;
  }
  if (!external) {
    env.AWS_ACCESS_KEY_ID = 'local';
    env.AWS_SECRET_ACCESS_KEY = 'local';
  }
  const applyEnv = () => {
    for (const [k, v] of Object.entries(env)) process.env[k] = v;
  };

  const esmConfig: EventSourceConfig = { ...CONSUMER_EVENT_SOURCE, ...options.eventSource };
  const onFailureFile = join(stateDir, 'dlq', 'stream-consumer.jsonl');
  const mappings: KinesisEventSourceMapping[] = [];
  let consumerMapping: KinesisEventSourceMapping | undefined;
  let consumerTotals: ConsumerTotals | undefined;
  let firehoseMapping: KinesisEventSourceMapping | undefined;
  let firehose: LocalFirehose | undefined;
  const mappingBase = {
    kinesis: clients.kinesis,
    onCheckpointReset: (shardId: string, checkpoint: string, reason: string) =>
      log(
        `checkpoint ${checkpoint.slice(0, 12)}… of ${shardId} is not valid for this stream (${reason}); reading from TRIM_HORIZON`,
      ),
    streamName: names.eventsStream,
    region: env.AWS_REGION,
    ...(options.eventSource?.idlePollMs !== undefined ? { idlePollMs: options.eventSource.idlePollMs } : {}),
    ...(options.eventSource?.retryBaseDelayMs !== undefined
      ? { retryBaseDelayMs: options.eventSource.retryBaseDelayMs }
      : {}),
  };
  // Checkpoints live with the state dir; an external stream keeps its records between runs, so
  // it needs them too (a fresh state dir on an old stream starts at TRIM_HORIZON, like AWS).
  const checkpointDir = persist || external ? join(stateDir, 'event-source-mappings') : undefined;
  try {
    const consumer = options.consumer ?? 'local';
    if (consumer !== false) {
      let invoke: KinesisInvoke;
      if (consumer === 'module') {
        applyEnv();
        invoke = await importConsumerModule();
      } else if (consumer === 'local') {
        const local = localConsumer(env, {
          logger: jsonLinesLogger(
            join(stateDir, 'logs', 'stream-consumer.jsonl'),
            'shoplake-stream-consumer',
          ),
        });
        invoke = local.invoke;
        consumerTotals = local.totals;
      } else {
        const built = consumer(env);
        if (typeof built === 'function') {
          invoke = built;
        } else {
          invoke = built.invoke;
          consumerTotals = built.totals;
        }
      }
      consumerMapping = new KinesisEventSourceMapping({
        ...mappingBase,
        name: 'stream-consumer',
        invoke,
        config: esmConfig,
        onFailureFile,
        ...(checkpointDir ? { checkpointFile: join(checkpointDir, 'stream-consumer.json') } : {}),
      });
      mappings.push(consumerMapping);
    }
    if (options.firehose ?? true) {
      firehose = new LocalFirehose({ lakeDir });
      firehoseMapping = new KinesisEventSourceMapping({
        ...mappingBase,
        name: 'firehose',
        invoke: firehose.handle,
        config: { ...esmConfig, maxRetryAttempts: 10 },
        onFailureFile: join(stateDir, 'dlq', 'firehose.jsonl'),
        ...(checkpointDir ? { checkpointFile: join(checkpointDir, 'firehose.json') } : {}),
      });
      mappings.push(firehoseMapping);
    }
    await Promise.all(mappings.map((m) => m.start()));
  } catch (error: unknown) {
    await Promise.allSettled(mappings.map((m) => m.stop()));
    await shutDown();
    throw error;
  }

  let stopped = false;
  return {
    stateDir,
    lakeDir,
    external,
    endpoints: { kinesis: kinesisEndpoint, dynamodb: dynamoEndpoint },
    names,
    env,
    clients,
    provisioned,
    consumerMapping,
    consumerTotals,
    firehoseMapping,
    firehose,
    onFailureFile,
    applyEnv,
    async drain(drainOptions = {}) {
      await Promise.all(mappings.map((m) => m.drain(drainOptions)));
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.allSettled(mappings.map((m) => m.stop()));
      clients.kinesis.destroy();
      clients.dynamodb.destroy();
      await shutDown();
    },
  };
}
