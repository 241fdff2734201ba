/**
 * Lambda entry point of the stream consumer (Kinesis event source mapping with
 * `reportBatchItemFailures`). Environment is read once at init and fails fast:
 *  - `FEATURES_TABLE_NAME`  DynamoDB features table,
 *  - `QUARANTINE_URI`       lake root for rejected records (`s3://bucket/` or `file:///dir/`),
 *  - `RECENT_ITEMS_CAP`     optional, length of recent-items lists (default 20),
 *  - `DEDUP_TTL_DAYS`       optional, lifetime of dedup markers (default 7).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { documentClient } from '../shared/aws-clients.ts';
import { intEnv, requireEnv } from '../shared/env.ts';
import { DEFAULT_DEDUP_TTL_DAYS } from '../shared/features/apply.ts';
import { DynamoFeatureStore } from '../shared/features/dynamo-store.ts';
import { DEFAULT_RECENT_ITEMS_CAP } from '../shared/features/recent.ts';
import { createObjectStore } from '../shared/object-store.ts';
import { createConsumerHandler } from './consumer.ts';

const logger = new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'shoplake-stream-consumer' });

export const handler = createConsumerHandler({
  store: new DynamoFeatureStore({ client: documentClient(), tableName: requireEnv('FEATURES_TABLE_NAME') }),
  quarantine: createObjectStore(requireEnv('QUARANTINE_URI')),
  now: Date.now,
  recentItemsCap: intEnv('RECENT_ITEMS_CAP', DEFAULT_RECENT_ITEMS_CAP),
  dedupTtlDays: intEnv('DEDUP_TTL_DAYS', DEFAULT_DEDUP_TTL_DAYS),
  logger,
});
