/**
 * What a trained model publishes: per-user top-N lists, per-item neighbour and next-item
 * lists, popular lists (overall and per category), as table items under one model version.
 * Built by the training Lambda; written by the publish Lambda in batches.
 */

import { ID_PATTERN } from '../event-schema.ts';
import { itemCfModel, priorOrder, sequenceModel, topK } from './models.ts';
import { itemListKey, popularKey, userListKey } from './store.ts';
import { type HistoryEntry, type RecommenderModel, ScoreAccumulator, type TrainingData } from './types.ts';

export interface PublicationOptions {
  /** @default 50 items per user list. */
  readonly userTopN?: number;
  /** @default 20 neighbours per item. */
  readonly similarK?: number;
  /** @default 10 next items per item. */
  readonly nextK?: number;
  /** @default 100 popular items overall and per category. */
  readonly popularN?: number;
  /** @default 200 purchased items remembered per user for `exclude_purchased`. */
  readonly purchasedCap?: number;
  /**
   * Neighbour lists computed elsewhere (the co-occurrence SQL on Athena), by item id, best
   * first; when given they replace the in-process item-to-item lists.
   */
  readonly similar?: ReadonlyMap<string, readonly { id: string; score: number }[]>;
}

export type PublishedItem = Record<string, unknown> & { pk: string; sk: string };

export interface Publication {
  readonly items: PublishedItem[];
  readonly counts: { users: number; items: number; popular: number; skipped: number };
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;

/**
 * Builds every item of a publication. `model` ranks the user lists (the tuned blend);
 * neighbour lists are the item-to-item cosine lists, next-item lists the transitions.
 * Shoppers that are anonymous sessions (`session:` prefix) and ids that cannot be keys are
 * skipped and counted.
 */
export function buildPublication(
  version: string,
  model: RecommenderModel,
  data: TrainingData,
  options: PublicationOptions = {},
): Publication {
  const userTopN = options.userTopN ?? 50;
  const similarK = options.similarK ?? 20;
  const nextK = options.nextK ?? 10;
  const popularN = options.popularN ?? 100;
  const purchasedCap = options.purchasedCap ?? 200;
  const names = data.vocab.items;
  const cat = (idx: number) => data.categories.get(idx) ?? '';
  const items: PublishedItem[] = [];
  let skipped = 0;
  const acc = new ScoreAccumulator(names.length);
  const order = priorOrder(model);
  let users = 0;
  for (const s of data.shoppers) {
    if (s.user.startsWith('session:') || !ID_PATTERN.test(s.user)) {
      skipped++;
      continue;
    }
    const history: HistoryEntry[] = Array.from(s.items, (idx, i) => ({
      idx,
      weight: s.weights[i] ?? 1,
      ts: s.lastTimes[i] ?? 0,
    }));
    const recs = topK(model, history, userTopN, new Set(s.items), acc, order);
    const purchased: string[] = [];
    for (let i = s.items.length - 1; i >= 0 && purchased.length < purchasedCap; i--) {
      if ((s.weights[i] ?? 0) >= data.weights.purchase) purchased.push(names[s.items[i] ?? 0] ?? '');
    }
    items.push({
      ...userListKey(version, s.user),
      ids: recs.map((r) => r.item),
      scores: recs.map((r) => round(r.score)),
      cats: recs.map((r) => cat(data.vocab.index.get(r.item) ?? -1)),
      purchased,
    });
    users++;
  }
  const cf = itemCfModel.fit(data, { minPairs: Number(model.params.minPairs ?? 2) });
  const seq = sequenceModel.fit(data, { window: 3 });
  let itemCount = 0;
  for (let idx = 0; idx < names.length; idx++) {
    const id = names[idx] ?? '';
    if (!ID_PATTERN.test(id)) {
      skipped++;
      continue;
    }
    const external = options.similar?.get(id);
    const similar = external
      ? external
          .slice(0, similarK)
          .map((n) => ({ id: n.id, score: n.score, cat: cat(data.vocab.index.get(n.id) ?? -1) }))
      : cf
          .neighbours(idx)
          .slice(0, similarK)
          .map((n) => ({ id: names[n.idx] ?? '', score: n.score, cat: cat(n.idx) }));
    // A sequential winner publishes its own per-item evidence as the next-item list.
    const next = (model.sequential ? model.neighbours(idx) : seq.neighbours(idx)).slice(0, nextK);
    items.push({
      ...itemListKey(version, id),
      category: cat(idx),
      ids: similar.map((n) => n.id),
      scores: similar.map((n) => round(n.score)),
      cats: similar.map((n) => n.cat),
      next_ids: next.map((n) => names[n.idx] ?? ''),
      next_scores: next.map((n) => round(n.score)),
    });
    itemCount++;
  }
  const popular = (filter: (idx: number) => boolean) => {
    const picked = order.filter(
      (i) => filter(i) && (model.prior[i] ?? 0) > 0 && ID_PATTERN.test(names[i] ?? ''),
    );
    const top = picked.slice(0, popularN);
    return {
      ids: top.map((i) => names[i] ?? ''),
      scores: top.map((i) => round(model.prior[i] ?? 0)),
      cats: top.map(cat),
    };
  };
  items.push({ ...popularKey(version), ...popular(() => true) });
  const categories = new Set(data.categories.values());
  for (const c of categories) items.push({ ...popularKey(version, c), ...popular((i) => cat(i) === c) });
  return { items, counts: { users, items: itemCount, popular: 1 + categories.size, skipped } };
}
