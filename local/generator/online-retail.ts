/**
 * Maps the UCI "Online Retail" invoice lines (Daqing Chen, UCI Machine Learning Repository,
 * https://doi.org/10.24432/C5BW33, CC BY 4.0) to shoplake purchase events (wire format v1).
 *
 * Why a mapping and not a loader: the real data set must enter through the same ingest path as
 * any shop's events, so it is turned into wire events and replayed through the ingest handler.
 *
 * How CSV lines become events (every line ends up in exactly one event):
 *  - valid lines are grouped by InvoiceNo into one `purchase` event with `items`, in order of
 *    first appearance; invoices with more than 100 lines are split into parts of ≤ 100 lines:
 *    event_id `uci:<InvoiceNo>:<part>` (part 1, 2, …), order_id `<InvoiceNo>`,
 *    session_id `uci-<InvoiceNo>`;
 *  - event_time: the first line's InvoiceDate, UK local time (Europe/London, GMT/BST) → UTC;
 *  - invoices starting with `C` are cancellations: `order_status: "cancelled"` and the negative
 *    quantities become positive;
 *  - CustomerID → user_id (`17850.0` → `17850`); empty → anonymous (no user_id);
 *  - Country → the unknown field `country` (kept in the event's attributes), currency `GBP`;
 *  - a line that breaks the contract (price < 0, quantity 0, a negative quantity on a normal
 *    invoice, a positive one on a cancellation, a stock code that is not a valid id, an
 *    unparseable date or number) becomes its own single-line event `uci:<InvoiceNo>:L<line>`
 *    that carries the offending value unchanged, so the ingest handler rejects it with a
 *    reason and quarantines it — nothing is dropped or silently repaired;
 *  - a record with the wrong number of columns is sent as its raw text (rejected as
 *    `invalid_json`, quarantined with the text).
 * So: CSV data lines = Σ lines per event, and each line's fate is its event's fate.
 */
import { ID_PATTERN, LIMITS } from '../../lambdas/shared/event-schema.ts';
import { type CsvRecord, readCsv } from './csv.ts';

export const ONLINE_RETAIL_HEADER = [
  'InvoiceNo',
  'StockCode',
  'Description',
  'Quantity',
  'InvoiceDate',
  'UnitPrice',
  'CustomerID',
  'Country',
] as const;

export const UCI_ATTRIBUTION =
  'Online Retail data set: Daqing Chen, UCI Machine Learning Repository, https://doi.org/10.24432/C5BW33, CC BY 4.0';

/** One event to send, with the CSV lines it carries. */
export interface MappedRecord {
  /** The wire event (an object), or the raw text of a malformed CSV record. */
  readonly payload: Record<string, unknown> | string;
  /** Physical line numbers of the CSV records in this event. */
  readonly lines: readonly number[];
  /** Why the mapping isolated this line (`undefined` for regular invoice events). */
  readonly isolated?: string;
}

export interface OnlineRetailMapping {
  readonly records: MappedRecord[];
  /** Data records read (header excluded). */
  readonly csvRecords: number;
  readonly invoices: number;
  readonly isolatedLines: number;
}

export class OnlineRetailFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnlineRetailFormatError';
  }
}

// ---------------------------------------------------------------------------------------------
// Europe/London local time → UTC
// ---------------------------------------------------------------------------------------------

const londonParts = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** Offset of London time from UTC (minutes) at an instant. */
function londonOffsetMinutes(utcMs: number): number {
  const p: Record<string, number> = {};
  for (const part of londonParts.formatToParts(new Date(utcMs))) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  const asUtc = Date.UTC(
    p.year ?? 0,
    (p.month ?? 1) - 1,
    p.day ?? 1,
    p.hour ?? 0,
    p.minute ?? 0,
    p.second ?? 0,
  );
  return Math.round((asUtc - Math.floor(utcMs / 1000) * 1000) / 60_000);
}

/**
 * Converts a wall-clock time in London to UTC epoch ms. Ambiguous times (the repeated hour when
 * BST ends) take the first occurrence (BST); non-existent times (the skipped hour when BST
 * starts) are read with the offset before the change, i.e. shifted forward by an hour.
 */
