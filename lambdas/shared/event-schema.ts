/**
 * Wire format v1 of a shoplake event: the single source of truth for the event contract.
 *
 * From this module come
 *  - per-event validation in the ingest API handler and the stream consumer (`parseEvent`),
 *  - the JSON Schema used for API Gateway request validation (`ingestRequestJsonSchema`),
 *  - the columns of the lake's event tables (`eventColumns`).
 *
 * Validation never throws on bad input: `parseEvent` returns either a normalised event or a
 * machine-readable reason, so every record can be classified (accepted / rejected-with-reason).
 */
import { z } from 'zod';
import { inspectJsonText, inspectJsonValue, MAX_JSON_DEPTH } from './json-guard.ts';

export const SCHEMA_VERSION = 1;

export const EVENT_TYPES = [
  'page_view',
  'product_view',
  'search',
  'add_to_cart',
  'remove_from_cart',
  'begin_checkout',
  'purchase',
  'review',
  'recommendation_impression',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** Event types that must name a product (top-level `product_id`). */
export const PRODUCT_EVENT_TYPES: ReadonlySet<EventType> = new Set([
  'product_view',
  'add_to_cart',
  'remove_from_cart',
  'review',
]);

/** Limits of the contract, shared by code, docs and tests. */
export const LIMITS = {
  maxEventsPerRequest: 500,
  maxRequestBytes: 1_000_000,
  maxPurchaseLines: 100,
  maxReviewTextChars: 5_000,
  maxFreeTextChars: 1_000,
  maxFutureSkewMs: 24 * 60 * 60 * 1000,
  minEventTime: '1970-01-01T00:00:00.000Z',
  maxPrice: 1_000_000_000,
  maxQuantity: 100_000,
  maxAttributes: 50,
  maxAttributeBytes: 8_192,
  /** Items of one recommendation impression (positions 1…n). */
  maxImpressionItems: 100,
  /** Deepest array/object nesting of a request or an event (checked before any parsing). */
  maxJsonDepth: MAX_JSON_DEPTH,
  /** Largest single event as JSON text (a landing line, a stream record). */
  maxEventBytes: 65_536,
} as const;

/**
 * A `recommendation_impression` (one recommendation response shown to a shopper) names the
 * response's `rec_id`, the items shown in order (`rec_items`, position = index + 1) and the
 * `model_version` that served them. Both extra fields are validated here and kept in
 * `attributes` in a canonical form — `rec_items` as the ids joined by ',' (ids cannot contain a
 * comma), `model_version` as the id — so the lake reads them with `split(attributes['rec_items'],
 * ',')` without a new column. During an A/B test the impression also names the test and the
 * arm (`ab_experiment`, `ab_arm`, from the response's `ab`), validated the same way.
 */
export const IMPRESSION_ATTRIBUTES = {
  items: 'rec_items',
  modelVersion: 'model_version',
  /** During an A/B test: the test's name and the shopper's arm (`A` | `B`), both or neither. */
  abExperiment: 'ab_experiment',
  abArm: 'ab_arm',
} as const;

/** Arms of an A/B test (A = control, B = treatment), as the recommendation response names them. */
export const AB_ARMS = ['A', 'B'] as const;

/**
 * Identifier charset for every id that ends up inside a storage key (DynamoDB single-table
 * keys, S3 paths): no `#`, `/`, whitespace or control characters, so ids cannot forge keys.
 */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\u2028\u2029]/;
// biome-ignore lint/suspicious/noControlCharactersInRegex: the point is to find control characters
const CONTROL_CHARS_STRICT = /[\u0000-\u001F\u007F\u2028\u2029]/;

/** ISO-8601 date-time with a zone designator (Z or ±hh:mm). */
const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

const id = z
  .string()
  .regex(ID_PATTERN, 'must be 1-64 characters of A-Za-z0-9._:-')
  .refine((s) => s !== '.' && s !== '..', 'must not be a relative path segment');

/** Short free text (category, referrer, utm…): no control characters. */
const label = (max = 200) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL_CHARS_STRICT.test(s), 'must not contain control characters');

/** Long free text (review text, search query): newlines and tabs allowed, other controls not. */
const text = (max: number) =>
  z
    .string()
    .max(max)
    .refine((s) => !CONTROL_CHARS.test(s), 'must not contain control characters');

