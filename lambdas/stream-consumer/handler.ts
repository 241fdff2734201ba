/**
 * Lambda entry point of the stream consumer (Kinesis event source mapping with
 * `reportBatchItemFailures`). Environment is read once at init and fails fast:
 *  - `FEATURES_TABLE_NAME`  DynamoDB features table,
 *  - `QUARANTINE_URI`       lake root for rejected records (`s3://bucket/` or `file:///dir/`),
 *  - `RECENT_ITEMS_CAP`     optional, length of recent-items lists (default 20),
 *  - `DEDUP_TTL_DAYS`       optional, lifetime of dedup markers (default 7),
 *  - `TREND_SLICES`         optional, items per window bucket and shard for product counters
 *                           (default 1; raise for catalogs with > ~8,000 active products/hour/shard),
 *  - `SESSION_LISTS`        optional, `all` (default) or `anonymous`: which sessions keep a
 *                           recent-items list (see `SessionListsMode` in features/apply.ts).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { documentClient } from '../shared/aws-clients.ts';
import { intEnv, optionalEnv, requireEnv } from '../shared/env.ts';
import { DEFAULT_WINDOW_SLICES } from '../shared/features/aggregate.ts';
import {
  DEFAULT_DEDUP_TTL_DAYS,
  isSessionListsMode,
  type SessionListsMode,
} from '../shared/features/apply.ts';
import { DynamoFeatureStore } from '../shared/features/dynamo-store.ts';
import { DEFAULT_RECENT_ITEMS_CAP } from '../shared/features/recent.ts';
import { createObjectStore } from '../shared/object-store.ts';
import { createConsumerHandler } from './consumer.ts';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'shoplake-stream-consumer';
const logger = new Logger({ serviceName });
const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'shoplake',
});

function positiveIntEnv(name: string, fallback: number): number {
  const value = intEnv(name, fallback);
  if (value < 1) throw new Error(`environment variable ${name} must be at least 1, got ${value}`);
  return value;
}

function sessionListsEnv(): SessionListsMode {
  const value = optionalEnv('SESSION_LISTS') ?? 'all';
  if (!isSessionListsMode(value))
    throw new Error(`environment variable SESSION_LISTS must be all or anonymous, got ${value}`);
  return value;
}

export const handler = createConsumerHandler({
  store: new DynamoFeatureStore({ client: documentClient(), tableName: requireEnv('FEATURES_TABLE_NAME') }),
  quarantine: createObjectStore(requireEnv('QUARANTINE_URI')),
  now: Date.now,
  recentItemsCap: positiveIntEnv('RECENT_ITEMS_CAP', DEFAULT_RECENT_ITEMS_CAP),
  dedupTtlDays: positiveIntEnv('DEDUP_TTL_DAYS', DEFAULT_DEDUP_TTL_DAYS),
  sessionLists: sessionListsEnv(),
  windowSlices: positiveIntEnv('TREND_SLICES', DEFAULT_WINDOW_SLICES),
  logger,
  metrics,
});
