/**
 * Applying a batch of validated events to the real-time features, exactly once per shard even
 * when Lambda replays the batch (retry, retry-from-checkpoint, bisect):
 *
 *  1. dedup: `findDuplicates` checks the per-event markers; a marker written by this very
 *     record (same shard and sequence number) means a replay, which is re-applied (harmless,
 *     see below) rather than counted as a duplicate;
 *  2. windows: `applyWindowAggregates`, one conditional UpdateItem per window item whose
 *     condition `seq < first sequence number of the update` skips already-applied records;
 *  3. recent items: `applyRecentItems`, set-merge (idempotent); user lists with optimistic
 *     concurrency, session lists (single writer: one shard per session) batched 25 per request;
 *  4. markers: `writeDedupMarkers`, only after 2 and 3 succeeded.
 *
 * Why check-then-write dedup is race-free: the ingest API puts every event with
 * PartitionKey = session_id, and a duplicate is a re-send of the same event (same session), so
 * both copies land on the same shard and are processed serially by one consumer. Markers live
 * `DEDUP_TTL_DAYS` (default 7); older duplicates are removed by the lake's silver dedup.
 */
import type { ShopEvent } from '../event-schema.ts';
import {
  chunkContributions,
  DEFAULT_WINDOW_SLICES,
  type FeatureRecord,
  inSequenceOrder,
  planWindowUpdates,
  type SeqContribution,
  sumDeltas,
  type WindowItemPlan,
} from './aggregate.ts';
import { type FeatureKey, itemId, markerKey, sessionRecentKey, userRecentKey } from './feature-keys.ts';
import {
  mergeRecent,
  type RecentItem,
  recentExpiresAt,
  recentItemsOf,
  SESSION_RECENT_TTL_SECONDS,
  sameRecentItems,
  storedRecentItems,
  USER_RECENT_TTL_SECONDS,
} from './recent.ts';
import type { FeatureItem, FeatureStore } from './store.ts';

export const DEFAULT_DEDUP_TTL_DAYS = 7;
/** Re-reads after a conditional failure before giving up (the batch is then retried). */
export const MAX_CONDITIONAL_RETRIES = 10;
/** Concurrent write requests per batch (window items / recent-item lists are independent). */
export const WRITE_CONCURRENCY = 16;