/**
 * Prices are stored as `decimal(18,4)` in silver/gold: more than 4 decimal places cannot be
 * stored exactly, so they are refused (float noise such as 0.30000000000000004 is not "more").
 */
export function hasAtMostFourDecimals(p: number): boolean {
  const scaled = p * 10_000;
  return Math.abs(scaled - Math.round(scaled)) <= 1e-9 * Math.max(1, Math.abs(scaled));
}

const price = z
  .number()
  .finite()
  .min(0)
  .max(LIMITS.maxPrice)
  .refine(hasAtMostFourDecimals, 'must have at most 4 decimal places');
const quantity = z.int().min(1).max(LIMITS.maxQuantity);

export const PurchaseLineSchema = z.strictObject({
  product_id: id,
  quantity: quantity.default(1),
  price,
  category: label().optional(),
});
export type PurchaseLine = z.infer<typeof PurchaseLineSchema>;

/**
 * The known fields of an event as they travel on the wire. Unknown fields are not part of
 * this object: `parseEvent` moves them to `attributes` before validation.
 */
export const WireEventSchema = z.strictObject({
  event_id: id,
  event_type: z.enum(EVENT_TYPES),
  event_time: z.string().regex(ISO_WITH_ZONE, 'must be ISO-8601 with a zone, e.g. 2026-11-21T10:00:00Z'),
  session_id: id,
  user_id: id.nullish(),
  product_id: id.nullish(),
  category: label().nullish(),
  price: price.nullish(),
  quantity: quantity.nullish(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code')
    .nullish(),
  order_id: id.nullish(),
  /** Extension of v1 for order feeds that carry cancellations (e.g. the UCI data set). */
  order_status: z.enum(['placed', 'cancelled']).nullish(),
  items: z.array(PurchaseLineSchema).min(1).max(LIMITS.maxPurchaseLines).nullish(),
  rating: z.int().min(1).max(5).nullish(),
  text: text(LIMITS.maxReviewTextChars).nullish(),
  query: text(LIMITS.maxFreeTextChars).nullish(),
  page_type: label(64).nullish(),
  referrer: label(LIMITS.maxFreeTextChars).nullish(),
  utm_source: label().nullish(),
  utm_medium: label().nullish(),
  utm_campaign: label().nullish(),
  discount_code: label(64).nullish(),
  device: label(64).nullish(),
  rec_id: id.nullish(),
});

export const KNOWN_FIELDS: ReadonlySet<string> = new Set(Object.keys(WireEventSchema.shape));

/** A validated, normalised event: what the stream consumer, the lake and the features use. */
export interface ShopEvent {
  schema_version: number;
  event_id: string;
  event_type: EventType;
  /** UTC, ISO-8601 with milliseconds (`2026-11-21T10:00:00.000Z`). */
  event_time: string;
  session_id: string;
  user_id: string | null;
  product_id: string | null;
  category: string | null;
  price: number | null;
  quantity: number;
  currency: string | null;
  order_id: string | null;
  order_status: 'placed' | 'cancelled' | null;
  items: PurchaseLine[] | null;
  rating: number | null;
  text: string | null;
  query: string | null;
  page_type: string | null;
  referrer: string | null;
  utm_source: string | null;
  utm_medium: string | null;
  utm_campaign: string | null;
  discount_code: string | null;
  device: string | null;
  rec_id: string | null;
  /** Unknown extra fields, JSON-encoded values: kept, never trusted. */
  attributes: Record<string, string>;
}

/** Machine-readable rejection reasons (stable: they key `rejected_by_reason`). */
export type RejectReason =
  | 'invalid_json'
  | 'not_an_object'
  | 'missing_field'
  | 'invalid_field'
  | 'unknown_event_type'
  | 'invalid_event_time'
  | 'future_event_time'
  | 'missing_product_id'
  | 'missing_order_id'
  | 'missing_purchase_lines'
  | 'ambiguous_purchase_lines'
  | 'missing_rating'
  | 'invalid_attributes'
  | 'event_too_large'
  | 'json_too_deep'
  | 'invalid_unicode';

export type ParseResult =
  | { ok: true; event: ShopEvent }
  | { ok: false; reason: RejectReason; detail: string; event_id?: string };

export interface ParseOptions {
  /** Clock for the future-skew check; defaults to `Date.now`. */
  now?: () => number;
}

const ATTRIBUTE_KEY = /^[A-Za-z0-9_.:-]{1,64}$/;
const MIN_EVENT_TIME_MS = Date.parse(LIMITS.minEventTime);

/** A JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function reject(reason: RejectReason, detail: string, raw?: Record<string, unknown>): ParseResult {
  const eventId = raw?.event_id;
  return typeof eventId === 'string' && ID_PATTERN.test(eventId) && eventId !== '.' && eventId !== '..'
    ? { ok: false, reason, detail, event_id: eventId }
    : { ok: false, reason, detail };
}

/** Maps the first zod issue to a stable reason and a human-readable detail. */
function reasonFromIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): ParseResult {
  const field = issue.path.map(String).join('.') || '(event)';
  const top = String(issue.path[0] ?? '');
  // A required top-level field that is absent (zod reports enums as invalid_value, not invalid_type).
  if (issue.path.length === 1 && raw[top] === undefined) {
    return reject('missing_field', `${field} is required`, raw);
  }
  if (top === 'event_type') {
    return reject('unknown_event_type', `event_type must be one of ${EVENT_TYPES.join(', ')}`, raw);
  }
  if (top === 'event_time') return reject('invalid_event_time', `${field} ${issue.message}`, raw);
  return reject('invalid_field', `${field}: ${issue.message}`, raw);
}

