/**
 * Interactions in and out of files, and their indexing for training. Parsing never throws on a
 * bad record: each line is accepted or rejected with a reason, and the caller reports both.
 */
import type {
  EventWeights,
  Interaction,
  InteractionType,
  ShopperHistory,
  TrainingData,
  Vocabulary,
} from './types.ts';

export type InteractionFormat = 'csv' | 'lines' | 'online-retail' | 'events';

export interface RejectedLine {
  readonly line: number;
  readonly reason: string;
}

export interface ParsedInteractions {
  readonly interactions: Interaction[];
  readonly rejected: RejectedLine[];
  /** Records skipped on purpose (cancellations, anonymous invoice lines), by reason. */
  readonly skipped: Record<string, number>;
}

/** Maps shop event types and short names to the three interaction kinds. */
export function interactionType(raw: string | undefined): InteractionType | undefined {
  switch ((raw ?? '').trim().toLowerCase()) {
    case '':
    case 'view':
    case 'product_view':
    case 'page_view':
    case 'review':
    case 'click':
      return 'view';
    case 'cart':
    case 'add_to_cart':
    case 'begin_checkout':
      return 'cart';
    case 'purchase':
    case 'buy':
    case 'order':
      return 'purchase';
    default:
      return undefined;
  }
}

/**
 * Splits one CSV record (RFC 4180 quoting). Good enough for the files the CLI reads; a field
 * with an embedded newline is not supported and shows up as a rejected line.
 */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"') {
        if (line[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(field);
      field = '';
    } else field += c;
  }
  out.push(field);
  return out;
}

/** Parses a timestamp: epoch seconds, epoch milliseconds, or an ISO-like date (UTC if no zone). */
export function parseTimestamp(raw: string): number | undefined {
  const s = raw.trim();
  if (s === '') return undefined;
  if (/^-?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    // Ten-digit values are seconds (until 2286); longer ones milliseconds.
    return Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  const iso = /[zZ]|[+-]\d{2}:?\d{2}$/.test(s) ? s.replace(' ', 'T') : `${s.replace(' ', 'T')}Z`;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : undefined;
}

const MAX_ID = 256;

/** Parses `user_id,item_id,timestamp[,event_type]` with a header row (column order by name). */
export function parseInteractionsCsv(text: string): ParsedInteractions {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [u, it, ts, ev, se, ca] = [
    col('user_id'),
    col('item_id'),
    col('timestamp'),
    col('event_type'),
    col('session_id'),
    col('category'),
  ];
  if (u < 0 || it < 0 || ts < 0) {
    throw new InteractionFormatError('CSV header must name user_id,item_id,timestamp[,event_type]');
  }
  const interactions: Interaction[] = [];
  const rejected: RejectedLine[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] ?? '';
    if (line.trim() === '') continue;
    const f = splitCsvLine(line);
    const user = (f[u] ?? '').trim();
    const item = (f[it] ?? '').trim();
    const time = parseTimestamp(f[ts] ?? '');
    const type = interactionType(ev >= 0 ? f[ev] : undefined);
    if (!user || !item) rejected.push({ line: n + 1, reason: 'missing user_id or item_id' });
    else if (user.length > MAX_ID || item.length > MAX_ID)
      rejected.push({ line: n + 1, reason: 'id too long' });
    else if (time === undefined) rejected.push({ line: n + 1, reason: 'invalid timestamp' });
    else if (type === undefined) rejected.push({ line: n + 1, reason: `unknown event_type ${f[ev] ?? ''}` });
    else {
      const session = se >= 0 ? f[se]?.trim() : undefined;
      const category = ca >= 0 ? f[ca]?.trim() : undefined;
      interactions.push({
        user,
        item,
        ts: time,
        type,
        ...(session ? { session } : {}),
        ...(category ? { category } : {}),
      });
    }
  }
  return { interactions, rejected, skipped: {} };
}

/**
 * Parses `user item` pairs, one per line, whitespace separated, already in time order per user
 * (the format of several public benchmark sets). The line number becomes the timestamp.
 */
export function parseInteractionLines(text: string): ParsedInteractions {
  const interactions: Interaction[] = [];
  const rejected: RejectedLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] ?? '').trim();
    if (line === '') continue;
    const parts = line.split(/\s+/);
    const [user, item] = parts;
    if (!user || !item || parts.length > 3) rejected.push({ line: n + 1, reason: 'expected "user item"' });
    else if (user.length > MAX_ID || item.length > MAX_ID)
      rejected.push({ line: n + 1, reason: 'id too long' });
    else interactions.push({ user, item, ts: n, type: 'view' });
  }
  return { interactions, rejected, skipped: {} };
}

/**
 * Derives purchase interactions from the UCI Online Retail layout (InvoiceNo, StockCode, …,
 * InvoiceDate, UnitPrice, CustomerID, Country): user = CustomerID, item = StockCode,
 * timestamp = InvoiceDate. Cancellations (`C…` invoices, non-positive quantities) and lines
 * without a customer are skipped and counted, never silently dropped.
 */
