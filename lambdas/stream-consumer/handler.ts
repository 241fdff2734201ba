/**
 * Lambda entry point of the stream consumer (Kinesis event source mapping with
 * `reportBatchItemFailures`). Environment is read once at init and fails fast:
 *  - `FEATURES_TABLE_NAME`  DynamoDB features table,
 *  - `QUARANTINE_URI`       lake root for rejected records (`s3://bucket/` or `file:///dir/`),
 *  - optional settings: see `consumerSettingsFromEnv` in `settings.ts`.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { documentClient } from '../shared/aws-clients.ts';
import { requireEnv } from '../shared/env.ts';
import { DynamoFeatureStore } from '../shared/features/dynamo-store.ts';
import { createObjectStore } from '../shared/object-store.ts';
import { createConsumerHandler } from './consumer.ts';
import { consumerSettingsFromEnv } from './settings.ts';

const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'shoplake-stream-consumer';
const logger = new Logger({ serviceName });
const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'shoplake',
});

export const handler = createConsumerHandler({
  store: new DynamoFeatureStore({ client: documentClient(), tableName: requireEnv('FEATURES_TABLE_NAME') }),
  quarantine: createObjectStore(requireEnv('QUARANTINE_URI')),
  now: Date.now,
  ...consumerSettingsFromEnv(),
  logger,
  metrics,
});