function splitAttributes(
  raw: Record<string, unknown>,
): { known: Record<string, unknown>; attributes: Record<string, string> } | ParseResult {
  const known: Record<string, unknown> = {};
  const attributes: Record<string, string> = {};
  let bytes = 0;
  let count = 0;
  for (const [key, value] of Object.entries(raw)) {
    if (KNOWN_FIELDS.has(key)) {
      known[key] = value;
      continue;
    }
    if (key === 'attributes' && isPlainObject(value)) {
      // A client re-sending a normalised event: its attributes stay attributes.
      for (const [k, v] of Object.entries(value)) {
        const r = addAttribute(k, typeof v === 'string' ? v : JSON.stringify(v));
        if (r) return r;
      }
      continue;
    }
    if (key === 'schema_version') continue;
    const r = addAttribute(key, JSON.stringify(value));
    if (r) return r;
  }
  return { known, attributes };

  function addAttribute(key: string, encoded: string | undefined): ParseResult | undefined {
    if (!ATTRIBUTE_KEY.test(key)) {
      return reject(
        'invalid_attributes',
        `extra field name ${JSON.stringify(key.slice(0, 80))} is not allowed`,
        raw,
      );
    }
    count += 1;
    bytes += key.length + (encoded?.length ?? 0);
    if (count > LIMITS.maxAttributes || bytes > LIMITS.maxAttributeBytes) {
      return reject(
        'invalid_attributes',
        `extra fields exceed ${LIMITS.maxAttributes} fields or ${LIMITS.maxAttributeBytes} bytes`,
        raw,
      );
    }
    attributes[key] = encoded ?? 'null';
    return undefined;
  }
}

/**
 * Validates and normalises one event as received (already JSON-decoded, or a raw string that
 * failed to decode upstream). Never throws for bad input.
 */
