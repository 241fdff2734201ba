import type { FirehoseTransformationEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { handler } from '../../lambdas/firehose-bronze/handler.ts';
import {
  BRONZE_COLUMNS,
  bronzeRow,
  epochMicros,
  transformBatch,
  transformRecord,
} from '../../lambdas/firehose-bronze/transform.ts';
import { BRONZE_EVENTS } from '../../lambdas/shared/catalog/tables.ts';
import { parseEvent } from '../../lambdas/shared/event-schema.ts';

const FIREHOSE_ARRIVAL_MS = Date.parse('2026-11-21T10:05:00.000Z');
const KINESIS_ARRIVAL_MS = Date.parse('2026-11-21T10:00:01.250Z');

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const decode = (data: string): Record<string, unknown> => {
  const parsed: unknown = JSON.parse(Buffer.from(data, 'base64').toString('utf8'));
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error('not an object');
  return parsed as Record<string, unknown>;
};

/** A normalised event exactly as the ingest Lambda puts it on the stream. */
function streamEvent(overrides: Record<string, unknown> = {}): string {
  const parsed = parseEvent(
    {
      event_id: 'e-1',
      event_type: 'purchase',
      event_time: '2026-11-21T10:00:00.123Z',
      session_id: 's-1',
      user_id: 'u-1',
      order_id: 'o-1',
      items: [
        { product_id: 'p-1', quantity: 2, price: 9.5, category: 'shoes' },
        { product_id: 'p-2', quantity: 1, price: 20 },
      ],
      campaign_extra: 'x',
    },
    { now: () => FIREHOSE_ARRIVAL_MS },
  );
  if (!parsed.ok) throw new Error(`fixture invalid: ${parsed.detail}`);
  return JSON.stringify({ ...parsed.event, ...overrides });
}

/** A real-shaped Firehose event from a Kinesis-stream source. */
function firehoseEvent(datas: string[]): FirehoseTransformationEvent {
  return {
    invocationId: 'inv-1',
    deliveryStreamArn: 'arn:aws:firehose:us-east-1:123456789012:deliverystream/BronzeEventsDelivery',
    sourceKinesisStreamArn: 'arn:aws:kinesis:us-east-1:123456789012:stream/EventsStream',
    region: 'us-east-1',
    records: datas.map((data, i) => ({
      recordId: `49546986683135544286507457936321625675700192471156785154-${i}`,
      approximateArrivalTimestamp: FIREHOSE_ARRIVAL_MS,
      data,
      kinesisRecordMetadata: {
        shardId: 'shardId-000000000000',
        partitionKey: 's-1',
        approximateArrivalTimestamp: KINESIS_ARRIVAL_MS,
        sequenceNumber: `4954698668313554428650745793632162567570019247115678515${i}`,
        subsequenceNumber: '',
      },
    })),
  };
}

describe('firehose-bronze transform', () => {
  it('turns a Kinesis-source record into a bronze row with epoch-µs timestamps and JSON nesting', async () => {
    const event = firehoseEvent([b64(streamEvent())]);

    const result = await handler(event);

    expect(result.records).toHaveLength(1);
    const [out] = result.records;
    expect(out?.recordId).toBe(event.records[0]?.recordId);
    expect(out?.result).toBe('Ok');
    const row = decode(out?.data ?? '');
    expect(row.event_time).toBe(Date.parse('2026-11-21T10:00:00.123Z') * 1000);
    expect(row.event_time).toBe(1_795_255_200_123_000);
    // Kinesis arrival, not Firehose's own arrival.
    expect(row.ingested_at).toBe(KINESIS_ARRIVAL_MS * 1000);
    expect(row.source_file).toBeNull();
    expect(row.items).toEqual([
      { product_id: 'p-1', quantity: 2, price: 9.5, category: 'shoes' },
      { product_id: 'p-2', quantity: 1, price: 20, category: null },
    ]);
    expect(row.attributes).toEqual({ campaign_extra: '"x"' });
    expect(row.order_status).toBe('placed');
    expect(row.schema_version).toBe(1);
  });

  it('emits exactly the catalog bronze columns and integer µs timestamps', () => {
    const outcome = transformRecord({
      recordId: 'r-1',
      data: b64(streamEvent()),
      approximateArrivalTimestamp: FIREHOSE_ARRIVAL_MS,
    });

    expect(outcome.result).toBe('Ok');
    const row = decode(outcome.data);
    expect(Object.keys(row)).toEqual(BRONZE_EVENTS.columns.map((c) => c.name));
    const timestampColumns = BRONZE_EVENTS.columns.filter((c) => c.type === 'timestamptz').map((c) => c.name);
    expect(timestampColumns).toEqual(['event_time', 'ingested_at']);
    for (const name of timestampColumns) {
      const v = row[name];
      expect(Number.isInteger(v)).toBe(true);
      // µs since 1970 for 2026 is 16 digits (ms would be 13).
      expect(String(v)).toHaveLength(16);
    }
    // No Kinesis metadata: Firehose's own arrival time.
    expect(row.ingested_at).toBe(FIREHOSE_ARRIVAL_MS * 1000);
  });

  it('marks records that are not JSON, not UTF-8, lack event_time or have a bad one as ProcessingFailed with the original data', async () => {
    const datas = [
      b64('{"event_id": "e-2", oops'),
      Buffer.from([0xff, 0xfe, 0xfd]).toString('base64'),
      b64(JSON.stringify({ event_id: 'e-3', event_type: 'page_view', session_id: 's-1' })),
      b64(streamEvent({ event_id: 'e-4', event_time: 'yesterday' })),
      b64(streamEvent({ event_id: 'e-5', event_time: '2026-02-31T10:00:00Z' })),
      b64(streamEvent({ event_id: 'e-6' })),
    ];

    const result = await handler(firehoseEvent(datas));
    const outcomes = transformBatch(firehoseEvent(datas).records);

    expect(result.records.map((r) => r.result)).toEqual([
      'ProcessingFailed',
      'ProcessingFailed',
      'ProcessingFailed',
      'ProcessingFailed',
      'ProcessingFailed',
      'Ok',
    ]);
    for (let i = 0; i < 5; i += 1) expect(result.records[i]?.data).toBe(datas[i]);
    expect(outcomes.map((o) => (o.result === 'ProcessingFailed' ? o.reason : 'ok'))).toEqual([
      'invalid_json',
      'not_utf8',
      'missing_field',
      'invalid_event_time',
      'invalid_event_time',
      'ok',
    ]);
    const third = outcomes[2];
    expect(third?.result === 'ProcessingFailed' ? third.eventId : undefined).toBe('e-3');
  });

  it('rejects an event more than a day after its arrival (clock = arrival time, same rule as ingest)', () => {
    const outcome = transformRecord({
      recordId: 'r-f',
      data: b64(streamEvent({ event_time: '2026-11-23T10:00:00.000Z' })),
      approximateArrivalTimestamp: FIREHOSE_ARRIVAL_MS,
    });

    expect(outcome.result).toBe('ProcessingFailed');
    expect(outcome.result === 'ProcessingFailed' ? outcome.reason : '').toBe('future_event_time');
  });

  it('keeps record ids and order across a mixed batch', () => {
    const records = ['r-a', 'r-b', 'r-c'].map((recordId, i) => ({
      recordId,
      data: i === 1 ? b64('not json') : b64(streamEvent({ event_id: `e-${recordId}` })),
      approximateArrivalTimestamp: FIREHOSE_ARRIVAL_MS,
    }));

    const outcomes = transformBatch(records);

    expect(outcomes.map((o) => [o.recordId, o.result])).toEqual([
      ['r-a', 'Ok'],
      ['r-b', 'ProcessingFailed'],
      ['r-c', 'Ok'],
    ]);
  });

  it('derives its columns from the catalog and converts timestamps to µs', () => {
    expect(BRONZE_COLUMNS).toBe(BRONZE_EVENTS.columns);
    expect(epochMicros('1970-01-01T00:00:01.500Z')).toBe(1_500_000);
    expect(epochMicros(2)).toBe(2000);
    expect(epochMicros('nope')).toBeNull();
    expect(() => bronzeRow({ event_id: 'e', event_type: 'page_view', session_id: 's' }, 0)).toThrow(
      /event_time/,
    );
  });
});
