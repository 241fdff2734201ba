import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseEvent } from '../../lambdas/shared/event-schema.ts';
import { CsvSyntaxError, readCsv } from '../../local/generator/csv.ts';
import {
  invoiceDateToUtc,
  londonToUtc,
  mapOnlineRetail,
  OnlineRetailFormatError,
} from '../../local/generator/online-retail.ts';

const HEADER = 'InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country';
// SPEC: the sample lives next to the repository, in ../shared/data.
const SAMPLE = fileURLToPath(new URL('../../../shared/data/online_retail_sample.csv', import.meta.url));
if (!existsSync(SAMPLE)) console.warn(`skipping the full-sample test: ${SAMPLE} not found`);
const NOW = () => Date.parse('2026-11-21T00:00:00Z');

function csv(...rows: string[]): string {
  return `${[HEADER, ...rows].join('\n')}\n`;
}

describe('CSV reader', () => {
  it('handles quoted fields with commas, doubled quotes, CRLF and newlines inside quotes', () => {
    const text = 'a,b,c\r\n1,"x, y","say ""hi"""\r\n2,"multi\nline",\n\n3,plain,"last"';
    const records = [...readCsv(text)];
    expect(records.map((r) => r.fields)).toEqual([
      ['a', 'b', 'c'],
      ['1', 'x, y', 'say "hi"'],
      ['2', 'multi\nline', ''],
      ['3', 'plain', 'last'],
    ]);
    expect(records.map((r) => r.line)).toEqual([1, 2, 3, 6]);
  });

  it('reports an unterminated quote with its line', () => {
    expect(() => [...readCsv('a,b\n1,"open\n2,3')]).toThrow(CsvSyntaxError);
    expect(() => [...readCsv('a,b\n1,"open\n2,3')]).toThrow(/line 2/);
  });
});

describe('Europe/London local time → UTC', () => {
  it('uses GMT in winter and BST in summer', () => {
    expect(invoiceDateToUtc('2010-12-01 08:26:00')).toBe('2010-12-01T08:26:00.000Z');
    expect(invoiceDateToUtc('2011-07-01 12:00:00')).toBe('2011-07-01T11:00:00.000Z');
  });

  it('switches exactly at the DST boundaries (last Sundays of March and October)', () => {
    expect(invoiceDateToUtc('2011-03-27 00:59:00')).toBe('2011-03-27T00:59:00.000Z');
    expect(invoiceDateToUtc('2011-03-27 02:00:00')).toBe('2011-03-27T01:00:00.000Z');
    expect(invoiceDateToUtc('2011-10-30 00:30:00')).toBe('2011-10-29T23:30:00.000Z');
    expect(invoiceDateToUtc('2011-10-30 02:00:00')).toBe('2011-10-30T02:00:00.000Z');
    expect(invoiceDateToUtc('2011-03-26 12:00:00')).toBe('2011-03-26T12:00:00.000Z');
    expect(invoiceDateToUtc('2011-03-28 12:00:00')).toBe('2011-03-28T11:00:00.000Z');
  });

  it('resolves the skipped hour forward and the repeated hour to its first (BST) occurrence', () => {
    // 01:30 on 2011-03-27 does not exist in London: read with GMT, i.e. 02:30 BST.
    expect(new Date(londonToUtc(2011, 3, 27, 1, 30, 0)).toISOString()).toBe('2011-03-27T01:30:00.000Z');
    // 01:30 on 2011-10-30 happens twice: first at 00:30Z (BST), then 01:30Z (GMT).
    expect(new Date(londonToUtc(2011, 10, 30, 1, 30, 0)).toISOString()).toBe('2011-10-30T00:30:00.000Z');
  });

  it('accepts the original spreadsheet format and rejects impossible dates', () => {
    expect(invoiceDateToUtc('6/15/2011 9:05')).toBe('2011-06-15T08:05:00.000Z');
    expect(invoiceDateToUtc('2011-02-30 10:00:00')).toBeUndefined();
    expect(invoiceDateToUtc('yesterday')).toBeUndefined();
  });
});

