/**
 * FeatureStore: the port between the real-time feature logic and DynamoDB. The operations are
 * the few the logic needs, each with DynamoDB semantics (conditions included), so the in-memory
 * implementation behaves like the table and unit tests / the "logic alone" benchmark exercise
 * the same code paths as production.
 */
import type { FeatureKey } from './feature-keys.ts';

/** An item of the features table: key plus attributes (numbers, strings, lists, maps). */
export interface FeatureItem {
  pk: string;
  sk: string;
  [attribute: string]: unknown;
}

/** One conditional ADD on a window-counter item (one DynamoDB UpdateItem). */
export interface WindowUpdate {
  /** Counter deltas: attribute name → amount to ADD. */
  readonly add: ReadonlyMap<string, number>;
  /** Padded sequence number of the first record in this update: applies only if `seq < first`. */
  readonly firstSeq: string;
  /** Padded sequence number of the last record in this update: stored as the new `seq`. */
  readonly lastSeq: string;
  /** Epoch seconds for TTL. */
  readonly expiresAt: number;
}

/** Request counters, so benchmarks can report DynamoDB write requests per 1,000 events. */
export interface StoreStats {
  /** PutItem + UpdateItem + BatchWriteItem calls (each BatchWriteItem call, retries included, is one). */
  writeRequests: number;
  /** GetItem + BatchGetItem + Query + Scan calls. */
  readRequests: number;
  /** Conditional writes rejected by their condition (replays, concurrent writers). */
  conditionalFailures: number;
}

export interface FeatureReader {
  /** Strongly consistent multi-get; missing items are absent from the result. */
  batchGet(keys: readonly FeatureKey[]): Promise<FeatureItem[]>;
  /** Strongly consistent single get. */
  get(key: FeatureKey): Promise<FeatureItem | undefined>;
  /** All items of one partition (e.g. every shard's item of one trending bucket). */
  queryPartition(pk: string): Promise<FeatureItem[]>;
  /** Every item in the table. For tests and small local inspection only: it scans. */
  scanAll(): Promise<FeatureItem[]>;
}

export interface FeatureStore extends FeatureReader {
  readonly stats: StoreStats;
  /**
   * ADDs the counters and sets `seq = lastSeq`, `expires_at`, only if the item has no `seq` or
   * `seq < firstSeq`. Returns false when the condition fails (the records were applied before).
   */
  applyWindowUpdate(key: FeatureKey, update: WindowUpdate): Promise<boolean>;
  /**
   * Optimistic-concurrency put: writes `item` only if the stored item's `version` equals
   * `expectedVersion` (or, for null, no item exists). Returns false on a conflict.
   */
  putIfVersion(item: FeatureItem, expectedVersion: number | null): Promise<boolean>;
  /** Unconditional puts (dedup markers); retries unprocessed items until all are written or throws. */
  batchPut(items: readonly FeatureItem[]): Promise<void>;
}

export function newStats(): StoreStats {
  return { writeRequests: 0, readRequests: 0, conditionalFailures: 0 };
}

/** DynamoDB limits the logic and both implementations respect. */
export const DYNAMO_LIMITS = {
  batchGetKeys: 100,
  batchWriteItems: 25,
  /**
   * Counter attributes per UpdateItem: with base-36 placeholders (`#a7q :a7q, `) the update
   * expression stays below ~3.3 KB, under DynamoDB's 4 KB expression limit.
   */
  maxAddAttributesPerUpdate: 300,
} as const;
