/**
 * The recommendations table: published lists per model version, the model registry and the
 * active-version pointer, in one DynamoDB table (`RECOMMENDATIONS_TABLE`, pk/sk, TTL
 * `expires_at`). Layout (ids pass `safeId`, categories `encodeKeyText`):
 *
 * | pk                                   | sk              | attributes                                         |
 * |--------------------------------------|-----------------|----------------------------------------------------|
 * | `MODEL#<version>#USER#<userId>`      | `TOPK`          | ids[], scores[], cats[], purchased[]               |
 * | `MODEL#<version>#ITEM#<itemId>`      | `SIMILAR`       | ids[], scores[], cats[] (neighbours), next_ids[], next_scores[], category |
 * | `MODEL#<version>#POPULAR`            | `ALL` / `CAT#<encoded category>` | ids[], scores[], cats[]           |
 * | `REGISTRY`                           | `MODEL#<version>` | status, params, metrics, snapshots, timestamps   |
 * | `REGISTRY`                           | `ACTIVE`        | version, previous, activated_at, experiment?, last_experiment? |
 *
 * A user's or item's lists live in their own partition, so reads spread over partitions;
 * registry and pointer share one small partition read through a short in-process cache.
 * Publishing writes a new version's items next to the old ones, so switching the pointer is
 * one conditional write and rolling back needs no republish.
 *
 * An A/B test is a state of the pointer: `experiment` names a control and a treatment version
 * and the treatment's traffic share; `version` is then the control (what every reader that
 * knows nothing of experiments serves). Serving assigns each shopper an arm with `ab.ts`.
 */

import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { LRUCache } from 'lru-cache';
import { batchPutChunk } from '../dynamo-batch.ts';
import { ID_PATTERN } from '../event-schema.ts';
import { encodeKeyText, key, safeId } from '../keys.ts';
import { type BackoffPolicy, type RetryDeps, retryPending } from '../retry.ts';
import { type AbSplit, validateSplit } from './ab.ts';

export const REGISTRY_PK = 'REGISTRY';
export const ACTIVE_SK = 'ACTIVE';
/** DynamoDB limits the batch helpers respect. */
export const BATCH_LIMITS = { write: 25, get: 100 } as const;

export const userListKey = (version: string, userId: string) => ({
  pk: key('MODEL', safeId('version', version), 'USER', safeId('userId', userId)),
  sk: 'TOPK',
});
export const itemListKey = (version: string, itemId: string) => ({
  pk: key('MODEL', safeId('version', version), 'ITEM', safeId('itemId', itemId)),
  sk: 'SIMILAR',
});
export const popularKey = (version: string, category?: string) => ({
  pk: key('MODEL', safeId('version', version), 'POPULAR'),
  sk: category === undefined ? 'ALL' : key('CAT', encodeKeyText(category)),
});
export const registryKey = (version: string) => ({
  pk: REGISTRY_PK,
  sk: key('MODEL', safeId('version', version)),
});
export const activeKey = () => ({ pk: REGISTRY_PK, sk: ACTIVE_SK });

/** A ranked list as stored: parallel arrays keep items small (no per-entry attribute names). */
export interface StoredList {
  readonly ids: string[];
  readonly scores: number[];
  /** Category per entry ('' when unknown), so category filters need no extra reads. */
  readonly cats: string[];
}

export interface UserListItem extends StoredList {
  /** Items the user purchased (for `exclude_purchased`), most recent first, capped. */
  readonly purchased: string[];
}

export interface ItemListItem extends StoredList {
  readonly category: string;
  readonly next_ids: string[];
  readonly next_scores: number[];
}

export type ModelStatus = 'candidate' | 'rejected' | 'published' | 'active' | 'retired';

