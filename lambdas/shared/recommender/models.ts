/**
 * The models. Each is a `ModelFactory` with the same interface; all are small and explainable:
 * a popularity prior, item-to-item neighbours (cosine or "more often than chance"), next-item
 * transitions, and a blend of them whose weights are tuned on the validation split.
 */
import { popularity, type SimilarityMeasure, topNeighbours, transitionNeighbours } from './cooccurrence.ts';
import { rankerModelFactory } from './ranker.ts';
import { mixSeed, seededRng } from './rng.ts';
import type {
  HistoryEntry,
  ModelFactory,
  Neighbour,
  RecommenderModel,
  ScoreAccumulator,
  ScoredItem,
  TrainingData,
} from './types.ts';
import { ScoreAccumulator as Accumulator } from './types.ts';

/** @default 30 days: half-life of the popularity prior that orders items without evidence. */
export const DEFAULT_PRIOR_HALF_LIFE_DAYS = 30;
/** @default 50 most recent history items considered at scoring time. */
export const DEFAULT_MAX_HISTORY = 50;

const memo = new WeakMap<TrainingData, Map<string, unknown>>();

/** Caches expensive per-data computations (neighbour lists) across a parameter grid. */
function cached<T>(data: TrainingData, key: string, compute: () => T): T {
  let m = memo.get(data);
  if (!m) {
    m = new Map();
    memo.set(data, m);
  }
  if (m.has(key)) return m.get(key) as T;
  const value = compute();
  m.set(key, value);
  return value;
}

function prior(data: TrainingData, halfLifeDays: number): Float64Array {
  return cached(data, `pop:${halfLifeDays}`, () => popularity(data, halfLifeDays));
}

const NO_NEIGHBOURS: readonly Neighbour[] = [];

/** Adds recency-decayed neighbour evidence: Σ_h w_h·decay^age(h)·sim(h, j). */
function addNeighbourEvidence(
  lists: readonly (readonly Neighbour[])[],
  history: readonly HistoryEntry[],
  acc: ScoreAccumulator,
  scale: number,
  decay: number,
  maxHistory: number,
): void {
  let r = 0;
  for (let h = history.length - 1; h >= 0 && r < maxHistory; h--, r++) {
    const e = history[h] as HistoryEntry;
    const w = scale * e.weight * decay ** r;
    const list = lists[e.idx];
    if (!list) continue;
    for (const n of list) acc.add(n.idx, w * n.score);
  }
}

/** Time-decayed popularity: the cold-start fallback and the baseline every model must beat. */
export const popularityModel: ModelFactory = {
  name: 'popularity',
  description: 'time-decayed popularity weighted by event type (cold start, baseline)',
  grid: [{ halfLifeDays: 30 }, { halfLifeDays: 0 }, { halfLifeDays: 7 }, { halfLifeDays: 90 }],
  fit(data, params) {
    const halfLifeDays = params.halfLifeDays ?? DEFAULT_PRIOR_HALF_LIFE_DAYS;
    return {
      name: 'popularity',
      vocab: data.vocab,
      prior: prior(data, halfLifeDays),
      params: { halfLifeDays },
      scoreInto() {},
      neighbours: () => NO_NEIGHBOURS,
    };
  },
};

/**
 * Cosine refinements tried on the validation split: the plain cosine first (the SQL's number),
 * then an asymmetric cosine with shrinkage, which damps neighbours that met an item in only a
 * basket or two (rare items get a cosine near 1 from a single shared basket).
 */
const COSINE_VARIANTS: readonly { alpha: number; shrinkage: number }[] = [
  { alpha: 0.5, shrinkage: 0 },
  { alpha: 0.7, shrinkage: 5 },
];

