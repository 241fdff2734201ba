/**
 * Single-table keys and attribute names of the features table. Everything built from user
 * input goes through `key()`, `safeId()` and `encodeKeyText()` (keys.ts), so no id or category
 * can forge another item's key or another counter's attribute name.
 *
 * | item                    | pk                             | sk            |
 * |-------------------------|--------------------------------|---------------|
 * | dedup marker            | `EVENT#<event_id>`             | `EVENT`       |
 * | window counters         | `TREND#<5m|1h>#<bucket ISO>`   | `SHARD#<id>[#<slice>]` |
 * | recent items of a user  | `USER#<user_id>`               | `RECENT`      |
 * | recent items of session | `SESSION#<session_id>`         | `RECENT`      |
 */
import { encodeKeyText, key, safeId } from '../keys.ts';
import type { WindowName } from './windows.ts';

export interface FeatureKey {
  readonly pk: string;
  readonly sk: string;
}

export const MARKER_SK = 'EVENT';
export const RECENT_SK = 'RECENT';

export function markerKey(eventId: string): FeatureKey {
  return { pk: key('EVENT', safeId('event_id', eventId)), sk: MARKER_SK };
}

export function windowPk(window: WindowName, bucketStartMs: number): string {
  return key('TREND', window, new Date(bucketStartMs).toISOString());
}

/**
 * Shard ids come from the event source, not from users; they are still encoded, never trusted.
 * Slice 0 (always present) is `SHARD#<id>`; further slices of product counters `SHARD#<id>#<n>`.
 */
export function windowKey(window: WindowName, bucketStartMs: number, shardId: string, slice = 0): FeatureKey {
  const sk =
    slice === 0 ? key('SHARD', encodeKeyText(shardId)) : key('SHARD', encodeKeyText(shardId), String(slice));
  return { pk: windowPk(window, bucketStartMs), sk };
}

export function userRecentKey(userId: string): FeatureKey {
  return { pk: key('USER', safeId('user_id', userId)), sk: RECENT_SK };
}

export function sessionRecentKey(sessionId: string): FeatureKey {
  return { pk: key('SESSION', safeId('session_id', sessionId)), sk: RECENT_SK };
}

/** Map key of an item in in-memory structures. */
export function itemId(k: FeatureKey): string {
  return `${k.pk}\u0000${k.sk}`;
}

// Window counter attributes (top-level numbers, updated with ADD).
export const ATTR = {
  events: 'events',
  orders: 'orders',
  units: 'units',
  revenueCents: 'revenue_cents',
  cancelledOrders: 'cancelled_orders',
  cancelledRevenueCents: 'cancelled_revenue_cents',
  seq: 'seq',
  expiresAt: 'expires_at',
} as const;

/**
 * Category names repeat on almost every event; their encoding is memoised (bounded, so a flood
 * of distinct hostile names cannot grow memory without limit).
 */
const encodedCategories = new Map<string, string>();
const MAX_MEMOISED_CATEGORIES = 10_000;

function encodeCategory(category: string): string {
  let encoded = encodedCategories.get(category);
  if (encoded === undefined) {
    encoded = encodeKeyText(category);
    if (encodedCategories.size >= MAX_MEMOISED_CATEGORIES) encodedCategories.clear();
    encodedCategories.set(category, encoded);
  }
  return encoded;
}

/** Per-product interaction counter; the category (if known) is part of the name for filtering. */
export function productAttr(productId: string, category: string | null | undefined): string {
  const pid = safeId('product_id', productId);
  return category ? key('p', pid, encodeCategory(category)) : key('p', pid);
}

/** Parses a `p#…` attribute name back into product id and (encoded) category. */
export function parseProductAttr(name: string): { productId: string; encodedCategory: string | null } | null {
  const parts = name.split('#');
  if (parts[0] !== 'p' || !parts[1] || parts.length > 3) return null;
  return { productId: parts[1], encodedCategory: parts[2] ?? null };
}

export function categoryAttr(category: string): string {
  return key('c', encodeCategory(category));
}

export function eventTypeAttr(eventType: string): string {
  return key('e', eventType);
}

// ---------------------------------------------------------------------------------------------
// Kinesis sequence numbers: decimal strings of up to 128 digits. Left-padded to 128 characters
// they compare correctly as strings, both in JS and in a DynamoDB condition (`seq < :first`).
// ---------------------------------------------------------------------------------------------

export const SEQUENCE_WIDTH = 128;

export class InvalidSequenceNumberError extends Error {
  constructor(readonly value: string) {
    super(`invalid Kinesis sequence number ${JSON.stringify(value.slice(0, 140))}`);
    this.name = 'InvalidSequenceNumberError';
  }
}

export function padSequence(sequenceNumber: string): string {
  if (!/^\d{1,128}$/.test(sequenceNumber)) throw new InvalidSequenceNumberError(sequenceNumber);
  return sequenceNumber.padStart(SEQUENCE_WIDTH, '0');
}
