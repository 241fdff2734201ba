/**
 * Issue 16, defect 7: the ingest API answers client errors with 400 and a reason (never 5xx),
 * whatever the body: nesting 100,000 or 400,000 deep, lone UTF-16 surrogates, invalid UTF-8,
 * 1 MB strings, wrong types. And the poison corpus through the API: every record classified,
 * counts add up, the bad ones quarantined, the good ones sent.
 */
import type { PutRecordsCommand, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { describe, expect, it } from 'vitest';
import { transformRecord } from '../../lambdas/firehose-bronze/transform.ts';
import { createIngestHandler, type IngestDeps, type IngestResponse } from '../../lambdas/ingest/ingest.ts';
import { LIMITS, parseEvent } from '../../lambdas/shared/event-schema.ts';
import { inspectJsonText, inspectJsonValue, MAX_JSON_DEPTH } from '../../lambdas/shared/json-guard.ts';
import { recordExcerpt, validateLakeRecord } from '../../lambdas/shared/lake-record.ts';
import { MemoryObjectStore } from '../../lambdas/shared/object-store.ts';
import { parseQuarantineObject } from '../../lambdas/shared/quarantine.ts';
import { apiEvent, now, wireEvent } from '../fixtures/events.ts';

class CountingKinesis {
  readonly records: unknown[] = [];
  async send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> {
    const records = command.input.Records ?? [];
    const out = records.map((r) => {
      this.records.push(JSON.parse(Buffer.from(r.Data ?? new Uint8Array()).toString('utf8')));
      return { SequenceNumber: String(this.records.length), ShardId: 'shardId-000000000000' };
    });
    return { FailedRecordCount: 0, Records: out, $metadata: {} };
  }
}

function setup() {
  const quarantine = new MemoryObjectStore();
  const kinesis = new CountingKinesis();
  const deps: IngestDeps = { kinesis, streamName: 'events', quarantine, now, sleep: async () => undefined };
  const handler = createIngestHandler(deps);
  const post = async (body: string, base64 = false) => {
    const res = await handler(apiEvent(body, { base64 }));
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> & IngestResponse };
  };
  const quarantined = () => quarantine.list().flatMap((k) => parseQuarantineObject(quarantine.get(k) ?? ''));
  return { post, kinesis, quarantined };
}

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