export function londonToUtc(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
): number {
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  const candidates = [londonOffsetMinutes(local - 86_400_000), londonOffsetMinutes(local + 86_400_000)].sort(
    (a, b) => b - a,
  );
  for (const offset of candidates) {
    const utc = local - offset * 60_000;
    if (londonOffsetMinutes(utc) === offset) return utc;
  }
  return local - Math.min(...candidates) * 60_000;
}

const ISO_LOCAL = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$/;
const US_LOCAL = /^(\d{1,2})\/(\d{1,2})\/(\d{4}) (\d{1,2}):(\d{2})(?::(\d{2}))?$/;

const dateCache = new Map<string, string | undefined>();

/** Parses an InvoiceDate (`2010-12-01 08:26:00`, or the original `12/1/2010 8:26`) to ISO UTC. */
export function invoiceDateToUtc(value: string): string | undefined {
  // Lines of one invoice share their date: the cache turns 40k conversions into ~13k.
  if (dateCache.has(value)) return dateCache.get(value);
  const result = convertInvoiceDate(value);
  if (dateCache.size > 100_000) dateCache.clear();
  dateCache.set(value, result);
  return result;
}

type DateParts = [year: number, month: number, day: number, hour: number, minute: number, second: number];

function convertInvoiceDate(value: string): string | undefined {
  const trimmed = value.trim();
  const iso = ISO_LOCAL.exec(trimmed);
  const match = iso ?? US_LOCAL.exec(trimmed);
  if (!match) return undefined;
  // ISO: year, month, day; US: month, day, year. Then hour, minute, optional second.
  const [, a, b, c, hour, minute, second = '0'] = match;
  const [y, mo, d, h, mi, s] = (iso ? [a, b, c, hour, minute, second] : [c, a, b, hour, minute, second]).map(
    Number,
  ) as DateParts;
  // Reject impossible dates (2011-02-30) instead of letting Date roll them over.
  const probe = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  if (
    probe.getUTCFullYear() !== y ||
    probe.getUTCMonth() !== mo - 1 ||
    probe.getUTCDate() !== d ||
    h > 23 ||
    mi > 59 ||
    s > 59
  ) {
    return undefined;
  }
  return new Date(londonToUtc(y, mo, d, h, mi, s)).toISOString();
}

// ---------------------------------------------------------------------------------------------
// Lines → events
// ---------------------------------------------------------------------------------------------