export function parseEvent(input: unknown, options: ParseOptions = {}): ParseResult {
  if (typeof input === 'string') {
    if (input.length > LIMITS.maxEventBytes || Buffer.byteLength(input, 'utf8') > LIMITS.maxEventBytes) {
      return reject('event_too_large', `event is larger than ${LIMITS.maxEventBytes} bytes`);
    }
    const problem = inspectJsonText(input, LIMITS.maxJsonDepth);
    if (problem) return reject(problem.reason, problem.detail);
    try {
      input = JSON.parse(input) as unknown;
    } catch {
      return reject('invalid_json', 'record is not valid JSON');
    }
  } else {
    // Already decoded by the caller: the same checks, bounded by the depth limit.
    const problem = inspectJsonValue(input, LIMITS.maxJsonDepth);
    if (problem) return reject(problem.reason, problem.detail, isPlainObject(input) ? input : undefined);
  }
  if (!isPlainObject(input)) return reject('not_an_object', 'an event must be a JSON object');
  const raw = input;

  const split = splitAttributes(raw);
  if ('ok' in split) return split;

  const parsed = WireEventSchema.safeParse(split.known);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return issue ? reasonFromIssue(issue, raw) : reject('invalid_field', 'invalid event', raw);
  }
  const e = parsed.data;

  const millis = Date.parse(e.event_time);
  if (!Number.isFinite(millis))
    return reject('invalid_event_time', 'event_time is not a real date-time', raw);
  const now = (options.now ?? Date.now)();
  if (millis > now + LIMITS.maxFutureSkewMs) {
    return reject('future_event_time', 'event_time is more than a day in the future', raw);
  }
  if (millis < MIN_EVENT_TIME_MS) {
    return reject('invalid_event_time', `event_time is before ${LIMITS.minEventTime}`, raw);
  }
  // Date.parse accepts 2026-02-31; a round trip of the date part catches impossible dates.
  if (!sameCalendarDate(e.event_time, millis)) {
    return reject('invalid_event_time', 'event_time is not a real calendar date', raw);
  }

  if (PRODUCT_EVENT_TYPES.has(e.event_type) && !e.product_id) {
    return reject('missing_product_id', `${e.event_type} requires product_id`, raw);
  }

  let items: PurchaseLine[] | null = null;
  if (e.event_type === 'purchase') {
    if (!e.order_id) return reject('missing_order_id', 'purchase requires order_id', raw);
    // A normalised single-line purchase carries both, consistently: re-validation must accept it.
    const sameSingleLine = e.items?.length === 1 && e.items[0]?.product_id === e.product_id;
    if (e.items && e.product_id && !sameSingleLine) {
      return reject('ambiguous_purchase_lines', 'purchase has both items and a top-level product_id', raw);
    }
    if (e.items) {
      items = e.items;
    } else if (e.product_id && e.price != null) {
      items = [
        {
          product_id: e.product_id,
          quantity: e.quantity ?? 1,
          price: e.price,
          category: e.category ?? undefined,
        },
      ];
    } else {
      return reject(
        'missing_purchase_lines',
        'purchase requires items or a top-level product_id and price',
        raw,
      );
    }
  } else if (e.items) {
    return reject('invalid_field', 'items is only allowed on purchase events', raw);
  }
  if (e.event_type === 'review' && e.rating == null) {
    return reject('missing_rating', 'review requires rating 1-5', raw);
  }
  if (e.event_type === 'recommendation_impression') {
    const r = impressionAttributes(e.rec_id ?? null, raw, split.attributes);
    if (r) return r;
  }

  const event: ShopEvent = {
    schema_version: SCHEMA_VERSION,
    event_id: e.event_id,
    event_type: e.event_type,
    event_time: new Date(millis).toISOString(),
    session_id: e.session_id,
    user_id: e.user_id ?? null,
    product_id: e.product_id ?? null,
    category: e.category ?? null,
    price: e.price ?? null,
    quantity: e.quantity ?? 1,
    currency: e.currency ?? null,
    order_id: e.order_id ?? null,
    order_status: e.event_type === 'purchase' ? (e.order_status ?? 'placed') : null,
    items: items?.map(stripUndefined) ?? null,
    rating: e.rating ?? null,
    text: e.text ?? null,
    query: e.query ?? null,
    page_type: e.page_type ?? null,
    referrer: e.referrer ?? null,
    utm_source: e.utm_source ?? null,
    utm_medium: e.utm_medium ?? null,
    utm_campaign: e.utm_campaign ?? null,
    discount_code: e.discount_code ?? null,
    device: e.device ?? null,
    rec_id: e.rec_id ?? null,
    attributes: split.attributes,
  };
  return { ok: true, event };
}

/**
 * Validates an impression's `rec_id`, `rec_items` and `model_version` and rewrites the two
 * attributes canonically (see `IMPRESSION_ATTRIBUTES`); a re-sent normalised event (canonical
 * attributes) validates the same way.
 */
