/**
 * Lambda entry point of the bronze delivery stream's record transformation (Firehose
 * `ProcessingConfiguration`, Lambda processor). Thin: map the Firehose event to
 * `transformBatch`, log every record that failed with its reason, return one result per record.
 * Failed records are returned as `ProcessingFailed` with their original bytes, so Firehose
 * keeps them under the error output prefix (`errors/firehose/`). No environment is needed.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FirehoseTransformationEvent, FirehoseTransformationResult } from 'aws-lambda';
import { powertools } from '../shared/powertools.ts';
import { transformBatch } from './transform.ts';

const { logger, metrics } = powertools('shoplake-firehose-bronze');

/** Firehose → bronze rows (epoch-µs timestamps); bad records become ProcessingFailed, never dropped. */
export async function handler(event: FirehoseTransformationEvent): Promise<FirehoseTransformationResult> {
  const outcomes = transformBatch(event.records);
  let failed = 0;
  for (const o of outcomes) {
    if (o.result === 'Ok') continue;
    failed += 1;
    logger.warn('bronze record rejected', {
      recordId: o.recordId,
      reason: o.reason,
      detail: o.detail,
      ...(o.eventId === undefined ? {} : { eventId: o.eventId }),
    });
  }
  metrics.addMetric('BronzeRecordsTransformed', MetricUnit.Count, outcomes.length - failed);
  metrics.addMetric('BronzeRecordsFailed', MetricUnit.Count, failed);
  metrics.publishStoredMetrics();
  return { records: outcomes.map((o) => ({ recordId: o.recordId, result: o.result, data: o.data })) };
}