export interface RegistryEntry {
  readonly version: string;
  readonly status: ModelStatus;
  readonly model: string;
  readonly params: Record<string, number | string>;
  readonly metrics: Record<string, Record<string, number>>;
  /** Iceberg snapshot ids of the training data, by table. */
  readonly snapshots: Record<string, string>;
  readonly trained_at: string;
  readonly interactions: number;
  readonly users: number;
  readonly items: number;
  readonly published_at?: string;
  readonly published_items?: number;
  readonly activated_at?: string;
  readonly gate?: { passed: boolean; reasons: string[] };
}

/** A running A/B test between two published versions (arm A = control, B = treatment). */
export interface AbExperiment {
  /** Experiment name: salt of the assignment hash and the lake's `ab_experiment`. */
  readonly name: string;
  readonly control: string;
  readonly treatment: string;
  /** Share of shoppers served the treatment, in [0, 1]. */
  readonly split: number;
  readonly started_at: string;
}

/** A finished experiment, kept on the pointer for `shoplake models ab status`. */
export interface FinishedExperiment extends AbExperiment {
  readonly stopped_at: string;
  readonly winner: string;
}

export interface ActivePointer {
  /** The version every reader serves; during an experiment, its control. */
  readonly version: string;
  readonly previous: string | null;
  readonly activated_at: string;
  readonly experiment?: AbExperiment;
  readonly last_experiment?: FinishedExperiment;
}

/** The assignment split (`ab.ts`) of an experiment. */
export function splitOf(e: AbExperiment): AbSplit {
  return { experiment: e.name, versionA: e.control, versionB: e.treatment, shareB: e.split };
}

/** Reads a stored experiment defensively: anything malformed is no experiment (control only). */
function toExperiment(v: unknown): AbExperiment | undefined {
  if (!isRecord(v)) return undefined;
  const { name, control, treatment, split, started_at } = v;
  if (typeof name !== 'string' || typeof control !== 'string' || typeof treatment !== 'string')
    return undefined;
  if (typeof split !== 'number' || !(split >= 0 && split <= 1) || control === treatment) return undefined;
  return { name, control, treatment, split, started_at: String(started_at ?? '') };
}

function toFinishedExperiment(v: unknown): FinishedExperiment | undefined {
  const e = toExperiment(v);
  if (!e || !isRecord(v) || typeof v.winner !== 'string') return undefined;
  return { ...e, stopped_at: String(v.stopped_at ?? ''), winner: v.winner };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'string') : []);
const numbers = (v: unknown): number[] => (Array.isArray(v) ? v.filter((x) => typeof x === 'number') : []);

/** Reads a stored list defensively: a malformed item degrades to an empty list, never a crash. */
export function toStoredList(item: Record<string, unknown> | undefined): StoredList {
  if (!item) return { ids: [], scores: [], cats: [] };
  const ids = strings(item.ids);
  const scores = numbers(item.scores);
  const cats = strings(item.cats);
  const n = Math.min(ids.length, scores.length);
  return {
    ids: ids.slice(0, n),
    scores: scores.slice(0, n),
    cats: ids.slice(0, n).map((_, i) => cats[i] ?? ''),
  };
}

export function toItemList(item: Record<string, unknown>): ItemListItem {
  const base = toStoredList(item);
  const nextIds = strings(item.next_ids);
  const nextScores = numbers(item.next_scores);
  const n = Math.min(nextIds.length, nextScores.length);
  return {
    ...base,
    category: typeof item.category === 'string' ? item.category : '',
    next_ids: nextIds.slice(0, n),
    next_scores: nextScores.slice(0, n),
  };
}

export function toRegistryEntry(item: Record<string, unknown>): RegistryEntry | undefined {
  if (typeof item.version !== 'string' || typeof item.status !== 'string') return undefined;
  return item as unknown as RegistryEntry;
}

/** `ab start` while one runs, `ab stop` with none, or a plain activation during a test. */
export class ExperimentStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ExperimentStateError';
  }
}