describe('UCI online-retail mapping', () => {
  it('groups an invoice into one purchase event with items, a deterministic id and UTC time', () => {
    const m = mapOnlineRetail(
      csv(
        '536365,85123A,"WHITE HANGING HEART T-LIGHT HOLDER",6,2011-06-01 08:26:00,2.55,17850,United Kingdom',
        '536365,71053,"LANTERN, WHITE ""METAL""",6,2011-06-01 08:26:00,3.39,17850,United Kingdom',
      ),
    );
    expect(m.records).toHaveLength(1);
    expect(m.records[0]?.lines).toEqual([2, 3]);
    const parsed = parseEvent(m.records[0]?.payload, { now: NOW });
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    expect(parsed.event).toMatchObject({
      event_id: 'uci:536365:1',
      event_type: 'purchase',
      event_time: '2011-06-01T07:26:00.000Z',
      session_id: 'uci-536365',
      order_id: '536365',
      order_status: 'placed',
      user_id: '17850',
      currency: 'GBP',
      attributes: { country: '"United Kingdom"' },
      items: [
        { product_id: '85123A', quantity: 6, price: 2.55 },
        { product_id: '71053', quantity: 6, price: 3.39 },
      ],
    });
  });

  it('maps cancellations to cancelled purchases with positive quantities', () => {
    const m = mapOnlineRetail(csv('C536379,D,Discount,-1,2010-12-01 09:41:00,27.5,14527.0,United Kingdom'));
    const parsed = parseEvent(m.records[0]?.payload, { now: NOW });
    expect(parsed.ok && parsed.event).toMatchObject({
      event_id: 'uci:C536379:1',
      order_status: 'cancelled',
      user_id: '14527',
      items: [{ product_id: 'D', quantity: 1, price: 27.5 }],
    });
  });

  it('treats an empty CustomerID as an anonymous purchase', () => {
    const m = mapOnlineRetail(
      csv('536544,21773,DECORATIVE ROSE BATHROOM BOTTLE,1,2010-12-01 14:32:00,2.51,,United Kingdom'),
    );
    const parsed = parseEvent(m.records[0]?.payload, { now: NOW });
    expect(parsed.ok && parsed.event.user_id).toBeNull();
  });

  it('splits invoices over 100 lines into parts with deterministic ids', () => {
    const rows = Array.from(
      { length: 230 },
      (_, i) => `580000,SKU${i},ITEM,1,2011-12-01 10:00:00,1.25,12345,France`,
    );
    const m = mapOnlineRetail(csv(...rows));
    expect(m.records.map((r) => (r.payload as { event_id: string }).event_id)).toEqual([
      'uci:580000:1',
      'uci:580000:2',
      'uci:580000:3',
    ]);
    expect(m.records.map((r) => r.lines.length)).toEqual([100, 100, 30]);
    for (const r of m.records) expect(parseEvent(r.payload, { now: NOW }).ok).toBe(true);
  });

  it('isolates contract-breaking lines into events the ingest handler rejects with a reason', () => {
    const m = mapOnlineRetail(
      csv(
        '536365,85123A,OK,6,2011-06-01 08:26:00,2.55,17850,United Kingdom',
        '536365,BADPRICE,NEG PRICE,1,2011-06-01 08:26:00,-11062.06,17850,United Kingdom',
        '536366,22000,ZERO,0,2011-06-01 09:00:00,1,,United Kingdom',
        '536367,85067,DAMAGED,-6,2011-06-01 09:00:00,0,,United Kingdom',
        'C536368,85067,ODD,4,2011-06-01 09:00:00,1,,United Kingdom',
        '536369,BANK CHARGES,Bank Charges,1,2011-06-01 09:00:00,15,,United Kingdom',
        '536370,22001,BAD DATE,1,2011-13-01 09:00:00,1,,United Kingdom',
        '536371,too,few,columns',
      ),
    );
    expect(m.csvRecords).toBe(8);
    expect(m.isolatedLines).toBe(7);
    expect(m.records.reduce((a, r) => a + r.lines.length, 0)).toBe(8);
    const reasons = m.records.map((r) => {
      const p = parseEvent(r.payload, { now: NOW });
      return p.ok ? 'accepted' : p.reason;
    });
    expect(reasons).toEqual([
      'accepted',
      'invalid_field',
      'invalid_field',
      'invalid_field',
      'invalid_field',
      'invalid_field',
      'invalid_event_time',
      'invalid_json',
    ]);
    expect(m.records[1]?.payload).toMatchObject({ event_id: 'uci:536365:L3' });
  });

  it('refuses a file with another header', () => {
    expect(() => mapOnlineRetail('a,b,c\n1,2,3\n')).toThrow(OnlineRetailFormatError);
  });

  it.runIf(existsSync(SAMPLE))('accounts for every line of the real sample (40,000 lines)', () => {
    const m = mapOnlineRetail(readFileSync(SAMPLE, 'utf8'));
    expect(m.csvRecords).toBe(40_000);
    expect(m.records.reduce((a, r) => a + r.lines.length, 0)).toBe(40_000);
    const ids = new Set(m.records.map((r) => (r.payload as { event_id: string }).event_id));
    expect(ids.size).toBe(m.records.length);
    let accepted = 0;
    let cancelled = 0;
    for (const r of m.records) {
      const p = parseEvent(r.payload, { now: NOW });
      if (p.ok) {
        accepted += 1;
        if (p.event.order_status === 'cancelled') cancelled += 1;
      }
      // Regular invoice events are valid; only isolated lines are rejected.
      expect(p.ok).toBe(r.isolated === undefined);
    }
    expect(accepted).toBe(m.records.length - m.isolatedLines);
    expect(cancelled).toBeGreaterThan(100);
  });
});