function impressionAttributes(
  recId: string | null,
  raw: Record<string, unknown>,
  attributes: Record<string, string>,
): ParseResult | undefined {
  if (!recId) return reject('missing_field', 'recommendation_impression requires rec_id', raw);
  // Wire values arrive JSON-encoded; a re-sent normalised event carries the canonical text
  // (never starting with '[', '"', '{').
  const decode = (key: string): unknown => {
    const v = attributes[key];
    if (v === undefined) return undefined;
    if (/^["[{]/.test(v) || v === 'null') {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return undefined;
      }
    }
    return { canonical: v };
  };
  const rawItems = decode(IMPRESSION_ATTRIBUTES.items);
  const items = isPlainObject(rawItems) ? String(rawItems.canonical).split(',') : rawItems;
  if (!Array.isArray(items) || items.length === 0) {
    return reject(
      'missing_field',
      'recommendation_impression requires rec_items (the item ids shown, in order)',
      raw,
    );
  }
  if (items.length > LIMITS.maxImpressionItems) {
    return reject('invalid_field', `rec_items: at most ${LIMITS.maxImpressionItems} items`, raw);
  }
  for (const it of items) {
    if (typeof it !== 'string' || !ID_PATTERN.test(it)) {
      return reject('invalid_field', 'rec_items: every item must be 1-64 characters of A-Za-z0-9._:-', raw);
    }
  }
  if (new Set(items).size !== items.length) {
    return reject('invalid_field', 'rec_items: an item appears twice (positions must be distinct)', raw);
  }
  const fromRecId = modelVersionOf(recId);
  const rawVersion = decode(IMPRESSION_ATTRIBUTES.modelVersion);
  const version = isPlainObject(rawVersion) ? rawVersion.canonical : (rawVersion ?? fromRecId);
  if (typeof version !== 'string' || !ID_PATTERN.test(version)) {
    return reject('invalid_field', 'model_version must be 1-64 characters of A-Za-z0-9._:-', raw);
  }
  if (fromRecId !== undefined && version !== fromRecId) {
    return reject('invalid_field', `model_version ${version} does not match rec_id ${recId}`, raw);
  }
  const rawExperiment = decode(IMPRESSION_ATTRIBUTES.abExperiment);
  const rawArm = decode(IMPRESSION_ATTRIBUTES.abArm);
  const experiment = isPlainObject(rawExperiment) ? rawExperiment.canonical : rawExperiment;
  const arm = isPlainObject(rawArm) ? rawArm.canonical : rawArm;
  if ((experiment === undefined) !== (arm === undefined)) {
    return reject('invalid_field', 'ab_experiment and ab_arm go together (both or neither)', raw);
  }
  if (experiment !== undefined) {
    if (typeof experiment !== 'string' || !ID_PATTERN.test(experiment)) {
      return reject('invalid_field', 'ab_experiment must be 1-64 characters of A-Za-z0-9._:-', raw);
    }
    if (typeof arm !== 'string' || !(AB_ARMS as readonly string[]).includes(arm)) {
      return reject('invalid_field', `ab_arm must be one of ${AB_ARMS.join(', ')}`, raw);
    }
    attributes[IMPRESSION_ATTRIBUTES.abExperiment] = experiment;
    attributes[IMPRESSION_ATTRIBUTES.abArm] = arm;
  }
  attributes[IMPRESSION_ATTRIBUTES.items] = items.join(',');
  attributes[IMPRESSION_ATTRIBUTES.modelVersion] = version;
  return undefined;
}

/** Model version inside a recommendation id (`<version>:<12 hex>`), when it has that shape. */
function modelVersionOf(recId: string): string | undefined {
  const m = /^(.+):[0-9a-f]{12}$/.exec(recId);
  return m?.[1];
}

function stripUndefined(line: PurchaseLine): PurchaseLine {
  const out: PurchaseLine = { product_id: line.product_id, quantity: line.quantity, price: line.price };
  if (line.category !== undefined) out.category = line.category;
  return out;
}