export class UnprocessedWritesError extends Error {
  constructor(readonly remaining: number) {
    super(`BatchWriteItem: ${remaining} items still unprocessed after retries`);
    this.name = 'UnprocessedWritesError';
  }
}

export class VersionNotPublishedError extends Error {
  constructor(
    readonly version: string,
    readonly status: string,
  ) {
    super(
      `model version ${version} cannot be activated: status is ${status}, expected published/active/retired`,
    );
    this.name = 'VersionNotPublishedError';
  }
}

export interface RecommendationStoreOptions {
  readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  readonly tableName: string;
  /** Attempts for unprocessed batch items. @default 8 */
  readonly maxBatchAttempts?: number;
  /** Concurrent BatchWriteItem calls while publishing. @default 8 */
  readonly writeConcurrency?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** How long the active pointer is cached in-process, ms. @default 5000 */
  readonly activeCacheMs?: number;
  /**
   * Entries of the in-process cache of a version's item and popular lists (0 = off). Those
   * lists never change once a version is published (a new training run is a new version), so
   * a cached entry — including "this item has no list" — cannot go stale; the cache only
   * saves reads of hot items. User lists are not cached (one read per user is the norm).
   * @default 0
   */
  readonly listCacheEntries?: number;
  readonly now?: () => number;
}

type Item = Record<string, unknown> & { pk: string; sk: string };

/**
 * Access to the recommendations table for the serving handler, the training Lambdas and the
 * CLI. Batch writes retry `UnprocessedItems` with jittered backoff and fail loudly if some are
 * still left: a model is never reported published when part of it is missing.
 */
export class RecommendationStore {
  readonly tableName: string;
  private readonly client: Pick<DynamoDBDocumentClient, 'send'>;
  private readonly maxBatchAttempts: number;
  private readonly writeConcurrency: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly activeCacheMs: number;
  private readonly now: () => number;
  private activeCache: { at: number; value: ActivePointer | undefined } | undefined;
  /** Item and popular lists by `pk|sk`; `{ list: undefined }` = no such list in that version. */
  private readonly listCache: LRUCache<string, { list: ItemListItem | StoredList | undefined }> | undefined;
  /** Requests made, and list reads answered from the cache, for benchmarks. */
  readonly stats = { reads: 0, writes: 0, retries: 0, cacheHits: 0 };

  constructor(options: RecommendationStoreOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.maxBatchAttempts = options.maxBatchAttempts ?? 8;
    this.writeConcurrency = options.writeConcurrency ?? 8;
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.activeCacheMs = options.activeCacheMs ?? 5_000;
    this.now = options.now ?? Date.now;
    const entries = options.listCacheEntries ?? 0;
    this.listCache = entries > 0 ? new LRUCache({ max: entries }) : undefined;
  }

  /** The cache entry of a list: `undefined` when not cached (or the cache is off). */
  private cached(k: { pk: string; sk: string }): { list: ItemListItem | StoredList | undefined } | undefined {
    const hit = this.listCache?.get(`${k.pk}|${k.sk}`);
    if (hit) this.stats.cacheHits++;
    return hit;
  }

  private remember(k: { pk: string; sk: string }, list: ItemListItem | StoredList | undefined): void {
    if (!this.listCache) return;
    // Shared between requests: frozen, so a caller that mutated one would fail loudly.
    if (list) for (const a of Object.values(list)) if (Array.isArray(a)) Object.freeze(a);
    this.listCache.set(`${k.pk}|${k.sk}`, { list: list && Object.freeze(list) });
  }

  /** One list, through the cache: read and converted on a miss, remembered even when absent. */
  private async cachedList<T extends ItemListItem | StoredList>(
    k: { pk: string; sk: string },
    convert: (item: Record<string, unknown>) => T,
  ): Promise<T | undefined> {
    const hit = this.cached(k);
    if (hit) return hit.list as T | undefined; // a key holds one kind of list
    const item = await this.get(k);
    const list = item ? convert(item) : undefined;
    this.remember(k, list);
    return list;
  }