export function parseOnlineRetail(text: string): ParsedInteractions {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim());
  const idx = (name: string) => header.indexOf(name);
  const [inv, code, qty, date, cust] = [
    idx('InvoiceNo'),
    idx('StockCode'),
    idx('Quantity'),
    idx('InvoiceDate'),
    idx('CustomerID'),
  ];
  if (inv < 0 || code < 0 || date < 0 || cust < 0) {
    throw new InteractionFormatError('online-retail CSV needs InvoiceNo, StockCode, InvoiceDate, CustomerID');
  }
  const interactions: Interaction[] = [];
  const rejected: RejectedLine[] = [];
  const skipped: Record<string, number> = {};
  const skip = (reason: string) => {
    skipped[reason] = (skipped[reason] ?? 0) + 1;
  };
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] ?? '';
    if (line.trim() === '') continue;
    const f = splitCsvLine(line);
    const invoice = (f[inv] ?? '').trim();
    const item = (f[code] ?? '').trim();
    const customer = (f[cust] ?? '').trim();
    const time = parseTimestamp(f[date] ?? '');
    const quantity = qty >= 0 ? Number(f[qty]) : 1;
    if (invoice.toUpperCase().startsWith('C')) skip('cancelled invoice');
    else if (customer === '') skip('no customer id');
    else if (!Number.isFinite(quantity) || quantity <= 0) skip('non-positive quantity');
    else if (!item || !invoice) rejected.push({ line: n + 1, reason: 'missing InvoiceNo or StockCode' });
    else if (time === undefined) rejected.push({ line: n + 1, reason: 'invalid InvoiceDate' });
    else {
      // CustomerID is a float in some exports ("17850.0").
      const user = customer.replace(/\.0+$/, '');
      interactions.push({ user, item, ts: time, type: 'purchase', session: invoice });
    }
  }
  return { interactions, rejected, skipped };
}

export class InteractionFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InteractionFormatError';
  }
}

/** The fields of a shop event (wire or lake row) that matter for recommendations. */
export interface EventLike {
  readonly event_type?: unknown;
  readonly event_time?: unknown;
  readonly session_id?: unknown;
  readonly user_id?: unknown;
  readonly product_id?: unknown;
  readonly category?: unknown;
  readonly order_status?: unknown;
  readonly items?: unknown;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Shop events → interactions: product views, add-to-cart and purchase lines (one per line,
 * cancelled orders skipped). The shopper is the user id, or `session:<id>` for anonymous
 * sessions, so anonymous baskets still feed co-occurrence. Other event types are skipped
 * (they carry no product signal) and counted.
 */
export function interactionsFromEvents(events: Iterable<EventLike>): ParsedInteractions {
  const interactions: Interaction[] = [];
  const rejected: RejectedLine[] = [];
  const skipped: Record<string, number> = {};
  let n = 0;
  for (const e of events) {
    n++;
    const type = str(e.event_type);
    const ts = typeof e.event_time === 'number' ? e.event_time : Date.parse(str(e.event_time) ?? '');
    const session = str(e.session_id);
    const user = str(e.user_id) ?? (session ? `session:${session}` : undefined);
    if (!type || !Number.isFinite(ts) || !user) {
      rejected.push({ line: n, reason: 'missing event_type, event_time or session_id' });
      continue;
    }
    const kind = type === 'product_view' ? 'view' : type === 'add_to_cart' ? 'cart' : undefined;
    const base = { user, ts, ...(session ? { session } : {}) };
    if (kind) {
      const item = str(e.product_id);
      const category = str(e.category);
      if (!item) rejected.push({ line: n, reason: `${type} without product_id` });
      else interactions.push({ ...base, item, type: kind, ...(category ? { category } : {}) });
    } else if (type === 'purchase') {
      if (e.order_status === 'cancelled') {
        skipped['cancelled order'] = (skipped['cancelled order'] ?? 0) + 1;
        continue;
      }
      const lines = Array.isArray(e.items) ? (e.items as unknown[]) : [];
      const single = str(e.product_id);
      if (lines.length === 0 && single) interactions.push({ ...base, item: single, type: 'purchase' });
      for (const line of lines) {
        const l = typeof line === 'object' && line !== null ? (line as Record<string, unknown>) : {};
        const item = str(l.product_id);
        const category = str(l.category);
        if (item) interactions.push({ ...base, item, type: 'purchase', ...(category ? { category } : {}) });
      }
      if (lines.length === 0 && !single) rejected.push({ line: n, reason: 'purchase without lines' });
    } else {
      skipped[`${type} (no product signal)`] = (skipped[`${type} (no product signal)`] ?? 0) + 1;
    }
  }
  return { interactions, rejected, skipped };
}

/** Parses JSON lines of shop events (what `POST /events` accepts and the generator emits). */
export function parseEventLines(text: string): ParsedInteractions {
  const events: EventLike[] = [];
  const bad: RejectedLine[] = [];
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] ?? '').trim();
    if (line === '') continue;
    try {
      const v: unknown = JSON.parse(line);
      if (typeof v === 'object' && v !== null && !Array.isArray(v)) events.push(v as EventLike);
      else bad.push({ line: n + 1, reason: 'not a JSON object' });
    } catch {
      bad.push({ line: n + 1, reason: 'invalid JSON' });
    }
  }
  const parsed = interactionsFromEvents(events);
  return { ...parsed, rejected: [...bad, ...parsed.rejected] };
}

