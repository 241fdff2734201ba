/**
 * Lambda entry point of the access-log delivery stream's record transformation. Thin: read the
 * salt once (Secrets Manager, `ACCESS_LOG_SALT_SECRET_ARN`), map the Firehose event to
 * `transformAccessLogBatch`, log every rejected line with its reason, return one result per
 * record (rejected lines as `ProcessingFailed`, kept by Firehose under the error prefix).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { checkSalt } from '../shared/access-log/anonymise.ts';
import { requireEnv } from '../shared/env.ts';
import { powertools } from '../shared/powertools.ts';
import { transformAccessLogBatch } from './transform.ts';

const { logger, metrics } = powertools('shoplake-firehose-access-logs');
const secretArn = requireEnv('ACCESS_LOG_SALT_SECRET_ARN');
const secrets = new SecretsManagerClient({});
let salt: Promise<string> | undefined;

async function readSalt(): Promise<string> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  return checkSalt(out.SecretString);
}

/** Firehose → bronze.access_logs rows; bad lines become ProcessingFailed, never dropped. */
export async function handler(event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> {
  salt ??= readSalt().catch((error: unknown) => {
    salt = undefined; // retry on the next invocation
    throw error;
  });
  const outcomes = transformAccessLogBatch(event.records, await salt);
  let failed = 0;
  for (const o of outcomes) {
    if (o.result === 'Ok') continue;
    failed += 1;
    logger.warn('access-log line rejected', { recordId: o.recordId, reason: o.reason, detail: o.detail });
  }
  metrics.addMetric('AccessLogLinesTransformed', MetricUnit.Count, outcomes.length - failed);
  metrics.addMetric('AccessLogLinesFailed', MetricUnit.Count, failed);
  metrics.publishStoredMetrics();
  return { records: outcomes.map((o) => ({ recordId: o.recordId, result: o.result, data: o.data })) };
}
