/**
 * Hostile-input corpus (test/fixtures/events/hostile-corpus.jsonl, one raw record per line,
 * expected classification in hostile-corpus.expected.json): nothing crashes, every record is
 * classified as accepted, duplicate or rejected-with-reason, counts add up, and rejected
 * records are in quarantine with their reason.
 */
import { readFileSync } from 'node:fs';
import type { PutRecordsCommand, PutRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import type { KinesisStreamRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createIngestHandler, type IngestResponse } from '../../lambdas/ingest/ingest.ts';
import { parseEvent } from '../../lambdas/shared/event-schema.ts';
import { MemoryFeatureStore } from '../../lambdas/shared/features/memory-store.ts';
import { comparableFeatureState } from '../../lambdas/shared/features/read.ts';
import { MemoryObjectStore } from '../../lambdas/shared/object-store.ts';
import { parseQuarantineObject } from '../../lambdas/shared/quarantine.ts';
import { type ConsumerBatchResult, processKinesisBatch } from '../../lambdas/stream-consumer/consumer.ts';
import { apiEvent, kinesisRecord, now, sequenceNumber } from '../fixtures/events.ts';

const dir = new URL('../fixtures/events/', import.meta.url);
const lines = readFileSync(new URL('hostile-corpus.jsonl', dir), 'utf8').replace(/\n$/, '').split('\n');
const expected: { name: string; expect: string }[] = JSON.parse(
  readFileSync(new URL('hostile-corpus.expected.json', dir), 'utf8'),
);

const REJECTED = expected.filter((e) => e.expect !== 'accepted' && e.expect !== 'duplicate');
const expectedByReason: Record<string, number> = {};
for (const e of REJECTED) expectedByReason[e.expect] = (expectedByReason[e.expect] ?? 0) + 1;
const expectedCount = (kind: string) => expected.filter((e) => e.expect === kind).length;

/** Records with raw line text as data (what a direct Kinesis producer could send). */
function corpusRecords(startSeq = 0): KinesisStreamRecord[] {
  return lines.map((line, i) => {
    const r = kinesisRecord(line, { seq: startSeq + i });
    return r;
  });
}

function sum(results: ConsumerBatchResult[]) {
  const total = { accepted: 0, duplicates: 0, rejected: 0, by: {} as Record<string, number> };
  for (const r of results) {
    expect(r.failedSequenceNumber).toBeUndefined();
    total.accepted += r.accepted;
    total.duplicates += r.duplicates;
    total.rejected += r.rejected;
    for (const [k, v] of Object.entries(r.rejected_by_reason)) total.by[k] = (total.by[k] ?? 0) + (v ?? 0);
  }
  return total;
}

function quarantineLines(store: MemoryObjectStore) {
  return store.list().flatMap((k) => parseQuarantineObject(store.get(k) ?? ''));
}

describe('hostile corpus', () => {
  it('has one expectation per line', () => {
    expect(lines.length).toBe(expected.length);
    expect(lines.length).toBeGreaterThanOrEqual(45);
  });

  it.each(expected.map((e, i) => [i, e.name, e.expect] as const).filter(([, , x]) => x !== 'duplicate'))(
    'line %i (%s) validates as %s',
    (i, _name, want) => {
      const r = parseEvent(lines[i], { now });
      expect(r.ok ? 'accepted' : r.reason).toBe(want);
    },
  );

  it('through the consumer in small batches: every record classified, counts add up, rejects quarantined', async () => {
    const store = new MemoryFeatureStore();
    const quarantine = new MemoryObjectStore();
    const records = corpusRecords();
    const results: ConsumerBatchResult[] = [];
    for (let i = 0; i < records.length; i += 7) {
      results.push(await processKinesisBatch(records.slice(i, i + 7), { store, quarantine, now }));
    }
    const total = sum(results);
    expect(total.accepted + total.duplicates + total.rejected).toBe(lines.length);
    expect(total.accepted).toBe(expectedCount('accepted'));
    expect(total.duplicates).toBe(expectedCount('duplicate'));
    expect(total.by).toEqual(expectedByReason);

    const q = quarantineLines(quarantine);
    expect(q).toHaveLength(REJECTED.length);
    for (const line of q) {
      const index = records.findIndex((r) => r.kinesis.sequenceNumber === line.sequence_number);
      expect(index, `quarantined ${String(line.sequence_number)}`).toBeGreaterThanOrEqual(0);
      expect(line.reason).toBe(expected[index]?.expect);
      expect(line.source).toBe('consumer');
      expect(line.raw).toBe(lines[index]);
      expect(line.detail.length).toBeGreaterThan(0);
    }
    // No feature item key carries a hostile id.
    for (const item of await store.scanAll()) {
      expect(item.pk).toMatch(/^[A-Za-z0-9._:%#-]+$/);
      expect(item.pk).not.toMatch(/\.\.|ITEM|\//);
    }
  });

  it('replaying the corpus (same records) changes nothing and counts replays, not duplicates', async () => {
    const store = new MemoryFeatureStore();
    const quarantine = new MemoryObjectStore();
    const records = corpusRecords();
    await processKinesisBatch(records, { store, quarantine, now });
    const before = await comparableFeatureState(store);
    const objects = quarantine.list();
    const again = await processKinesisBatch(records, { store, quarantine, now });
    expect(again.replayed).toBe(expectedCount('accepted'));
    expect(again.duplicates).toBe(expectedCount('duplicate'));
    expect(await comparableFeatureState(store)).toEqual(before);
    expect(quarantine.list()).toEqual(objects); // same object overwritten, not a second copy
  });

  it('through ingest then the consumer: ingest rejects the invalid, the consumer drops the duplicates', async () => {
    const putRecords: { data: string; pk: string }[] = [];
    const kinesis = {
      async send(command: PutRecordsCommand): Promise<PutRecordsCommandOutput> {
        const rs = command.input.Records ?? [];
        for (const r of rs)
          putRecords.push({
            data: Buffer.from(r.Data ?? new Uint8Array()).toString('utf8'),
            pk: r.PartitionKey ?? '',
          });
        return {
          FailedRecordCount: 0,
          Records: rs.map((_, i) => ({ SequenceNumber: String(i), ShardId: 's' })),
          $metadata: {},
        };
      },
    };
    const ingestQuarantine = new MemoryObjectStore();
    const ingest = createIngestHandler({ kinesis, streamName: 'events', quarantine: ingestQuarantine, now });
    // Each line goes as the raw string: re-serialising a parsed line would alter it (1e400
    // parses to Infinity and serialises to null), and the handler parses strings itself.
    const events = lines;
    const res = await ingest(apiEvent(JSON.stringify({ events })));
    const body = JSON.parse(res.body) as IngestResponse;
    expect(res.statusCode).toBe(200);
    expect(body.results).toHaveLength(lines.length);
    body.results.forEach((r, i) => {
      const want = expected[i]?.expect;
      if (want === 'accepted' || want === 'duplicate') expect(r.status, expected[i]?.name).toBe('accepted');
      else expect([r.status, r.reason], expected[i]?.name).toEqual(['rejected', want]);
    });
    expect(body.accepted + body.rejected).toBe(lines.length);
    expect(
      quarantineLines(ingestQuarantine)
        .map((l) => l.reason)
        .sort(),
    ).toEqual(REJECTED.map((e) => e.expect).sort());

    const store = new MemoryFeatureStore();
    const consumerQuarantine = new MemoryObjectStore();
    const records = putRecords.map((r, i) => kinesisRecord(r.data, { seq: i, partitionKey: r.pk }));
    const result = await processKinesisBatch(records, { store, quarantine: consumerQuarantine, now });
    expect(result).toMatchObject({
      accepted: expectedCount('accepted'),
      duplicates: expectedCount('duplicate'),
      rejected: 0,
    });
    expect(consumerQuarantine.list()).toEqual([]);
  });

  it('an oversized consumer batch (6,000 records, corpus repeated) is handled in one call', async () => {
    const store = new MemoryFeatureStore();
    const quarantine = new MemoryObjectStore();
    const records: KinesisStreamRecord[] = [];
    for (let rep = 0; rep < 125; rep += 1) {
      lines.forEach((line, i) => {
        records.push(kinesisRecord(line, { seq: rep * lines.length + i }));
      });
    }
    const r = await processKinesisBatch(records, { store, quarantine, now });
    expect(r.failedSequenceNumber).toBeUndefined();
    expect(r.accepted + r.duplicates + r.rejected).toBe(records.length);
    expect(r.accepted).toBe(expectedCount('accepted'));
    expect(r.rejected).toBe(REJECTED.length * 125);
    expect(quarantineLines(quarantine)).toHaveLength(REJECTED.length * 125);
  });

  it('records whose data is not UTF-8 are rejected as invalid_encoding', async () => {
    const quarantine = new MemoryObjectStore();
    const badUtf8 = kinesisRecord('', {
      seq: 1,
      rawData: Buffer.from([0xff, 0xfe, 0x00]).toString('base64'),
    });
    const notBase64 = kinesisRecord('', { seq: 2, rawData: '@@@not base64@@@' });
    const r = await processKinesisBatch([badUtf8, notBase64], {
      store: new MemoryFeatureStore(),
      quarantine,
      now,
    });
    expect(r.rejected).toBe(2);
    expect(r.rejected_by_reason).toEqual({ invalid_encoding: 2 });
    expect(r.accepted + r.duplicates + r.rejected).toBe(2);
    expect(quarantineLines(quarantine).map((l) => l.sequence_number)).toEqual([
      sequenceNumber(1),
      sequenceNumber(2),
    ]);
  });
});