/** Parses a file's text in one of the supported formats. */
export function parseInteractions(text: string, format: InteractionFormat): ParsedInteractions {
  if (format === 'csv') return parseInteractionsCsv(text);
  if (format === 'lines') return parseInteractionLines(text);
  if (format === 'events') return parseEventLines(text);
  return parseOnlineRetail(text);
}

/** Serialises interactions as the CSV the CLI reads (`user_id,item_id,timestamp,event_type`). */
export function interactionsToCsv(interactions: readonly Interaction[]): string {
  const esc = (s: string) => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const rows = ['user_id,item_id,timestamp,event_type'];
  for (const i of interactions) rows.push(`${esc(i.user)},${esc(i.item)},${i.ts},${i.type}`);
  return `${rows.join('\n')}\n`;
}

/** Builds a vocabulary from item ids in first-seen order. */
export function buildVocabulary(items: Iterable<string>): Vocabulary {
  const list: string[] = [];
  const index = new Map<string, number>();
  for (const it of items) {
    if (!index.has(it)) {
      index.set(it, list.length);
      list.push(it);
    }
  }
  return { items: list, index };
}

/**
 * Groups interactions per shopper in time order (stable for equal timestamps: input order) and
 * collapses repeats of an item into one entry: first-interaction time for the order, strongest
 * event weight, last-interaction time for recency.
 */
export function groupByShopper(interactions: readonly Interaction[]): Map<string, Interaction[]> {
  const byUser = new Map<string, Interaction[]>();
  for (const i of interactions) {
    let list = byUser.get(i.user);
    if (!list) {
      list = [];
      byUser.set(i.user, list);
    }
    list.push(i);
  }
  for (const list of byUser.values()) {
    // Array.prototype.sort is stable, so equal timestamps keep input order.
    list.sort((a, b) => a.ts - b.ts);
  }
  return byUser;
}

/** A shopper's distinct items in first-interaction order. */
export interface DistinctEntry {
  item: string;
  first: number;
  last: number;
  weight: number;
  category?: string;
}

/** Collapses an ordered interaction list to distinct items (see `groupByShopper`). */
export function distinctItems(sorted: readonly Interaction[], weights: EventWeights): DistinctEntry[] {
  const out: DistinctEntry[] = [];
  const at = new Map<string, DistinctEntry>();
  for (const i of sorted) {
    const w = weights[i.type];
    const e = at.get(i.item);
    if (e) {
      e.last = Math.max(e.last, i.ts);
      e.weight = Math.max(e.weight, w);
    } else {
      const entry: DistinctEntry = { item: i.item, first: i.ts, last: i.ts, weight: w };
      if (i.category) entry.category = i.category;
      at.set(i.item, entry);
      out.push(entry);
    }
  }
  return out;
}

/** Per shopper, the distinct items of `interactions` (`groupByShopper` + `distinctItems`). */
export function shopperHistories(
  interactions: readonly Interaction[],
  weights: EventWeights,
): Map<string, DistinctEntry[]> {
  const out = new Map<string, DistinctEntry[]>();
  for (const [user, list] of groupByShopper(interactions)) out.set(user, distinctItems(list, weights));
  return out;
}

/** The vocabulary of per-shopper histories: item ids in first-seen order. */
export function historyVocabulary(histories: ReadonlyMap<string, readonly DistinctEntry[]>): Vocabulary {
  return buildVocabulary(
    (function* () {
      for (const h of histories.values()) for (const e of h) yield e.item;
    })(),
  );
}

/**
 * Indexes per-shopper distinct histories for training. `vocab` may be given so several
 * training sets (train, train+validation) share item indices with the evaluation.
 */
export function buildTrainingData(
  histories: ReadonlyMap<string, readonly DistinctEntry[]>,
  weights: EventWeights,
  vocab?: Vocabulary,
): TrainingData {
  const v = vocab ?? historyVocabulary(histories);
  const shoppers: ShopperHistory[] = [];
  const categories = new Map<number, string>();
  let now = Number.NEGATIVE_INFINITY;
  for (const [user, h] of histories) {
    const items = new Int32Array(h.length);
    const w = new Float64Array(h.length);
    const times = new Float64Array(h.length);
    const lastTimes = new Float64Array(h.length);
    let n = 0;
    for (const e of h) {
      const idx = v.index.get(e.item);
      if (idx === undefined) continue;
      items[n] = idx;
      w[n] = e.weight;
      times[n] = e.first;
      lastTimes[n] = e.last;
      if (e.category && !categories.has(idx)) categories.set(idx, e.category);
      if (e.last > now) now = e.last;
      n++;
    }
    if (n === 0) continue;
    shoppers.push({
      user,
      items: items.subarray(0, n),
      weights: w.subarray(0, n),
      times: times.subarray(0, n),
      lastTimes: lastTimes.subarray(0, n),
    });
  }
  return { vocab: v, weights, shoppers, now: Number.isFinite(now) ? now : 0, categories };
}
