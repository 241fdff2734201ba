/**
 * Firehose record transformation for `bronze.access_logs`: one record = one access-log line,
 * either put directly by the shop (`PutRecord`/`PutRecordBatch` of raw lines, any of the three
 * formats) or wrapped by the access-log shipper (`{"access_log_line": …, "delivery_id": …}`,
 * shoplake's own API Gateway logs from their CloudWatch Logs subscription).
 *
 * The line is parsed and turned into a bronze row by the same code as the local ingest
 * (`lambdas/shared/access-log/`); timestamps become epoch microseconds as Firehose's Iceberg
 * destination requires. A line the parser rejects is returned as `ProcessingFailed` with its
 * reason: Firehose keeps the original bytes under the error prefix, nothing is dropped.
 */
import { type AccessLogRejectReason, parseAccessLogBytes } from '../shared/access-log/parse.ts';
import { type AccessLogRow, accessLogRow, RecordIds } from '../shared/access-log/row.ts';

/** Key of the shipper's envelope around a line from CloudWatch Logs. */
export const SHIPPER_LINE_KEY = 'access_log_line';

export interface AccessLogInputRecord {
  readonly recordId: string;
  /** Base64 of the record's bytes. */
  readonly data: string;
  /** Epoch milliseconds Firehose received the record. */
  readonly approximateArrivalTimestamp: number;
}

export type AccessLogRecordOutcome =
  | { readonly recordId: string; readonly result: 'Ok'; readonly data: string }
  | {
      readonly recordId: string;
      readonly result: 'ProcessingFailed';
      readonly data: string;
      readonly reason: AccessLogRejectReason | 'invalid_envelope';
      readonly detail: string;
    };

/** The Iceberg row of Firehose: epoch-µs timestamps, everything else as in `AccessLogRow`. */
export function firehoseRow(row: AccessLogRow): Record<string, unknown> {
  return { ...row, request_time: row.request_time * 1000, ingested_at: row.ingested_at * 1000 };
}

/** Unwraps the shipper's envelope; raw lines pass unchanged. */
function unwrap(bytes: Buffer): { line: Buffer; deliveryId?: string; source?: string } | { error: string } {
  // A shipper envelope starts with {"access_log_line": (JSON access-log lines never have the key).
  if (!bytes.subarray(0, 40).toString('latin1').includes(`"${SHIPPER_LINE_KEY}"`)) return { line: bytes };
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { error: 'shipper envelope is not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { error: 'shipper envelope is not an object' };
  const v = value as Record<string, unknown>;
  const line = v[SHIPPER_LINE_KEY];
  if (typeof line !== 'string') return { error: `${SHIPPER_LINE_KEY} is not a string` };
  return {
    line: Buffer.from(line, 'utf8'),
    ...(typeof v.delivery_id === 'string' ? { deliveryId: v.delivery_id } : {}),
    ...(typeof v.source === 'string' ? { source: v.source } : {}),
  };
}

/** Transforms a Firehose batch: one outcome per record, same order, same ids. Never throws on input. */
export function transformAccessLogBatch(
  records: readonly AccessLogInputRecord[],
  salt: string,
): AccessLogRecordOutcome[] {
  const ids = new RecordIds();
  return records.map((record) => {
    const failed = (
      reason: AccessLogRejectReason | 'invalid_envelope',
      detail: string,
    ): AccessLogRecordOutcome => ({
      recordId: record.recordId,
      result: 'ProcessingFailed',
      data: record.data,
      reason,
      detail,
    });
    const raw = Buffer.from(record.data, 'base64');
    const unwrapped = unwrap(raw);
    if ('error' in unwrapped) return failed('invalid_envelope', unwrapped.error);
    let line = unwrapped.line;
    while (line.length > 0 && (line.at(-1) === 0x0a || line.at(-1) === 0x0d)) line = line.subarray(0, -1);
    const parsed = parseAccessLogBytes(line, 'auto');
    if (!parsed.ok) return failed(parsed.reason, parsed.detail);
    const row = accessLogRow(parsed.request, {
      recordId: ids.next(line.toString('latin1'), parsed.request, unwrapped.deliveryId),
      ingestedAtMs: record.approximateArrivalTimestamp,
      salt,
      sourceFile: unwrapped.source ?? null,
    });
    return {
      recordId: record.recordId,
      result: 'Ok',
      data: Buffer.from(JSON.stringify(firehoseRow(row)), 'utf8').toString('base64'),
    };
  });
}
