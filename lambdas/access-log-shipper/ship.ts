/**
 * CloudWatch Logs subscription payload → access-log delivery stream. A subscription hands a
 * Lambda a base64, gzip'd JSON batch (`{messageType, logGroup, logStream, logEvents: [{id,
 * timestamp, message}]}`); Firehose's Iceberg destination writes one row per record, so the
 * batch is split here into one record per log event, wrapped with the event's id (the dedup key
 * downstream: a redelivered batch gives the same record ids) and its log group/stream.
 *
 * Delivery is checked: `PutRecordBatch` answers per record, only the failed ones are retried
 * (with backoff); if some still fail the invocation throws, so the asynchronous invocation is
 * retried and finally lands in the function's on-failure queue. Nothing is dropped silently.
 */
import { gunzipSync } from 'node:zlib';
import { SHIPPER_LINE_KEY } from '../firehose-access-logs/transform.ts';

export interface LogsEvent {
  readonly awslogs: { readonly data: string };
}

export interface SubscriptionPayload {
  readonly messageType: string;
  readonly logGroup: string;
  readonly logStream: string;
  readonly logEvents: readonly {
    readonly id: string;
    readonly timestamp: number;
    readonly message: string;
  }[];
}

export class InvalidSubscriptionPayloadError extends Error {
  constructor(detail: string) {
    super(`not a CloudWatch Logs subscription payload: ${detail}`);
    this.name = 'InvalidSubscriptionPayloadError';
  }
}

export class AccessLogDeliveryError extends Error {
  constructor(readonly failed: number) {
    super(`${failed} access-log record(s) could not be put on the delivery stream after retries`);
    this.name = 'AccessLogDeliveryError';
  }
}

/** Decodes a subscription event (base64 → gunzip → JSON), checking its shape. */
export function decodeSubscription(event: LogsEvent): SubscriptionPayload {
  let value: unknown;
  try {
    value = JSON.parse(gunzipSync(Buffer.from(event.awslogs.data, 'base64')).toString('utf8'));
  } catch (error: unknown) {
    throw new InvalidSubscriptionPayloadError(error instanceof Error ? error.message : 'undecodable');
  }
  const v = value as Partial<SubscriptionPayload> | null;
  if (!v || typeof v.messageType !== 'string' || !Array.isArray(v.logEvents)) {
    throw new InvalidSubscriptionPayloadError('missing messageType/logEvents');
  }
  return v as SubscriptionPayload;
}

/** One delivery-stream record per log event (CONTROL_MESSAGE batches carry none). */
export function recordsOf(payload: SubscriptionPayload): Uint8Array[] {
  if (payload.messageType !== 'DATA_MESSAGE') return [];
  return payload.logEvents.map((e) =>
    Buffer.from(
      JSON.stringify({
        [SHIPPER_LINE_KEY]: e.message,
        delivery_id: e.id,
        source: `${payload.logGroup}/${payload.logStream}`,
      }),
      'utf8',
    ),
  );
}

/** The delivery stream as this module needs it: a batch put answering per record. */
export interface DeliveryPort {
  /** Returns, per record, whether it failed (same order). */
  putBatch(records: readonly Uint8Array[]): Promise<boolean[]>;
}

/** PutRecordBatch limits: 500 records and 4 MiB per call. */
export const PUT_BATCH_RECORDS = 500;
export const PUT_BATCH_BYTES = 4 * 1024 * 1024;

/** Puts every record, retrying only the failed ones; throws if any still fails. */
export async function deliver(
  port: DeliveryPort,
  records: readonly Uint8Array[],
  options: { attempts?: number; sleep?: (ms: number) => Promise<void> } = {},
): Promise<number> {
  const attempts = options.attempts ?? 4;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let pending = [...records];
  for (let attempt = 0; attempt < attempts && pending.length > 0; attempt++) {
    if (attempt > 0) await sleep(100 * 2 ** attempt);
    const failed: Uint8Array[] = [];
    let start = 0;
    while (start < pending.length) {
      let end = start;
      let bytes = 0;
      while (end < pending.length && end - start < PUT_BATCH_RECORDS) {
        const size = pending[end]?.length ?? 0;
        if (end > start && bytes + size > PUT_BATCH_BYTES) break;
        bytes += size;
        end++;
      }
      const chunk = pending.slice(start, end);
      const result = await port.putBatch(chunk);
      chunk.forEach((r, i) => {
        if (result[i] !== false) failed.push(r);
      });
      start = end;
    }
    pending = failed;
  }
  if (pending.length > 0) throw new AccessLogDeliveryError(pending.length);
  return records.length;
}
