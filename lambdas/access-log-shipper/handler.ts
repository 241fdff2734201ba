/**
 * Lambda entry point of the access-log shipper: the CloudWatch Logs subscription of shoplake's
 * API Gateway access logs invokes it; it puts one record per log line on the access-log delivery
 * stream (`ACCESS_LOG_DELIVERY_STREAM`). Logic in `ship.ts`.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { FirehoseClient, PutRecordBatchCommand } from '@aws-sdk/client-firehose';
import { requireEnv } from '../shared/env.ts';
import { powertools } from '../shared/powertools.ts';
import { type DeliveryPort, decodeSubscription, deliver, type LogsEvent, recordsOf } from './ship.ts';

const { metrics } = powertools('shoplake-access-log-shipper');
const streamName = requireEnv('ACCESS_LOG_DELIVERY_STREAM');
const firehose = new FirehoseClient({});

const port: DeliveryPort = {
  async putBatch(records) {
    const out = await firehose.send(
      new PutRecordBatchCommand({
        DeliveryStreamName: streamName,
        Records: records.map((Data) => ({ Data })),
      }),
    );
    // A failed record has an ErrorCode; a missing answer counts as failed.
    return records.map((_, i) => {
      const r = out.RequestResponses?.[i];
      return r === undefined || r.ErrorCode !== undefined;
    });
  },
};

/** CloudWatch Logs subscription event → delivery stream records. */
export async function handler(event: LogsEvent): Promise<{ delivered: number }> {
  const records = recordsOf(decodeSubscription(event));
  const delivered = await deliver(port, records);
  metrics.addMetric('AccessLogLinesShipped', MetricUnit.Count, delivered);
  metrics.publishStoredMetrics();
  return { delivered };
}
