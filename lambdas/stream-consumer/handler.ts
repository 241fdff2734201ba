/**
 * Lambda entry point of the stream consumer (Kinesis event source mapping with
 * `reportBatchItemFailures`). Environment is read once at init and fails fast:
 *  - `FEATURES_TABLE_NAME`  DynamoDB features table,
 *  - `QUARANTINE_URI`       lake root for rejected records (`s3://bucket/` or `file:///dir/`),
 *  - optional settings: see `consumerSettingsFromEnv` in `settings.ts`.
 */
import { documentClient } from '../shared/aws-clients.ts';
import { requireEnv } from '../shared/env.ts';
import { DynamoFeatureStore } from '../shared/features/dynamo-store.ts';
import { createObjectStore } from '../shared/object-store.ts';
import { powertools } from '../shared/powertools.ts';
import { createConsumerHandler } from './consumer.ts';
import { consumerSettingsFromEnv } from './settings.ts';

const { logger, metrics } = powertools('shoplake-stream-consumer');

export const handler = createConsumerHandler({
  store: new DynamoFeatureStore({ client: documentClient(), tableName: requireEnv('FEATURES_TABLE_NAME') }),
  quarantine: createObjectStore(requireEnv('QUARANTINE_URI')),
  now: Date.now,
  ...consumerSettingsFromEnv(),
  logger,
  metrics,
});
