/**
 * In-memory FeatureStore with the same semantics as the DynamoDB table (conditions, ADD,
 * consistent reads, request counting). Used by unit tests and the "logic alone" benchmark.
 */
import { type FeatureKey, itemId } from './feature-keys.ts';
import {
  DYNAMO_LIMITS,
  type FeatureItem,
  type FeatureStore,
  newStats,
  type StoreStats,
  type WindowUpdate,
} from './store.ts';

export type WriteOperation = 'UpdateItem' | 'PutItem' | 'BatchWriteItem';

export interface MemoryFeatureStoreOptions {
  /**
   * Fault-injection hook, called before every write request with its operation and its
   * 1-based number; throwing from it fails that request without applying it.
   */
  readonly beforeWrite?: (operation: WriteOperation, requestNumber: number) => void;
}

/** Deep copy of JSON-like data (much cheaper than structuredClone for the hot path). */
function copy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copy);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = copy(v);
    return out;
  }
  return value;
}

function clone(item: FeatureItem): FeatureItem {
  const out: FeatureItem = { pk: item.pk, sk: item.sk };
  for (const [k, v] of Object.entries(item)) out[k] = copy(v);
  return out;
}

export class MemoryFeatureStore implements FeatureStore {
  readonly stats: StoreStats = newStats();
  private readonly items = new Map<string, FeatureItem>();

  constructor(private readonly options: MemoryFeatureStoreOptions = {}) {}

  private write(operation: WriteOperation): void {
    this.stats.writeRequests += 1;
    this.options.beforeWrite?.(operation, this.stats.writeRequests);
  }

  async batchGet(keys: readonly FeatureKey[]): Promise<FeatureItem[]> {
    const out: FeatureItem[] = [];
    for (let i = 0; i < keys.length; i += DYNAMO_LIMITS.batchGetKeys) {
      this.stats.readRequests += 1;
      for (const k of keys.slice(i, i + DYNAMO_LIMITS.batchGetKeys)) {
        const item = this.items.get(itemId(k));
        if (item) out.push(clone(item));
      }
    }
    return out;
  }

  async get(key: FeatureKey): Promise<FeatureItem | undefined> {
    this.stats.readRequests += 1;
    const item = this.items.get(itemId(key));
    return item ? clone(item) : undefined;
  }

  async queryPartition(pk: string): Promise<FeatureItem[]> {
    this.stats.readRequests += 1;
    return [...this.items.values()]
      .filter((i) => i.pk === pk)
      .sort((a, b) => (a.sk < b.sk ? -1 : a.sk > b.sk ? 1 : 0))
      .map(clone);
  }

  async scanAll(): Promise<FeatureItem[]> {
    this.stats.readRequests += 1;
    return [...this.items.values()].map(clone);
  }

  async applyWindowUpdate(key: FeatureKey, update: WindowUpdate): Promise<boolean> {
    this.write('UpdateItem');
    const id = itemId(key);
    const current = this.items.get(id);
    const storedSeq = current?.seq;
    if (typeof storedSeq === 'string' && !(storedSeq < update.firstSeq)) {
      this.stats.conditionalFailures += 1;
      return false;
    }
    // Mutated in place: nothing outside holds a reference (reads return copies).
    const next: FeatureItem = current ?? { pk: key.pk, sk: key.sk };
    for (const [name, delta] of update.add) {
      const before = next[name];
      next[name] = (typeof before === 'number' ? before : 0) + delta;
    }
    next.seq = update.lastSeq;
    next.expires_at = update.expiresAt;
    this.items.set(id, next);
    return true;
  }

  async putIfVersion(item: FeatureItem, expectedVersion: number | null): Promise<boolean> {
    this.write('PutItem');
    const id = itemId(item);
    const current = this.items.get(id);
    const ok = expectedVersion === null ? current === undefined : current?.version === expectedVersion;
    if (!ok) {
      this.stats.conditionalFailures += 1;
      return false;
    }
    this.items.set(id, clone(item));
    return true;
  }

  async batchPut(items: readonly FeatureItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += DYNAMO_LIMITS.batchWriteItems) {
      this.write('BatchWriteItem');
      for (const item of items.slice(i, i + DYNAMO_LIMITS.batchWriteItems)) {
        this.items.set(itemId(item), clone(item));
      }
    }
  }

  /** Number of items held (tests). */
  get size(): number {
    return this.items.size;
  }
}