function itemToItem(name: string, measure: SimilarityMeasure, description: string): ModelFactory {
  const grid: Record<string, number>[] = [];
  const variants = measure === 'cosine' ? COSINE_VARIANTS : [{ alpha: 0.5, shrinkage: 0 }];
  for (const v of variants) {
    for (const minPairs of [2, 3]) {
      for (const popularityWeight of [0, 1]) {
        for (const historyDecay of [0.9, 1, 0.7]) {
          grid.push(
            measure === 'cosine'
              ? { minPairs, historyDecay, popularityWeight, ...v }
              : { minPairs, historyDecay, popularityWeight },
          );
        }
      }
    }
  }
  return {
    name,
    description,
    grid,
    fit(data, params) {
      const neighbours = params.neighbours ?? 50;
      const maxBasketItems = params.maxBasketItems ?? 100;
      const minPairs = params.minPairs ?? 2;
      const alpha = params.alpha ?? 0.5;
      const shrinkage = params.shrinkage ?? 0;
      const lists = cached(
        data,
        `${measure}:${neighbours}:${maxBasketItems}:${minPairs}:${alpha}:${shrinkage}`,
        () => topNeighbours(data, measure, { neighbours, maxBasketItems, minPairs, alpha, shrinkage }),
      );
      const decay = params.historyDecay ?? 0.9;
      const maxHistory = params.maxHistory ?? DEFAULT_MAX_HISTORY;
      const popularityWeight = params.popularityWeight ?? 0;
      const priorValues = prior(data, DEFAULT_PRIOR_HALF_LIFE_DAYS);
      return {
        name,
        vocab: data.vocab,
        prior: priorValues,
        priorWeight: popularityWeight,
        params: {
          measure,
          neighbours,
          maxBasketItems,
          minPairs,
          ...(measure === 'cosine' ? { alpha, shrinkage } : {}),
          historyDecay: decay,
          maxHistory,
          popularityWeight,
        },
        scoreInto(history, acc, scale = 1) {
          addNeighbourEvidence(lists, history, acc, scale, decay, maxHistory);
        },
        neighbours: (idx) => lists[idx] ?? NO_NEIGHBOURS,
      };
    },
  };
}

/** Item-to-item CF, cosine of event-weighted co-occurrence vectors (Linden et al. 2003). */
export const itemCfModel = itemToItem(
  'item-cf',
  'cosine',
  'item-to-item co-occurrence, cosine (Linden, Smith & York 2003)',
);

/** Item-to-item CF scored by how much more often than chance items co-occur (Smith & Linden 2017). */
export const itemCfChanceModel = itemToItem(
  'item-cf-chance',
  'chance',
  'item-to-item co-occurrence, "more often than chance" (Smith & Linden 2017)',
);

/** Next-item transitions aggregated over the shopper's most recent items with recency decay. */
export const sequenceModel: ModelFactory = {
  name: 'sequence',
  description: 'next-item transitions, recency-decayed over the most recent items',
  grid: [
    { window: 3, historyDecay: 0.5 },
    { window: 1, historyDecay: 0.5 },
    { window: 3, historyDecay: 0.8 },
    { window: 5, historyDecay: 0.3 },
  ],
  fit(data, params) {
    const window = params.window ?? 3;
    const lists = cached(data, `seq:${window}`, () => transitionNeighbours(data, { window }));
    const decay = params.historyDecay ?? 0.5;
    const maxHistory = params.maxHistory ?? 10;
    return {
      name: 'sequence',
      vocab: data.vocab,
      prior: prior(data, DEFAULT_PRIOR_HALF_LIFE_DAYS),
      params: { window, historyDecay: decay, maxHistory },
      scoreInto(history, acc, scale = 1) {
        addNeighbourEvidence(lists, history, acc, scale, decay, maxHistory);
      },
      neighbours: (idx) => lists[idx] ?? NO_NEIGHBOURS,
    };
  },
};

/**
 * The production model: item-to-item cosine evidence plus next-item transitions, weighted by
 * `sequenceWeight`, both recency-decayed; popularity orders the rest. Weights are tuned on the
 * validation split by the evaluation (never on test).
 */
export const blendModel: ModelFactory = {
  name: 'blend',
  description: 'item-to-item cosine + next-item transitions + popularity backfill (tuned weights)',
  grid: (() => {
    const grid: Record<string, number>[] = [];
    for (const minPairs of [2, 3])
      for (const popularityWeight of [0, 1])
        for (const sequenceWeight of [0.5, 0, 1]) grid.push({ minPairs, popularityWeight, sequenceWeight });
    return grid;
  })(),
  fit(data, params) {
    const cf = itemCfModel.fit(data, {
      historyDecay: params.historyDecay ?? 0.9,
      minPairs: params.minPairs ?? 2,
      popularityWeight: params.popularityWeight ?? 0,
    });
    const seq = sequenceModel.fit(data, { window: 3, historyDecay: 0.5 });
    const sequenceWeight = params.sequenceWeight ?? 0.5;
    return {
      name: 'blend',
      vocab: data.vocab,
      prior: cf.prior,
      priorWeight: cf.priorWeight ?? 0,
      params: { ...cf.params, sequenceWeight, sequenceWindow: 3 },
      scoreInto(history, acc, scale = 1) {
        cf.scoreInto(history, acc, scale);
        if (sequenceWeight > 0) seq.scoreInto(history, acc, scale * sequenceWeight);
      },
      neighbours: (idx) => cf.neighbours(idx),
    };
  },
};

/**
 * Seeded random scores: the floor every model must clear, and the deliberately broken model
 * the quality-gate tests feed the training pipeline.
 */