  private async get(
    k: { pk: string; sk: string },
    consistent = false,
  ): Promise<Record<string, unknown> | undefined> {
    this.stats.reads++;
    const res = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: k, ConsistentRead: consistent }),
    );
    return isRecord(res.Item) ? res.Item : undefined;
  }

  /** The active model pointer (cached for `activeCacheMs`; `fresh` bypasses the cache). */
  async getActive(fresh = false): Promise<ActivePointer | undefined> {
    const t = this.now();
    if (!fresh && this.activeCache && t - this.activeCache.at < this.activeCacheMs)
      return this.activeCache.value;
    const item = await this.get(activeKey(), true);
    let value: ActivePointer | undefined;
    if (item && typeof item.version === 'string') {
      const experiment = toExperiment(item.experiment);
      const last = toFinishedExperiment(item.last_experiment);
      value = {
        version: item.version,
        previous: typeof item.previous === 'string' ? item.previous : null,
        activated_at: String(item.activated_at ?? ''),
        // An experiment whose control is not the pointer's version is malformed: control only.
        ...(experiment && experiment.control === item.version ? { experiment } : {}),
        ...(last ? { last_experiment: last } : {}),
      };
    }
    this.activeCache = { at: t, value };
    return value;
  }

  async getUserList(version: string, userId: string): Promise<UserListItem | undefined> {
    const item = await this.get(userListKey(version, userId));
    if (!item) return undefined;
    return { ...toStoredList(item), purchased: strings(item.purchased) };
  }

  getItemList(version: string, itemId: string): Promise<ItemListItem | undefined> {
    return this.cachedList(itemListKey(version, itemId), toItemList);
  }

  /** Item lists of several items (missing items are absent from the map). */
  async getItemLists(version: string, itemIds: readonly string[]): Promise<Map<string, ItemListItem>> {
    const out = new Map<string, ItemListItem>();
    const unique: string[] = [];
    for (const id of new Set(itemIds)) {
      const hit = this.cached(itemListKey(version, id));
      if (!hit) unique.push(id);
      else if (hit.list) out.set(id, hit.list as ItemListItem);
    }
    for (let i = 0; i < unique.length; i += BATCH_LIMITS.get) {
      const keys: Record<string, unknown>[] = unique
        .slice(i, i + BATCH_LIMITS.get)
        .map((id) => itemListKey(version, id));
      const { left } = await retryPending(
        keys,
        this.retryPolicy,
        async (pending) => {
          this.stats.reads++;
          const res = await this.client.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: [...pending] } } }),
          );
          for (const item of res.Responses?.[this.tableName] ?? []) {
            const pk = typeof item.pk === 'string' ? item.pk : '';
            const id = pk.slice(pk.lastIndexOf('#') + 1);
            out.set(id, toItemList(item));
          }
          return res.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
        },
        this.retryDeps,
      );
      if (left.length > 0) throw new UnprocessedWritesError(left.length);
    }
    if (this.listCache) for (const id of unique) this.remember(itemListKey(version, id), out.get(id));
    return out;
  }

  async getPopular(version: string, category?: string): Promise<StoredList> {
    return (await this.cachedList(popularKey(version, category), toStoredList)) ?? toStoredList(undefined);
  }

  /** Unprocessed batch items: jittered exponential backoff from 50 ms to 2 s (lambdas/shared/retry.ts). */
  private get retryPolicy(): BackoffPolicy {
    return { maxAttempts: this.maxBatchAttempts, baseMs: 50, capMs: 2_000 };
  }

  private get retryDeps(): RetryDeps {
    return {
      sleep: this.sleep,
      onRetry: () => {
        this.stats.retries++;
      },
    };
  }

  /**
   * Writes items in BatchWriteItem calls of 25, `writeConcurrency` at a time, retrying
   * `UnprocessedItems` with backoff; throws `UnprocessedWritesError` if any remain.
   */
  async putItems(items: readonly Item[]): Promise<number> {
    const batches: Item[][] = [];
    for (let i = 0; i < items.length; i += BATCH_LIMITS.write)
      batches.push(items.slice(i, i + BATCH_LIMITS.write));
    let next = 0;
    const worker = async () => {
      while (next < batches.length) {
        const batch = batches[next++] as Item[];
        await batchPutChunk({
          client: this.client,
          tableName: this.tableName,
          items: batch,
          policy: this.retryPolicy,
          retry: this.retryDeps,
          onRequest: () => {
            this.stats.writes++;
          },
          exhausted: (remaining) => new UnprocessedWritesError(remaining),
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.writeConcurrency, batches.length) }, worker));
    return items.length;
  }

  async putRegistryEntry(entry: RegistryEntry): Promise<void> {
    this.stats.writes++;
    await this.client.send(
      new PutCommand({ TableName: this.tableName, Item: { ...registryKey(entry.version), ...entry } }),
    );
  }

  async getRegistryEntry(version: string): Promise<RegistryEntry | undefined> {
    const item = await this.get(registryKey(version), true);
    return item ? toRegistryEntry(item) : undefined;
  }

  /** Every registered version, newest first (versions sort by time). */
  async listRegistry(): Promise<RegistryEntry[]> {
    const out: RegistryEntry[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      this.stats.reads++;
      const res = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :m)',
          ExpressionAttributeValues: { ':pk': REGISTRY_PK, ':m': 'MODEL#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of res.Items ?? []) {
        const e = toRegistryEntry(item);
        if (e) out.push(e);
      }
      start = res.LastEvaluatedKey;
    } while (start);
    return out.sort((a, b) => (a.version < b.version ? 1 : a.version > b.version ? -1 : 0));
  }

  /** The registry entry of `version` when it can serve (published, active or retired). */
  private async servable(version: string): Promise<RegistryEntry> {
    const entry = await this.getRegistryEntry(version);
    if (!entry || !['published', 'active', 'retired'].includes(entry.status)) {
      throw new VersionNotPublishedError(version, entry?.status ?? 'unknown');
    }
    return entry;
  }

  /**
   * Writes the pointer on the condition that the stored one still names `expect` (`null`: no
   * pointer, or one without an experiment when `noExperiment`), so two writers cannot both win.
   */
  private async putPointer(
    pointer: ActivePointer,
    expect: { version: string | null; noExperiment?: boolean; experiment?: string },
  ): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const conds: string[] = [];
    if (expect.version === null) conds.push('attribute_not_exists(pk)');
    else {
      names['#v'] = 'version';
      values[':v'] = expect.version;
      conds.push('#v = :v');
    }
    if (expect.noExperiment) {
      names['#e'] = 'experiment';
      conds.push('attribute_not_exists(#e)');
    }
    if (expect.experiment !== undefined) {
      names['#e'] = 'experiment';
      names['#n'] = 'name';
      values[':n'] = expect.experiment;
      conds.push('#e.#n = :n');
    }
    this.stats.writes++;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...activeKey(), ...pointer },
          ConditionExpression: conds.join(' AND '),
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    } catch (error: unknown) {
      if (error instanceof Error && error.name === 'ConditionalCheckFailedException') {
        throw new ExperimentStateError('the active-model pointer changed meanwhile; read it again and retry');
      }
      throw error;
    }
    this.activeCache = { at: this.now(), value: pointer };
  }

  /** Marks versions in the registry (absent ones are skipped). */
  private async setStatus(versions: readonly string[], status: ModelStatus, at?: string): Promise<void> {
    for (const v of new Set(versions)) {
      const e = await this.getRegistryEntry(v);
      if (e) await this.putRegistryEntry({ ...e, status, ...(at ? { activated_at: at } : {}) });
    }
  }

  /**
   * Points serving at `version` (which must be published). Records the previous version in the
   * pointer and the activation time in the registry; the old active version becomes `retired`
   * (still rollback-able: its lists stay in the table). Refused while an A/B test runs (stop it
   * first, naming the winner): an activation must not silently end an experiment.
   */
  async activate(version: string, at: string): Promise<ActivePointer> {
    const entry = await this.servable(version);
    const current = await this.getActive(true);
    if (current?.experiment) {
      throw new ExperimentStateError(
        `A/B test ${current.experiment.name} is running (${current.experiment.control} vs ${current.experiment.treatment}); stop it before activating ${version}`,
      );
    }
    const pointer: ActivePointer = {
      version,
      previous: current?.version ?? null,
      activated_at: at,
      ...(current?.last_experiment ? { last_experiment: current.last_experiment } : {}),
    };
    await this.putPointer(pointer, { version: current?.version ?? null, noExperiment: true });
    if (current && current.version !== version) await this.setStatus([current.version], 'retired');
    await this.putRegistryEntry({ ...entry, status: 'active', activated_at: at });
    return pointer;
  }

  /**
   * Starts an A/B test: both versions must be published; the pointer's version becomes the
   * control and `experiment` names the treatment and its traffic share. Refused while another
   * test runs. Both versions are `active` in the registry; a previously active third version
   * becomes `retired`.
   */
  async startExperiment(
    input: { name: string; control: string; treatment: string; split: number },
    at: string,
  ): Promise<ActivePointer> {
    if (!ID_PATTERN.test(input.name)) {
      throw new ExperimentStateError('experiment name must be 1-64 characters of A-Za-z0-9._:-');
    }
    validateSplit({
      experiment: input.name,
      versionA: input.control,
      versionB: input.treatment,
      shareB: input.split,
    });
    const control = await this.servable(input.control);
    await this.servable(input.treatment);
    const current = await this.getActive(true);
    if (current?.experiment) {
      throw new ExperimentStateError(`A/B test ${current.experiment.name} is already running; stop it first`);
    }
    const experiment: AbExperiment = { ...input, started_at: at };
    const pointer: ActivePointer = {
      version: input.control,
      previous: current?.version ?? null,
      activated_at: current?.version === input.control ? current.activated_at : at,
      experiment,
      ...(current?.last_experiment ? { last_experiment: current.last_experiment } : {}),
    };
    await this.putPointer(pointer, { version: current?.version ?? null, noExperiment: true });
    if (current && current.version !== input.control && current.version !== input.treatment) {
      await this.setStatus([current.version], 'retired');
    }
    if (current?.version !== input.control) {
      await this.putRegistryEntry({ ...control, status: 'active', activated_at: at });
    }
    await this.setStatus([input.treatment], 'active', at);
    return pointer;
  }

  /**
   * Stops the running A/B test: `winner` (default: the control) becomes the single active
   * version, the other is `retired`; the finished experiment stays on the pointer as
   * `last_experiment`.
   */
  async stopExperiment(at: string, winner?: string): Promise<ActivePointer> {
    const current = await this.getActive(true);
    const e = current?.experiment;
    if (!current || !e) throw new ExperimentStateError('no A/B test is running');
    const won = winner ?? e.control;
    if (won !== e.control && won !== e.treatment) {
      throw new ExperimentStateError(`winner must be ${e.control} (control) or ${e.treatment} (treatment)`);
    }
    const lost = won === e.control ? e.treatment : e.control;
    const pointer: ActivePointer = {
      version: won,
      previous: won === current.version ? current.previous : current.version,
      activated_at: won === current.version ? current.activated_at : at,
      last_experiment: { ...e, stopped_at: at, winner: won },
    };
    await this.putPointer(pointer, { version: current.version, experiment: e.name });
    await this.setStatus([lost], 'retired');
    if (won !== current.version) await this.setStatus([won], 'active', at);
    return pointer;
  }
}
