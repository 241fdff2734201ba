/** The AWS path's Lambda logic: CloudWatch Logs payload → shipper records → Firehose transformation. */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  AccessLogDeliveryError,
  type DeliveryPort,
  decodeSubscription,
  deliver,
  InvalidSubscriptionPayloadError,
  recordsOf,
} from '../../lambdas/access-log-shipper/ship.ts';
import { transformAccessLogBatch } from '../../lambdas/firehose-access-logs/transform.ts';
import { API_ACCESS_LOG_FIELDS } from '../../lambdas/shared/access-log/apigw-format.ts';
import { BRONZE_ACCESS_LOGS } from '../../lambdas/shared/catalog/index.ts';

const SALT = 'unit-test-salt-0123456789abcdef';
const apiLine = (requestId: string, ip: string) =>
  JSON.stringify({
    ...Object.fromEntries(Object.keys(API_ACCESS_LOG_FIELDS).map((k) => [k, '-'])),
    requestId,
    ip,
    requestTimeEpoch: '1796000000123',
    httpMethod: 'POST',
    path: '/v1/events',
    resourcePath: '/events',
    status: '202',
    protocol: 'HTTP/1.1',
    responseLength: '57',
    responseLatency: '41',
    userAgent: 'shoplake-tracker/1.0',
  });
const subscription = (messageType: string, messages: string[]) => ({
  awslogs: {
    data: gzipSync(
      JSON.stringify({
        messageType,
        owner: '123456789012',
        logGroup: '/aws/apigateway/access',
        logStream: 'stream-1',
        subscriptionFilters: ['f'],
        logEvents: messages.map((message, i) => ({ id: `3729${i}`, timestamp: 1796000000123, message })),
      }),
    ).toString('base64'),
  },
});
const firehoseRecord = (recordId: string, data: Uint8Array | string) => ({
  recordId,
  data: Buffer.from(data).toString('base64'),
  approximateArrivalTimestamp: 1796000001000,
});

describe('access-log shipper', () => {
  it('decodes a gzip CloudWatch Logs batch into one record per log event', () => {
    const payload = decodeSubscription(
      subscription('DATA_MESSAGE', [apiLine('r1', '198.51.100.1'), apiLine('r2', '::1')]),
    );
    const records = recordsOf(payload);
    expect(records).toHaveLength(2);
    expect(JSON.parse(Buffer.from(records[0] ?? []).toString())).toEqual({
      access_log_line: apiLine('r1', '198.51.100.1'),
      delivery_id: '37290',
      source: '/aws/apigateway/access/stream-1',
    });
    expect(recordsOf(decodeSubscription(subscription('CONTROL_MESSAGE', ['CWL CONTROL MESSAGE'])))).toEqual(
      [],
    );
    expect(() =>
      decodeSubscription({ awslogs: { data: Buffer.from('not gzip').toString('base64') } }),
    ).toThrow(InvalidSubscriptionPayloadError);
  });

  it('retries only failed records and fails loudly when some never get through', async () => {
    const calls: number[] = [];
    let failFirst = true;
    const port: DeliveryPort = {
      async putBatch(records) {
        calls.push(records.length);
        const out = records.map((_, i) => failFirst && i % 2 === 0);
        failFirst = false;
        return out;
      },
    };
    const records = Array.from({ length: 1200 }, (_, i) => Buffer.from(`line ${i}`));
    await expect(deliver(port, records, { sleep: async () => {} })).resolves.toBe(1200);
    // Half of the first call failed: only those 250 are put again.
    expect(calls).toEqual([500, 500, 200, 250]);
    const broken: DeliveryPort = { putBatch: async (r) => r.map(() => true) };
    await expect(
      deliver(broken, records.slice(0, 3), { attempts: 2, sleep: async () => {} }),
    ).rejects.toThrow(AccessLogDeliveryError);
  });
});

describe('access-log Firehose transformation', () => {
  it('turns shipper envelopes and direct-put lines into bronze rows (epoch µs, catalog columns)', () => {
    const [envelope] = recordsOf(
      decodeSubscription(subscription('DATA_MESSAGE', [apiLine('r1', '198.51.100.1')])),
    );
    const nginx =
      '203.0.113.9 - - [04/Dec/2026:10:00:00 +0000] "GET /product/P000007?x=1 HTTP/1.1" 200 512 "https://www.google.com/" "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" 0.250\n';
    const out = transformAccessLogBatch(
      [
        firehoseRecord('a', envelope ?? new Uint8Array()),
        firehoseRecord('b', nginx),
        firehoseRecord('c', 'garbage'),
      ],
      SALT,
    );
    expect(out.map((o) => o.result)).toEqual(['Ok', 'Ok', 'ProcessingFailed']);
    const rows = out
      .slice(0, 2)
      .map((o) => JSON.parse(Buffer.from(o.data, 'base64').toString()) as Record<string, unknown>);
    for (const row of rows)
      expect(Object.keys(row).sort()).toEqual(BRONZE_ACCESS_LOGS.columns.map((c) => c.name).sort());
    expect(rows[0]).toMatchObject({
      record_id: 'd:37290',
      log_format: 'apigw',
      request_time: 1796000000123000,
      ingested_at: 1796000001000000,
      route: '/events',
      status: 202,
      latency_ms: 41,
      source_file: '/aws/apigateway/access/stream-1',
    });
    expect(rows[1]).toMatchObject({
      log_format: 'nginx',
      route: '/product/{id}',
      latency_ms: 250,
      is_bot: true,
    });
    expect(rows[1]?.client_hash).toMatch(/^[0-9a-f]{32}$/);
    // The failed record keeps its original bytes and says why.
    expect(out[2]).toMatchObject({
      reason: 'malformed_line',
      data: Buffer.from('garbage').toString('base64'),
    });
    const bad = transformAccessLogBatch([firehoseRecord('d', '{"access_log_line": 7}')], SALT);
    expect(bad[0]).toMatchObject({ result: 'ProcessingFailed', reason: 'invalid_envelope' });
    const latin1 = transformAccessLogBatch([firehoseRecord('e', Buffer.from([0x47, 0xe9, 0x0a]))], SALT);
    expect(latin1[0]).toMatchObject({ result: 'ProcessingFailed', reason: 'not_utf8' });
  });
});