export const randomModel: ModelFactory = {
  name: 'random',
  description: 'seeded random scores (reference floor; a deliberately broken model)',
  grid: [{ seed: 1 }],
  fit(data, params) {
    const seed = params.seed ?? 1;
    const n = data.vocab.items.length;
    return {
      name: 'random',
      vocab: data.vocab,
      prior: new Float64Array(n),
      params: { seed },
      scoreInto(history, acc, scale = 1) {
        const last = history[history.length - 1];
        const rng = seededRng(mixSeed(seed, history.length * 7919 + (last?.idx ?? 0)));
        for (let i = 0; i < n; i++) acc.add(i, scale * (rng() + 1e-9));
      },
      neighbours: () => NO_NEIGHBOURS,
    };
  },
};

/** Every model, by name: `--model all` evaluates them side by side. */
export const MODELS: readonly ModelFactory[] = [
  randomModel,
  popularityModel,
  itemCfModel,
  itemCfChanceModel,
  sequenceModel,
  blendModel,
  rankerModelFactory,
];

export class UnknownModelError extends Error {
  constructor(name: string) {
    super(
      `unknown model ${JSON.stringify(name)}; expected one of ${MODELS.map((m) => m.name).join(', ')}, all`,
    );
    this.name = 'UnknownModelError';
  }
}

/** Looks model factories up by name: `all`, one name, or a comma-separated list. */
export function modelsByName(name: string): ModelFactory[] {
  if (name === 'all') return [...MODELS];
  return name.split(',').map((n) => {
    const m = MODELS.find((f) => f.name === n.trim());
    if (!m) throw new UnknownModelError(n);
    return m;
  });
}

/** An item's score: the model's evidence plus its popularity term (`priorWeight × prior`). */
export function scoreOf(model: RecommenderModel, acc: ScoreAccumulator, i: number): number {
  const w = model.priorWeight ?? 0;
  return (acc.values[i] ?? 0) + (w > 0 ? w * (model.prior[i] ?? 0) : 0);
}

/**
 * True when candidate `a` ranks above `b`: higher score first, then the prior, then the item
 * id (a deterministic order for published lists).
 */
export function ranksAbove(model: RecommenderModel, acc: ScoreAccumulator, a: number, b: number): boolean {
  const sa = scoreOf(model, acc, a);
  const sb = scoreOf(model, acc, b);
  if (sa !== sb) return sa > sb;
  const pa = model.prior[a] ?? 0;
  const pb = model.prior[b] ?? 0;
  if (pa !== pb) return pa > pb;
  return (model.vocab.items[a] ?? '') < (model.vocab.items[b] ?? '');
}

/**
 * Top-k items for a history, skipping `exclude` (indices). Candidates are the items with
 * evidence, topped up from the popularity order; `byPrior` is that order, cached by callers.
 */
export function topK(
  model: RecommenderModel,
  history: readonly HistoryEntry[],
  k: number,
  exclude: ReadonlySet<number>,
  acc: ScoreAccumulator = new Accumulator(model.vocab.items.length),
  byPrior: readonly number[] = priorOrder(model),
): ScoredItem[] {
  acc.reset();
  model.scoreInto(history, acc);
  // Partial selection: keep the best k in order (k is small; candidates can be many).
  const picked: number[] = [];
  const consider = (i: number) => {
    if (picked.length === k && !ranksAbove(model, acc, i, picked[k - 1] as number)) return;
    let at = picked.length === k ? k - 1 : picked.length;
    if (picked.length === k) picked.pop();
    while (at > 0 && ranksAbove(model, acc, i, picked[at - 1] as number)) at--;
    picked.splice(at, 0, i);
  };
  for (const i of acc.touched) {
    if (!exclude.has(i) && (acc.values[i] ?? 0) > 0) consider(i);
  }
  // Items without evidence score `priorWeight × prior`: walk them in prior order and stop as
  // soon as one cannot enter the list (all later ones score lower still).
  const have = new Set(picked);
  for (const i of byPrior) {
    if (have.has(i) || exclude.has(i) || (acc.values[i] ?? 0) > 0) continue;
    if (picked.length === k && !ranksAbove(model, acc, i, picked[k - 1] as number)) break;
    consider(i);
  }
  const out = picked.map((i) => ({
    item: model.vocab.items[i] ?? '',
    score: scoreOf(model, acc, i) + 1e-6 * (model.prior[i] ?? 0),
  }));
  acc.reset();
  return out;
}

/** Item indices by descending prior (then id): the popularity list. */
export function priorOrder(model: RecommenderModel): number[] {
  const idx = Array.from(model.prior.keys());
  const names = model.vocab.items;
  idx.sort((a, b) => {
    const d = (model.prior[b] ?? 0) - (model.prior[a] ?? 0);
    if (d !== 0) return d;
    return (names[a] ?? '') < (names[b] ?? '') ? -1 : 1;
  });
  return idx;
}