export class ConcurrentUpdateError extends Error {
  constructor(readonly itemKey: FeatureKey) {
    super(`gave up on ${itemKey.pk} / ${itemKey.sk} after ${MAX_CONDITIONAL_RETRIES} conflicting writes`);
    this.name = 'ConcurrentUpdateError';
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; rejects with the first error. */
export async function mapLimit<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    for (;;) {
      const i = next;
      next += 1;
      const item = items[i];
      if (i >= items.length || item === undefined) return;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

// ---------------------------------------------------------------------------------------------
// 1. Dedup
// ---------------------------------------------------------------------------------------------

export interface DedupResult {
  /** First occurrences never seen before: apply and write markers. */
  readonly fresh: FeatureRecord[];
  /** Records whose marker they wrote themselves in an earlier attempt: re-apply, no marker. */
  readonly replayed: FeatureRecord[];
  /** Later copies within the batch, or copies of an event already applied by another record. */
  readonly duplicates: FeatureRecord[];
}

/** Classifies records against each other (first wins) and against stored markers. */
export async function findDuplicates(
  store: FeatureStore,
  records: readonly FeatureRecord[],
): Promise<DedupResult> {
  const firsts = new Map<string, FeatureRecord>();
  const duplicates: FeatureRecord[] = [];
  for (const r of inSequenceOrder(records)) {
    if (firsts.has(r.event.event_id)) duplicates.push(r);
    else firsts.set(r.event.event_id, r);
  }
  const markers = await store.batchGet([...firsts.keys()].map(markerKey));
  const markerByPk = new Map(markers.map((m) => [m.pk, m]));
  const fresh: FeatureRecord[] = [];
  const replayed: FeatureRecord[] = [];
  for (const r of firsts.values()) {
    const marker = markerByPk.get(markerKey(r.event.event_id).pk);
    if (!marker) fresh.push(r);
    else if (marker.shard === r.shardId && marker.seq === r.seq) replayed.push(r);
    else duplicates.push(r);
  }
  return { fresh, replayed, duplicates };
}

/** Writes markers for freshly applied events (BatchWriteItem, unprocessed items retried). */
export async function writeDedupMarkers(
  store: FeatureStore,
  records: readonly FeatureRecord[],
  options: { now: () => number; ttlDays?: number },
): Promise<void> {
  if (records.length === 0) return;
  const expiresAt = Math.floor(options.now() / 1000) + (options.ttlDays ?? DEFAULT_DEDUP_TTL_DAYS) * 86_400;
  await store.batchPut(
    records.map((r) => ({
      ...markerKey(r.event.event_id),
      shard: r.shardId,
      seq: r.seq,
      expires_at: expiresAt,
    })),
  );
}

// ---------------------------------------------------------------------------------------------
// 2. Window aggregates
// ---------------------------------------------------------------------------------------------

async function applyChunk(
  store: FeatureStore,
  plan: WindowItemPlan,
  chunk: SeqContribution[],
): Promise<void> {
  let pending = chunk;
  for (let attempt = 0; attempt < MAX_CONDITIONAL_RETRIES; attempt += 1) {
    const first = pending[0];
    const last = pending[pending.length - 1];
    if (!first || !last) return;
    const ok = await store.applyWindowUpdate(plan.key, {
      add: sumDeltas(pending),
      firstSeq: first.seq,
      lastSeq: last.seq,
      expiresAt: plan.expiresAt,
    });
    if (ok) return;
    // A replay: keep only what the item has not seen yet, and try again.
    const stored = await store.get(plan.key);
    const storedSeq = typeof stored?.seq === 'string' ? stored.seq : undefined;
    pending = storedSeq === undefined ? pending : pending.filter((c) => c.seq > storedSeq);
  }
  throw new ConcurrentUpdateError(plan.key);
}

/**
 * One conditional UpdateItem per window item (window × bucket × shard) per batch — a busy
 * product costs one counter in one write, not one write per event.
 */
export async function applyWindowAggregates(
  store: FeatureStore,
  records: readonly FeatureRecord[],
  slices: number = DEFAULT_WINDOW_SLICES,
): Promise<void> {
  const plans = planWindowUpdates(records, slices);
  await mapLimit(plans, WRITE_CONCURRENCY, async (plan) => {
    for (const chunk of chunkContributions(plan.contributions)) await applyChunk(store, plan, chunk);
  });
}

// ---------------------------------------------------------------------------------------------
// 3. Recent items per user and session, with stitching of anonymous sessions
// ---------------------------------------------------------------------------------------------

interface ListPlan {
  readonly key: FeatureKey;
  readonly kind: 'user' | 'session';
  /** Items this batch adds (for a user: own events plus its linked sessions' lists). */
  incoming: RecentItem[];
  /** For sessions: the user the session belongs to, once known. */
  userId: string | null;
}

function mergeList(
  plan: ListPlan,
  stored: FeatureItem | undefined,
  cap: number,
): { item: FeatureItem; expected: number | null } | null {
  const before = storedRecentItems(stored?.items);
  const items = mergeRecent(before, plan.incoming, cap);
  const storedUser = typeof stored?.user_id === 'string' ? stored.user_id : null;
  const userId = plan.kind === 'session' ? (storedUser ?? plan.userId) : null;
  const changed = !stored || !sameRecentItems(before, items) || userId !== storedUser;
  if (!changed) return null;
  // A session link without any item is not stored: its TTL would depend on batch boundaries,
  // and the link is written with the session's first item anyway.
  if (items.length === 0) return null;
  const version = typeof stored?.version === 'number' ? stored.version : null;
  const ttl = plan.kind === 'user' ? USER_RECENT_TTL_SECONDS : SESSION_RECENT_TTL_SECONDS;
  const item: FeatureItem = { pk: plan.key.pk, sk: plan.key.sk, items, version: (version ?? 0) + 1 };
  if (userId !== null) item.user_id = userId;
  const expiresAt = recentExpiresAt(items, ttl);
  if (expiresAt !== undefined) item.expires_at = expiresAt;
  return { item, expected: stored ? version : null };
}

async function writeList(store: FeatureStore, plan: ListPlan, stored: FeatureItem | undefined, cap: number) {
  let current = stored;
  for (let attempt = 0; attempt < MAX_CONDITIONAL_RETRIES; attempt += 1) {
    const next = mergeList(plan, current, cap);
    if (!next) return;
    if (await store.putIfVersion(next.item, next.expected)) return;
    current = await store.get(plan.key);
  }
  throw new ConcurrentUpdateError(plan.key);
}

/**
 * Updates the recent-items lists of every session and user the batch touched. A session item
 * remembers its user once an event of the session names one; from then on the session's list
 * is merged into the user's list (stitching anonymous browsing to the logged-in user).
 */
export async function applyRecentItems(
  store: FeatureStore,
  records: readonly FeatureRecord[],
  cap: number,
): Promise<void> {
  const sessions = new Map<string, ListPlan & { sessionId: string }>();
  const users = new Map<string, ListPlan>();
  const userPlan = (userId: string): ListPlan => {
    let p = users.get(userId);
    if (!p) {
      p = { key: userRecentKey(userId), kind: 'user', incoming: [], userId: null };
      users.set(userId, p);
    }
    return p;
  };
  for (const { event } of inSequenceOrder(records)) {
    const items = recentItemsOf(event);
    let s = sessions.get(event.session_id);
    if (!s) {
      s = {
        key: sessionRecentKey(event.session_id),
        kind: 'session',
        incoming: [],
        userId: null,
        sessionId: event.session_id,
      };
      sessions.set(event.session_id, s);
    }
    s.incoming.push(...items);
    if (event.user_id) {
      s.userId ??= event.user_id;
      userPlan(event.user_id).incoming.push(...items);
    }
  }
  // Sessions with nothing to record and no user to link need no read and no write.
  const activeSessions = [...sessions.values()].filter((s) => s.incoming.length > 0 || s.userId !== null);

  const storedById = new Map<string, FeatureItem>();
  const load = async (keys: FeatureKey[]) => {
    const missing = keys.filter((k) => !storedById.has(itemId(k)));
    for (const item of await store.batchGet(missing)) storedById.set(itemId(item), item);
  };
  await load([...activeSessions.map((s) => s.key), ...[...users.values()].map((u) => u.key)]);

  // Resolve each session's user (stored link wins), then stitch its merged list into the user.
  const linked: { session: ListPlan; userId: string; merged: RecentItem[] }[] = [];
  for (const s of activeSessions) {
    const stored = storedById.get(itemId(s.key));
    const storedUser = typeof stored?.user_id === 'string' ? stored.user_id : null;
    const userId = storedUser ?? s.userId;
    if (userId !== null) {
      linked.push({
        session: s,
        userId,
        merged: mergeRecent(storedRecentItems(stored?.items), s.incoming, cap),
      });
      userPlan(userId);
    }
  }
  await load([...users.values()].map((u) => u.key));
  for (const l of linked) userPlan(l.userId).incoming.push(...l.merged);

  // Users: several sessions of one user can be on different shards at once, so their lists
  // are written with optimistic concurrency (conditional put per user).
  const userPlans = [...users.values()].filter((u) => u.incoming.length > 0);
  await mapLimit(userPlans, WRITE_CONCURRENCY, (p) =>
    writeList(store, p, storedById.get(itemId(p.key)), cap),
  );
  // Sessions: every event of a session has PartitionKey = session_id, so one shard — one
  // consumer at a time, even with a parallelization factor > 1 (Lambda keeps per-key order) —
  // writes a session's list. No condition is needed, and the lists go 25 to a BatchWriteItem
  // instead of one PutItem each. A replay re-merges by event_id, so it stays idempotent.
  const sessionItems: FeatureItem[] = [];
  for (const p of activeSessions) {
    const next = mergeList(p, storedById.get(itemId(p.key)), cap);
    if (next) sessionItems.push(next.item);
  }
  await store.batchPut(sessionItems);
}

/** Convenience for callers holding plain events (tests, benchmarks): shard and sequence given. */
export function toFeatureRecord(event: ShopEvent, shardId: string, seq: string): FeatureRecord {
  return { event, shardId, seq };
}