function sameCalendarDate(iso: string, millis: number): boolean {
  const local = iso.slice(0, 10);
  const offset = iso.match(/(Z|[+-]\d{2}:?\d{2})$/)?.[1] ?? 'Z';
  let offsetMinutes = 0;
  if (offset !== 'Z') {
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  return new Date(millis + offsetMinutes * 60_000).toISOString().slice(0, 10) === local;
}

/** Revenue of a purchase event (sum of line quantity × price; 0 for other events). */
export function purchaseRevenue(event: ShopEvent): number {
  if (event.event_type !== 'purchase' || !event.items) return 0;
  let total = 0;
  for (const line of event.items) total += line.quantity * line.price;
  return Math.round(total * 100) / 100;
}

// ---------------------------------------------------------------------------------------------
// Derived contracts: JSON Schema for API Gateway, lake columns.
// ---------------------------------------------------------------------------------------------

/** JSON Schema (draft 4, what API Gateway models use) of one event on the wire. */
export function eventJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(WireEventSchema, {
    target: 'draft-4',
    unrepresentable: 'any',
    io: 'input',
  }) as Record<string, unknown>;
  // Unknown fields are allowed on the wire (they become attributes).
  schema.additionalProperties = true;
  delete schema.$schema;
  return schema;
}

/**
 * JSON Schema of the ingest request envelope. API Gateway validates only the envelope, so one
 * bad event does not fail the whole request: the handler answers per event.
 */
export function ingestRequestJsonSchema(): Record<string, unknown> {
  return {
    type: 'object',
    required: ['events'],
    properties: {
      events: {
        type: 'array',
        minItems: 1,
        maxItems: LIMITS.maxEventsPerRequest,
        items: {},
      },
    },
  };
}

/** Iceberg primitive or nested type, as the table catalog writes it. */
export type IcebergType =
  | 'string'
  | 'int'
  | 'long'
  | 'double'
  | 'boolean'
  | 'timestamptz'
  | 'date'
  | `decimal(${number},${number})`
  | { type: 'list'; element: IcebergType }
  | { type: 'map'; key: 'string'; value: 'string' }
  | { type: 'struct'; fields: { name: string; type: IcebergType; required: boolean }[] };

export interface EventColumn {
  name: string;
  type: IcebergType;
  required: boolean;
}

/**
 * The columns of a normalised event, derived from the zod schema (so adding a field to the
 * contract adds a lake column). Order is the schema's order; `event_time` is a timestamp.
 */
export function eventColumns(): EventColumn[] {
  const shape = WireEventSchema.shape;
  const columns: EventColumn[] = [{ name: 'schema_version', type: 'int', required: true }];
  for (const [name, field] of Object.entries(shape)) {
    const type = name === 'event_time' ? 'timestamptz' : icebergTypeOf(field as z.ZodType);
    columns.push({ name, type, required: !isOptional(field as z.ZodType) });
  }
  columns.push({
    name: 'attributes',
    type: { type: 'map', key: 'string', value: 'string' },
    required: false,
  });
  return columns;
}

function isOptional(schema: z.ZodType): boolean {
  const t = schema.def.type;
  return t === 'optional' || t === 'nullable' || t === 'default';
}

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema;
  for (;;) {
    const def = s.def as { type: string; innerType?: z.ZodType; in?: z.ZodType };
    if ((def.type === 'optional' || def.type === 'nullable' || def.type === 'default') && def.innerType) {
      s = def.innerType;
    } else if (def.type === 'pipe' && def.in) {
      s = def.in;
    } else {
      return s;
    }
  }
}

function icebergTypeOf(schema: z.ZodType): IcebergType {
  const s = unwrap(schema);
  const def = s.def as {
    type: string;
    format?: string;
    checks?: { _zod: { def: { format?: string } } }[];
    element?: z.ZodType;
    shape?: Record<string, z.ZodType>;
  };
  switch (def.type) {
    case 'string':
    case 'enum':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number': {
      const formats = [def.format, ...(def.checks ?? []).map((c) => c._zod.def.format)];
      return formats.some((f) => f === 'safeint' || f === 'int32') ? 'int' : 'double';
    }
    case 'array':
      if (!def.element) throw new Error('array without element type');
      return { type: 'list', element: icebergTypeOf(def.element) };
    case 'object':
      return {
        type: 'struct',
        fields: Object.entries(def.shape ?? {}).map(([name, f]) => ({
          name,
          type: icebergTypeOf(f),
          required: !isOptional(f),
        })),
      };
    default:
      throw new Error(`no Iceberg type for zod type ${def.type}`);
  }
}