describe('JSON guard (before any recursive processing)', () => {
  it('measures depth on the text without recursion, ignoring brackets inside strings', () => {
    expect(inspectJsonText(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(inspectJsonText(nested(MAX_JSON_DEPTH + 1))?.reason).toBe('json_too_deep');
    expect(inspectJsonText(nested(400_000))?.reason).toBe('json_too_deep');
    expect(inspectJsonText(`{"a":"${'['.repeat(100)}"}`)).toBeUndefined();
    expect(inspectJsonText('{"a":"\\"[[[["}', 3)).toBeUndefined();
  });

  it('finds lone surrogates, escaped or raw, and accepts proper pairs', () => {
    expect(inspectJsonText('{"query":"\\ud800"}')?.reason).toBe('invalid_unicode');
    expect(inspectJsonText('{"query":"\\uDC00x"}')?.reason).toBe('invalid_unicode');
    expect(inspectJsonText('{"query":"\\ud83d\\u0041"}')?.reason).toBe('invalid_unicode');
    expect(inspectJsonText('{"query":"a\ud800b"}')?.reason).toBe('invalid_unicode');
    expect(inspectJsonText('{"q\\ud800":1}')?.reason).toBe('invalid_unicode');
    expect(inspectJsonText('{"query":"\\ud83d\\ude00 😀 \\\\ud800"}')).toBeUndefined();
    expect(inspectJsonValue({ a: ['x', { b: '\ud800' }] })?.reason).toBe('invalid_unicode');
    expect(inspectJsonValue({ a: '😀' })).toBeUndefined();
  });

  it('bounds the walk of a parsed value by the depth limit', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(inspectJsonValue(deep)?.reason).toBe('json_too_deep');
  });

  it('parseEvent rejects lone surrogates and deep nesting in strings and in objects', () => {
    const r1 = parseEvent(
      JSON.stringify(wireEvent({ event_type: 'search', query: 'x' })).replace('"x"', '"\\ud800"'),
    );
    expect(r1).toMatchObject({ ok: false, reason: 'invalid_unicode' });
    const r2 = parseEvent(wireEvent({ event_type: 'search', query: '\ud800' }), { now });
    expect(r2).toMatchObject({ ok: false, reason: 'invalid_unicode' });
    const r3 = parseEvent(`{"event_id":"a","x":${nested(10_000)}}`);
    expect(r3).toMatchObject({ ok: false, reason: 'json_too_deep' });
    const r4 = parseEvent(JSON.stringify(wireEvent({ note: 'x'.repeat(LIMITS.maxEventBytes) })));
    expect(r4).toMatchObject({ ok: false, reason: 'event_too_large' });
  });
});

describe('ingest API: client errors are 400 with a reason, never 5xx', () => {
  it.each([
    [100_000, 'events array element'],
    [400_000, 'unknown field'],
  ])('an unknown field nested %i deep → 400 json_too_deep, quarantined', async (depth) => {
    const { post, kinesis, quarantined } = setup();
    const body = `{"events":[{"event_id":"deep-1","event_type":"page_view","event_time":"2026-11-21T10:00:00Z","session_id":"s1","x":${nested(depth)}}]}`;
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('json_too_deep');
    expect(String(res.body.message)).toContain(String(LIMITS.maxJsonDepth));
    expect(kinesis.records).toHaveLength(0);
    const q = quarantined();
    expect(q).toHaveLength(1);
    expect(q[0]).toMatchObject({ reason: 'json_too_deep', raw: body });
  });

  it('a lone surrogate anywhere in the body → 400 invalid_unicode, quarantined', async () => {
    const { post, kinesis, quarantined } = setup();
    const body = JSON.stringify({ events: [wireEvent({ event_type: 'search', query: 'QQ' })] }).replace(
      'QQ',
      '\\ud800',
    );
    const res = await post(body);
    expect(res).toMatchObject({ status: 400, body: { error: 'invalid_unicode' } });
    expect(kinesis.records).toHaveLength(0);
    expect(quarantined()[0]).toMatchObject({ reason: 'invalid_unicode', raw: body });
  });

  it('a base64 body that is not UTF-8 → 400 invalid_unicode, raw kept', async () => {
    const { post, quarantined } = setup();
    const bytes = Buffer.concat([
      Buffer.from('{"events":[{"event_id":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}]}'),
    ]);
    const handlerBody = bytes.toString('base64');
    const res = await createIngestHandler({
      kinesis: new CountingKinesis(),
      streamName: 'events',
      quarantine: new MemoryObjectStore(),
      now,
    })({ ...apiEvent(null, { base64: true }), body: handlerBody });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ error: 'invalid_unicode' });
    // the helper's own handler also answers 400 for the same bytes
    expect((await post(handlerBody, false)).status).toBe(400);
    expect(quarantined()).toHaveLength(1);
  });

  it('poison corpus through the API: every record classified, counts add up, nothing else blocked', async () => {
    const { post, kinesis, quarantined } = setup();
    const good = Array.from({ length: 20 }, (_, i) => wireEvent({ event_id: `good-${i}` }));
    const poison = [
      wireEvent({ event_type: 'search', query: 'x'.repeat(1_000_000 / 4) }), // oversized text
      wireEvent({ event_type: 'review', text: 'y'.repeat(6_000), rating: 5 }), // over the text limit
      wireEvent({ price: 'twelve' }), // wrong type
      wireEvent({ quantity: 2.5 }), // wrong type
      wireEvent({ event_time: 12345 }), // wrong type
      wireEvent({ event_type: 'refund' }), // not in the contract
      wireEvent({ nested: nestedValue(MAX_JSON_DEPTH - 3) }), // deep, but within the limit: an attribute
      'not an object',
      null,
    ];
    const events = [...good.slice(0, 10), ...poison, ...good.slice(10)];
    const res = await post(JSON.stringify({ events }));
    expect(res.status).toBe(200);
    const statuses = res.body.results.map((r) => r.status);
    expect(statuses).toHaveLength(events.length);
    expect(res.body.accepted + res.body.rejected + res.body.failed).toBe(events.length);
    expect(res.body.failed).toBe(0);
    // the nested-but-allowed event is accepted (its extra field kept as an attribute)
    expect(res.body.accepted).toBe(good.length + 1);
    expect(res.body.rejected).toBe(poison.length - 1);
    expect(kinesis.records).toHaveLength(res.body.accepted);
    expect(quarantined()).toHaveLength(res.body.rejected);
    const reasons = res.body.results.filter((r) => r.status === 'rejected').map((r) => r.reason);
    expect(new Set(reasons)).toEqual(
      new Set(['invalid_field', 'invalid_event_time', 'unknown_event_type', 'invalid_json', 'not_an_object']),
    );
  });
});

function nestedValue(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { n: v };
  return v;
}

describe('validateLakeRecord: one check for the Firehose transformation and the local extract', () => {
  const arrival = Date.parse('2026-11-21T10:05:00Z');
  const valid = () => JSON.stringify(parsedLine());

  it.each([
    ['truncated JSON', () => valid().slice(0, 50), 'invalid_json'],
    ['escaped lone surrogate', () => valid().replace('"p-1"', '"p-1","query":"\\ud800"'), 'invalid_unicode'],
    ['invalid UTF-8 bytes', () => Buffer.concat([Buffer.from(valid()), Buffer.from([0xc3])]), 'not_utf8'],
    [
      '1 MB string',
      () => valid().replace('"p-1"', `"p-1","text":"${'x'.repeat(1_000_000)}"`),
      'event_too_large',
    ],
    ['deep nesting', () => valid().replace('"p-1"', `"p-1","x":${nested(40)}`), 'json_too_deep'],
    ['wrong type', () => valid().replace('"rating":null', '"rating":"five"'), 'invalid_field'],
    ['price with 5 decimal places', () => valid().replace('12.5', '12.50001'), 'invalid_field'],
  ])('%s → %s, same reason from the Firehose transformation', (_name, make, reason) => {
    const data = make();
    expect(validateLakeRecord(data, arrival)).toMatchObject({ ok: false, reason });
    const base64 = Buffer.from(data).toString('base64');
    expect(
      transformRecord({ recordId: 'r1', data: base64, approximateArrivalTimestamp: arrival }),
    ).toMatchObject({
      result: 'ProcessingFailed',
      reason,
    });
  });

  it('accepts a normalised event as bytes or text', () => {
    expect(validateLakeRecord(valid(), arrival).ok).toBe(true);
    expect(validateLakeRecord(Buffer.from(valid()), arrival).ok).toBe(true);
  });

  it('excerpts are short and storable (lone surrogates replaced)', () => {
    const e = recordExcerpt(`a\ud800${'x'.repeat(500)}`, 20);
    expect(e).toBe(`a\uFFFD${'x'.repeat(18)}…`);
  });
});

function parsedLine() {
  const r = parseEvent(wireEvent(), { now });
  if (!r.ok) throw new Error(r.detail);
  return r.event;
}