interface Line {
  readonly line: number;
  readonly invoice: string;
  readonly stockCode: string;
  readonly quantity: string;
  readonly invoiceDate: string;
  readonly unitPrice: string;
  readonly customerId: string;
  readonly country: string;
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function toNumber(raw: string): number | string {
  const t = raw.trim();
  return NUMBER.test(t) ? Number(t) : raw;
}

/** `17850.0` (how spreadsheets export the ids) → `17850`; empty → null. */
function customerIdOf(raw: string): string | null {
  const t = raw.trim();
  if (t === '') return null;
  return /^\d+\.0+$/.test(t) ? t.replace(/\.0+$/, '') : t;
}

/** Why a line cannot be part of a valid purchase event, or undefined when it can. */
function problemOf(l: Line): string | undefined {
  const cancelled = l.invoice.startsWith('C');
  const q = toNumber(l.quantity);
  const p = toNumber(l.unitPrice);
  if (!ID_PATTERN.test(l.invoice)) return 'invoice number is not a valid id';
  if (!ID_PATTERN.test(l.stockCode.trim())) return 'stock code is not a valid id';
  if (typeof q !== 'number' || !Number.isInteger(q)) return 'quantity is not an integer';
  if (q === 0) return 'quantity is 0';
  if (!cancelled && q < 0) return 'negative quantity on a non-cancellation invoice';
  if (cancelled && q > 0) return 'positive quantity on a cancellation invoice';
  if (Math.abs(q) > LIMITS.maxQuantity) return 'quantity too large';
  if (typeof p !== 'number') return 'unit price is not a number';
  if (p < 0) return 'negative unit price';
  if (invoiceDateToUtc(l.invoiceDate) === undefined) return 'invalid invoice date';
  const customer = customerIdOf(l.customerId);
  if (customer !== null && !ID_PATTERN.test(customer)) return 'customer id is not a valid id';
  return undefined;
}

function baseEvent(l: Line, eventId: string, eventTime: string): Record<string, unknown> {
  const event: Record<string, unknown> = {
    event_id: eventId,
    event_type: 'purchase',
    event_time: eventTime,
    session_id: `uci-${l.invoice}`,
    order_id: l.invoice,
    currency: 'GBP',
  };
  if (l.invoice.startsWith('C')) event.order_status = 'cancelled';
  const customer = customerIdOf(l.customerId);
  if (customer !== null) event.user_id = customer;
  if (l.country.trim() !== '') event.country = l.country.trim();
  return event;
}

/** One event for a line that breaks the contract, carrying the offending values unchanged. */
function isolatedEvent(l: Line): Record<string, unknown> {
  const cancelled = l.invoice.startsWith('C');
  const q = toNumber(l.quantity);
  const eventTime = invoiceDateToUtc(l.invoiceDate) ?? l.invoiceDate;
  const event = baseEvent(l, `uci:${l.invoice}:L${l.line}`, eventTime);
  // Cancellations flip the sign, so a positive quantity on one arrives negative and is rejected.
  const quantity = typeof q === 'number' && cancelled ? -q : q;
  event.items = [{ product_id: l.stockCode.trim(), quantity, price: toNumber(l.unitPrice) }];
  return event;
}

function lineOf(r: CsvRecord): Line {
  const f = r.fields;
  return {
    line: r.line,
    invoice: (f[0] ?? '').trim(),
    stockCode: f[1] ?? '',
    quantity: f[3] ?? '',
    invoiceDate: f[4] ?? '',
    unitPrice: f[5] ?? '',
    customerId: f[6] ?? '',
    country: f[7] ?? '',
  };
}

/** Maps the whole CSV text; throws `OnlineRetailFormatError` if the header is not the UCI one. */
export function mapOnlineRetail(text: string): OnlineRetailMapping {
  const records = readCsv(text);
  const header = records.next();
  if (header.done) throw new OnlineRetailFormatError('empty file');
  const names = header.value.fields.map((h) => h.trim());
  if (names.join(',') !== ONLINE_RETAIL_HEADER.join(',')) {
    throw new OnlineRetailFormatError(
      `unexpected header ${JSON.stringify(names.join(','))}, expected ${ONLINE_RETAIL_HEADER.join(',')}`,
    );
  }
  const out: MappedRecord[] = [];
  const invoices = new Map<string, { first: Line; lines: Line[]; slot: number }>();
  let csvRecords = 0;
  let isolatedLines = 0;
  for (const r of records) {
    csvRecords += 1;
    if (r.fields.length !== ONLINE_RETAIL_HEADER.length) {
      isolatedLines += 1;
      out.push({ payload: r.raw, lines: [r.line], isolated: `expected 8 columns, found ${r.fields.length}` });
      continue;
    }
    const l = lineOf(r);
    const problem = problemOf(l);
    if (problem) {
      isolatedLines += 1;
      out.push({ payload: isolatedEvent(l), lines: [l.line], isolated: problem });
      continue;
    }
    let group = invoices.get(l.invoice);
    if (!group) {
      // Reserve the output position of the invoice's first line, so events keep file order.
      group = { first: l, lines: [], slot: out.length };
      invoices.set(l.invoice, group);
      out.push({ payload: {}, lines: [] });
    }
    group.lines.push(l);
  }
  const expanded: MappedRecord[][] = out.map((r) => [r]);
  for (const group of invoices.values()) {
    const eventTime = invoiceDateToUtc(group.first.invoiceDate) as string;
    const parts: MappedRecord[] = [];
    for (let start = 0, part = 1; start < group.lines.length; start += LIMITS.maxPurchaseLines, part += 1) {
      const chunk = group.lines.slice(start, start + LIMITS.maxPurchaseLines);
      const event = baseEvent(group.first, `uci:${group.first.invoice}:${part}`, eventTime);
      event.items = chunk.map((l) => ({
        product_id: l.stockCode.trim(),
        quantity: Math.abs(Number(l.quantity.trim())),
        price: Number(l.unitPrice.trim()),
      }));
      parts.push({ payload: event, lines: chunk.map((l) => l.line) });
    }
    expanded[group.slot] = parts;
  }
  return { records: expanded.flat(), csvRecords, invoices: invoices.size, isolatedLines };
}
