/**
 * Common vocabulary of the recommender: interactions, event-type weights and the one interface
 * every model implements. Training Lambdas, the offline evaluation CLI and the serving handler
 * all speak these types, so a new model (ALS, EASE, a sequential model) plugs in by implementing
 * `ModelFactory` and nothing else.
 */

/** Interaction kinds the models distinguish; anything else counts as a view. */
export type InteractionType = 'view' | 'cart' | 'purchase';

/** One shopper-item interaction: a product view, an add-to-cart or a purchased line. */
export interface Interaction {
  /** Shopper: the user id, or `session:<id>` for an anonymous session. */
  readonly user: string;
  readonly item: string;
  /** Epoch milliseconds. */
  readonly ts: number;
  readonly type: InteractionType;
  /** Session of the interaction when known (lake data); co-occurrence also counts sessions. */
  readonly session?: string;
  readonly category?: string;
}

/** Weight of each interaction type in co-occurrence and popularity (view < cart < purchase). */
export interface EventWeights {
  readonly view: number;
  readonly cart: number;
  readonly purchase: number;
}

/** @default view 1, cart 3, purchase 5 — tunable per training run. */
export const DEFAULT_EVENT_WEIGHTS: EventWeights = { view: 1, cart: 3, purchase: 5 };

/** An item with a score, best first in every list the recommender returns. */
export interface ScoredItem {
  readonly item: string;
  readonly score: number;
}

/** A shopper's recent interaction as a model sees it at scoring time (oldest → newest). */
export interface HistoryEntry {
  /** Index in the model's vocabulary. */
  readonly idx: number;
  readonly weight: number;
  readonly ts: number;
}

/**
 * Sparse score accumulator over a dense scratch array: models add evidence for candidate items
 * and the caller reads `values[idx]`. `touched` lists the non-zero entries so a reset costs
 * only what was written (one array per evaluation worker, not one Map per user).
 */
export class ScoreAccumulator {
  readonly values: Float64Array;
  readonly touched: number[] = [];
  private readonly seen: Uint8Array;

  constructor(size: number) {
    this.values = new Float64Array(size);
    this.seen = new Uint8Array(size);
  }

  add(idx: number, value: number): void {
    if (this.seen[idx] === 0) {
      this.seen[idx] = 1;
      this.touched.push(idx);
    }
    this.values[idx] = (this.values[idx] ?? 0) + value;
  }

  reset(): void {
    for (const idx of this.touched) {
      this.values[idx] = 0;
      this.seen[idx] = 0;
    }
    this.touched.length = 0;
  }
}

/** Item vocabulary shared by a fitted model and the data it was fitted on. */
export interface Vocabulary {
  readonly items: readonly string[];
  readonly index: ReadonlyMap<string, number>;
}

/**
 * A fitted model. Ranking is lexicographic: first the model's evidence (`scoreInto`), then
 * `prior` (time-decayed popularity), so items without evidence are still ordered sensibly and
 * ties are rare; remaining ties are broken by the caller (seeded random or pessimistic).
 */
export interface RecommenderModel {
  readonly name: string;
  readonly vocab: Vocabulary;
  /** Backfill order for items without evidence, indexed like `vocab.items`, in [0, 1]. */
  readonly prior: Float64Array;
  /**
   * Weight of the prior inside the score (`score = evidence + priorWeight × prior`), applied by
   * the rankers rather than added to every item, so scoring stays sparse. @default 0
   */
  readonly priorWeight?: number;
  /** Adds `scale ×` this model's evidence for the shopper's history into `acc`. */
  scoreInto(history: readonly HistoryEntry[], acc: ScoreAccumulator, scale?: number): void;
  /** Nearest neighbours of an item (empty when the model has none). */
  neighbours(idx: number): readonly Neighbour[];
  /**
   * True when `neighbours(idx)` is the model's own evidence for "the shopper just touched idx"
   * (a sequential model): the publication then serves it as the item's next-item list, so the
   * real-time blend at request time uses the model with a bounded, precomputed lookup.
   */
  readonly sequential?: boolean;
  /** Parameters the model was fitted with (for the registry). */
  readonly params: Readonly<Record<string, number | string>>;
}

export interface Neighbour {
  readonly idx: number;
  readonly score: number;
}

/** Builds a model from training interactions; `params` come from the validation tuning. */
export interface ModelFactory {
  readonly name: string;
  readonly description: string;
  /** Candidate parameter sets tried on the validation split (first = default). */
  readonly grid: readonly Readonly<Record<string, number>>[];
  fit(data: TrainingData, params: Readonly<Record<string, number>>): RecommenderModel;
}

/**
 * Interactions indexed for training: item vocabulary and, per shopper, the distinct items in
 * first-interaction order with their strongest event weight and last timestamp.
 */
export interface TrainingData {
  readonly vocab: Vocabulary;
  readonly weights: EventWeights;
  readonly shoppers: readonly ShopperHistory[];
  /** Latest timestamp in the data: "now" for time decay. */
  readonly now: number;
  readonly categories: ReadonlyMap<number, string>;
}

export interface ShopperHistory {
  readonly user: string;
  /** Item indices in time order (first interaction), distinct. */
  readonly items: Int32Array;
  /** Strongest event weight per item. */
  readonly weights: Float64Array;
  /** First-interaction timestamp per item (ordering). */
  readonly times: Float64Array;
  /** Last-interaction timestamp per item (recency for basket caps and decay). */
  readonly lastTimes: Float64Array;
}
