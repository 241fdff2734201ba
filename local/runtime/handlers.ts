/**
 * Builds the real Lambda handlers (`createIngestHandler`, `createConsumerHandler`) from a
 * runtime's environment — the same wiring as `lambdas/*\/handler.ts`, with clients pointed at
 * the runtime's endpoints. Used where importing the handler module is not enough: several
 * runtimes in one process (tests), injected faults, or the CLI needing the consumer's per-batch
 * counts (through the handler's `onBatchResult` hook) and logs as JSON lines under the state
 * directory instead of stdout.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { createIngestHandler, type IngestHandler } from '../../lambdas/ingest/ingest.ts';
import { clientConfig, documentClient } from '../../lambdas/shared/aws-clients.ts';
import { requireEnv } from '../../lambdas/shared/env.ts';
import { DynamoFeatureStore } from '../../lambdas/shared/features/dynamo-store.ts';
import type { FeatureStore } from '../../lambdas/shared/features/store.ts';
import { createObjectStore, type ObjectStore } from '../../lambdas/shared/object-store.ts';
import { type ConsumerBatchResult, createConsumerHandler } from '../../lambdas/stream-consumer/consumer.ts';
import { consumerSettingsFromEnv } from '../../lambdas/stream-consumer/settings.ts';
import type { KinesisInvoke } from './event-source-mapping.ts';

/** Accepts what Powertools' Logger methods accept (message or object, then extra attributes). */
type LogMethod = (input: unknown, ...extra: unknown[]) => void;

/** The logger shape the handlers take (a subset of Powertools' Logger). */
export interface HandlerLogger {
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

/** Flattens Powertools-style log arguments into one record. */
function logRecord(input: unknown, extra: unknown[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  if (typeof input === 'string') record.message = input;
  else if (typeof input === 'object' && input !== null) Object.assign(record, input);
  for (const e of extra) {
    if (e instanceof Error) record.error = { name: e.name, message: e.message };
    else if (typeof e === 'object' && e !== null) Object.assign(record, e);
    else if (typeof e === 'string') record.extra = e;
  }
  return record;
}

/** Structured logs as JSON lines in a file (Lambda's JSON log format, minus CloudWatch). */
export function jsonLinesLogger(file: string, service: string): HandlerLogger {
  mkdirSync(dirname(file), { recursive: true });
  const write = (level: string, input: unknown, extra: unknown[]) => {
    appendFileSync(
      file,
      `${JSON.stringify({ level, timestamp: new Date().toISOString(), service, ...logRecord(input, extra) })}\n`,
    );
  };
  return {
    info: (m, ...e) => write('INFO', m, e),
    warn: (m, ...e) => write('WARN', m, e),
    error: (m, ...e) => write('ERROR', m, e),
  };
}

const silent: HandlerLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** Consumer outcomes summed over invocations (each record counted once, retries included). */
export interface ConsumerTotals {
  invocations: number;
  records: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  rejected_by_reason: Record<string, number>;
  replayed: number;
  writeRequests: number;
}

export function emptyConsumerTotals(): ConsumerTotals {
  return {
    invocations: 0,
    records: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    rejected_by_reason: {},
    replayed: 0,
    writeRequests: 0,
  };
}

/** Adds one batch's committed counts (the consumer's `onBatchResult`) to the totals. */
function addBatch(totals: ConsumerTotals, result: ConsumerBatchResult): void {
  totals.invocations += 1;
  totals.records += result.records;
  totals.accepted += result.accepted;
  totals.duplicates += result.duplicates;
  totals.rejected += result.rejected;
  totals.replayed += result.replayed;
  totals.writeRequests += result.writeRequests;
  for (const [reason, n] of Object.entries(result.rejected_by_reason)) {
    totals.rejected_by_reason[reason] = (totals.rejected_by_reason[reason] ?? 0) + (n ?? 0);
  }
}

function awsClientConfig(env: Readonly<Record<string, string>>, endpoint: string | undefined) {
  const local = env.AWS_ACCESS_KEY_ID !== undefined;
  return {
    region: env.AWS_REGION ?? 'us-east-1',
    ...(endpoint ? { endpoint } : {}),
    ...(local
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID ?? '',
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY ?? '',
          },
        }
      : {}),
    ...clientConfig(),
  };
}

/** A DynamoDB client for a runtime's env (tests wrap it with fault-injecting middleware). */
export function dynamoClientFor(env: Readonly<Record<string, string>>): DynamoDBClient {
  return new DynamoDBClient(awsClientConfig(env, env.AWS_ENDPOINT_URL_DYNAMODB));
}

export function kinesisClientFor(env: Readonly<Record<string, string>>): KinesisClient {
  return new KinesisClient(awsClientConfig(env, env.AWS_ENDPOINT_URL_KINESIS));
}

export interface LocalConsumerOptions {
  readonly dynamodb?: DynamoDBClient;
  /** Replaces the DynamoDB feature store entirely (benchmarks with the in-memory store). */
  readonly store?: FeatureStore;
  readonly quarantine?: ObjectStore;
  readonly logger?: HandlerLogger;
  readonly now?: () => number;
}

export interface LocalConsumer {
  readonly invoke: KinesisInvoke;
  readonly totals: ConsumerTotals;
  readonly store: FeatureStore;
}

/** The stream-consumer handler wired like `lambdas/stream-consumer/handler.ts`, plus totals. */
export function localConsumer(
  env: Readonly<Record<string, string>>,
  options: LocalConsumerOptions = {},
): LocalConsumer {
  const totals = emptyConsumerTotals();
  const store =
    options.store ??
    new DynamoFeatureStore({
      client: documentClient(options.dynamodb ?? dynamoClientFor(env)),
      tableName: requireEnv('FEATURES_TABLE_NAME', env),
    });
  const handler = createConsumerHandler({
    store,
    quarantine: options.quarantine ?? createObjectStore(requireEnv('QUARANTINE_URI', env)),
    now: options.now ?? Date.now,
    // The same optional settings `lambdas/stream-consumer/handler.ts` reads, from the runtime env.
    ...consumerSettingsFromEnv(env),
    logger: options.logger ?? silent,
    onBatchResult: (result) => addBatch(totals, result),
  });
  return { invoke: (event) => handler(event), totals, store };
}

export interface LocalIngestOptions {
  readonly kinesis?: KinesisClient;
  readonly quarantine?: ObjectStore;
  readonly logger?: HandlerLogger;
  readonly now?: () => number;
}

/** The ingest API handler wired like `lambdas/ingest/handler.ts`. */
export function localIngest(
  env: Readonly<Record<string, string>>,
  options: LocalIngestOptions = {},
): IngestHandler {
  return createIngestHandler({
    kinesis: options.kinesis ?? kinesisClientFor(env),
    streamName: requireEnv('EVENTS_STREAM_NAME', env),
    quarantine: options.quarantine ?? createObjectStore(requireEnv('QUARANTINE_URI', env)),
    now: options.now ?? Date.now,
    logger: options.logger ?? silent,
  });
}
