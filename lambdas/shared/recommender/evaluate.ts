/**
 * Offline evaluation: the protocols of `shoplake evaluate`, also used by the training Lambda to
 * score a candidate model before the quality gate. Parameters are tuned on the validation
 * split only; the test split is touched once per model, with the chosen parameters.
 */
import { buildTrainingData, type DistinctEntry, historyVocabulary, shopperHistories } from './data.ts';
import {
  hitAt,
  MetricMeans,
  ndcgAt,
  ndcgListAt,
  rankWithTies,
  recallAt,
  reciprocalRank,
  type TieBreak,
} from './metrics.ts';
import { priorOrder, scoreOf, topK } from './models.ts';
import { mixSeed, type Rng, sampleWithoutReplacement, seededRng } from './rng.ts';
import { leaveOneOut, timeQuantile, timeSplit } from './split.ts';
import {
  DEFAULT_EVENT_WEIGHTS,
  type EventWeights,
  type HistoryEntry,
  type Interaction,
  type ModelFactory,
  type RecommenderModel,
  ScoreAccumulator,
  type TrainingData,
  type Vocabulary,
} from './types.ts';

export const PROTOCOLS = ['loo-sampled', 'loo-full', 'time-split'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** Defaults of the evaluation, shared by the CLI, the training Lambda and the docs. */
export const EVALUATION_DEFAULTS = {
  k: 10,
  seed: 42,
  /** Sampled negatives per test item under `loo-sampled`. */
  negatives: 100,
  /** More qualifying users than this → a seeded random sample of this many. */
  maxUsers: 10_000,
  /** Validation users used to pick each model's parameters. */
  tuneUsers: 2_000,
  /** Share of interactions before the global cut under `time-split`. */
  timeSplitFraction: 0.8,
  tieBreak: 'random' as TieBreak,
} as const;

export interface EvaluationOptions {
  readonly protocol: Protocol;
  readonly models: readonly ModelFactory[];
  readonly k?: number;
  readonly seed?: number;
  readonly weights?: EventWeights;
  readonly negatives?: number;
  readonly maxUsers?: number;
  readonly tuneUsers?: number;
  readonly tieBreak?: TieBreak;
  /** Skip the grid search and fit with each factory's first parameter set. */
  readonly noTuning?: boolean;
  /**
   * Score every model on the validation split even when it has a single parameter set, so
   * models can be compared on validation (`ModelEvaluation.validation`) — the training
   * pipeline picks its candidate this way, never on test.
   */
  readonly validateAll?: boolean;
}

export interface TuningTrial {
  readonly params: Readonly<Record<string, number>>;
  readonly validation: number;
}

export interface ModelEvaluation {
  readonly model: string;
  readonly protocol: Protocol;
  readonly k: number;
  readonly users: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly params: Readonly<Record<string, number | string>>;
  readonly tuning: readonly TuningTrial[];
  /** Validation NDCG@k of the chosen parameters (when tuned or `validateAll`). */
  readonly validation?: number;
  readonly seconds: number;
}

export interface EvaluationReport {
  readonly protocol: Protocol;
  readonly k: number;
  readonly seed: number;
  readonly interactions: number;
  readonly shoppers: number;
  readonly items: number;
  readonly results: readonly ModelEvaluation[];
}

/** Builds a model-side history (oldest → newest) from distinct entries. */
export function toHistory(entries: readonly DistinctEntry[], vocab: Vocabulary): HistoryEntry[] {
  const out: HistoryEntry[] = [];
  for (const e of entries) {
    const idx = vocab.index.get(e.item);
    if (idx !== undefined) out.push({ idx, weight: e.weight, ts: e.last });
  }
  return out;
}

interface RankingCase {
  readonly user: string;
  readonly ordinal: number;
  readonly history: HistoryEntry[];
  readonly target: number;
  /** Candidate indices other than the target (sampled negatives or the unseen catalogue). */
  readonly candidates: Int32Array | null;
  /** Items the shopper interacted with (excluded from full-catalogue ranking). */
  readonly seen: ReadonlySet<number>;
}

/** Rank of the target among candidates (or the whole unseen catalogue when `candidates` is null). */
function rankTarget(
  model: RecommenderModel,
  acc: ScoreAccumulator,
  c: RankingCase,
  tieBreak: TieBreak,
  rng: Rng,
): number {
  acc.reset();
  model.scoreInto(c.history, acc);
  const st = scoreOf(model, acc, c.target);
  const pt = model.prior[c.target] ?? 0;
  let better = 0;
  let ties = 0;
  const consider = (i: number) => {
    const s = scoreOf(model, acc, i);
    if (s > st) better++;
    else if (s === st) {
      const p = model.prior[i] ?? 0;
      if (p > pt) better++;
      else if (p === pt) ties++;
    }
  };
  if (c.candidates) {
    for (const i of c.candidates) consider(i);
  } else {
    const n = model.vocab.items.length;
    for (let i = 0; i < n; i++) if (i !== c.target && !c.seen.has(i)) consider(i);
  }
  acc.reset();
  return rankWithTies(better, ties, tieBreak, rng);
}

function looMetrics(rank: number, k: number, full: boolean): Record<string, number> {
  const m: Record<string, number> = { [`HR@${k}`]: hitAt(rank, k), [`NDCG@${k}`]: ndcgAt(rank, k) };
  if (full) m.MRR = reciprocalRank(rank);
  return m;
}

function seededSubset<T>(values: readonly T[], max: number, seed: number): T[] {
  return values.length <= max ? values.slice() : sampleWithoutReplacement(values, max, seededRng(seed));
}

/**
 * Runs one protocol for every model in `options.models` on the same split, negatives and users,
 * so the numbers compare side by side. Deterministic for a given seed.
 */
export function evaluate(interactions: readonly Interaction[], options: EvaluationOptions): EvaluationReport {
  const weights = options.weights ?? DEFAULT_EVENT_WEIGHTS;
  return evaluateHistories(shopperHistories(interactions, weights), interactions.length, options);
}

/**
 * `evaluate` on per-shopper histories already built with `options.weights` (see
 * `shopperHistories`), for callers that need the histories again (the training Lambda fits the
 * final model on them). `interactions` is only reported.
 */
export function evaluateHistories(
  histories: Map<string, DistinctEntry[]>,
  interactions: number,
  options: EvaluationOptions,
): EvaluationReport {
  const k = options.k ?? EVALUATION_DEFAULTS.k;
  const seed = options.seed ?? EVALUATION_DEFAULTS.seed;
  const weights = options.weights ?? DEFAULT_EVENT_WEIGHTS;
  const vocab = historyVocabulary(histories);
  const base = {
    protocol: options.protocol,
    k,
    seed,
    interactions,
    shoppers: histories.size,
    items: vocab.items.length,
  };
  const run =
    options.protocol === 'time-split'
      ? timeSplitProtocol(histories, vocab, options, k, seed, weights)
      : leaveOneOutProtocol(histories, vocab, options, k, seed, weights);
  const results = options.models.map((factory): ModelEvaluation => {
    const started = performance.now();
    const { params, tuning, validation } = tune(factory, options, run.tuneData, run.validate, k);
    const model = factory.fit(run.testData, params);
    const metrics = run.test(model);
    return {
      model: factory.name,
      protocol: options.protocol,
      k,
      users: run.users,
      metrics,
      params: model.params,
      tuning,
      ...(validation === undefined ? {} : { validation }),
      seconds: round((performance.now() - started) / 1000),
    };
  });
  return { ...base, results };
}

/** One protocol's split, ready to score any model: tune on validation, then test once. */
interface ProtocolRun {
  /** Training data of the validation step (parameter tuning). */
  readonly tuneData: TrainingData;
  readonly validate: (model: RecommenderModel) => Record<string, number>;
  /** Training data of the test step (the chosen parameters). */
  readonly testData: TrainingData;
  readonly test: (model: RecommenderModel) => Record<string, number>;
  /** Users scored by `test`. */
  readonly users: number;
}

function leaveOneOutProtocol(
  histories: Map<string, DistinctEntry[]>,
  vocab: Vocabulary,
  options: EvaluationOptions,
  k: number,
  seed: number,
  weights: EventWeights,
): ProtocolRun {
  const full = options.protocol === 'loo-full';
  const tieBreak = options.tieBreak ?? EVALUATION_DEFAULTS.tieBreak;
  const split = leaveOneOut(histories);
  const qualified = [...split.test.keys()];
  const users = seededSubset(qualified, options.maxUsers ?? EVALUATION_DEFAULTS.maxUsers, seed);
  const tuneUsers = seededSubset(users, options.tuneUsers ?? EVALUATION_DEFAULTS.tuneUsers, mixSeed(seed, 1));

  const trainData = buildTrainingData(split.train, weights, vocab);
  const fullTrain = new Map(split.train);
  for (const [user, v] of split.validation) fullTrain.set(user, [...(split.train.get(user) ?? []), v]);
  const testData = buildTrainingData(fullTrain, weights, vocab);

  const allItems = Int32Array.from(vocab.items.keys());
  const negativesFor = (ordinal: number, seen: ReadonlySet<number>): Int32Array | null => {
    if (full) return null;
    const rng = seededRng(mixSeed(seed, ordinal + 1_000_003));
    const want = options.negatives ?? EVALUATION_DEFAULTS.negatives;
    const out: number[] = [];
    const unseen = vocab.items.length - seen.size;
    if (unseen <= want) {
      for (const i of allItems) if (!seen.has(i)) out.push(i);
      return Int32Array.from(out);
    }
    const picked = new Set<number>();
    while (out.length < want) {
      const i = Math.floor(rng() * vocab.items.length);
      if (!seen.has(i) && !picked.has(i)) {
        picked.add(i);
        out.push(i);
      }
    }
    return Int32Array.from(out);
  };

  const ordinalOf = new Map(users.map((u, n) => [u, n] as const));
  const cases = (which: 'validation' | 'test', subset: readonly string[]): RankingCase[] =>
    subset.map((user) => {
      const ordinal = ordinalOf.get(user) ?? 0;
      const seen = new Set<number>();
      for (const e of histories.get(user) ?? []) {
        const idx = vocab.index.get(e.item);
        if (idx !== undefined) seen.add(idx);
      }
      const train = split.train.get(user) ?? [];
      const val = split.validation.get(user);
      const test = split.test.get(user);
      const target = vocab.index.get((which === 'validation' ? val : test)?.item ?? '');
      const history = which === 'validation' || !val ? train : [...train, val];
      const candidates = negativesFor(ordinal, seen);
      // Full ranking excludes what the model was shown; the other held-out item stays excluded
      // too, so validation never ranks the test item as a "negative".
      if (target !== undefined) seen.delete(target);
      return { user, ordinal, history: toHistory(history, vocab), target: target ?? 0, candidates, seen };
    });

  const valCases = cases('validation', tuneUsers);
  const testCases = cases('test', users);
  const acc = new ScoreAccumulator(vocab.items.length);
  const score = (model: RecommenderModel, cs: readonly RankingCase[], rngSeed: number) => {
    const means = new MetricMeans();
    const rng = seededRng(rngSeed);
    for (const c of cs) means.add(looMetrics(rankTarget(model, acc, c, tieBreak, rng), k, full));
    return means.means();
  };
  return {
    tuneData: trainData,
    validate: (m) => score(m, valCases, mixSeed(seed, 2)),
    testData,
    test: (m) => score(m, testCases, mixSeed(seed, 3)),
    users: testCases.length,
  };
}

/** Picks the parameter set with the best validation NDCG@k (first wins ties). */
function tune(
  factory: ModelFactory,
  options: EvaluationOptions,
  trainData: TrainingData,
  validate: (model: RecommenderModel) => Record<string, number>,
  k: number,
): { params: Readonly<Record<string, number>>; tuning: TuningTrial[]; validation?: number } {
  const grid = options.noTuning || factory.grid.length <= 1 ? factory.grid.slice(0, 1) : factory.grid;
  if (grid.length <= 1) {
    const params = grid[0] ?? {};
    if (!options.validateAll) return { params, tuning: [] };
    const v = validate(factory.fit(trainData, params))[`NDCG@${k}`] ?? 0;
    return { params, tuning: [], validation: round(v) };
  }
  const tuning: TuningTrial[] = [];
  let best = grid[0] ?? {};
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const params of grid) {
    const m = validate(factory.fit(trainData, params));
    const v = m[`NDCG@${k}`] ?? 0;
    tuning.push({ params, validation: round(v) });
    if (v > bestScore) {
      bestScore = v;
      best = params;
    }
  }
  return { params: best, tuning, validation: round(bestScore) };
}

function timeSplitProtocol(
  histories: Map<string, DistinctEntry[]>,
  vocab: Vocabulary,
  options: EvaluationOptions,
  k: number,
  seed: number,
  weights: EventWeights,
): ProtocolRun {
  const fraction = EVALUATION_DEFAULTS.timeSplitFraction;
  const outer = timeSplit(histories, timeQuantile(histories, fraction));
  // Validation: the same cut again inside the training period.
  const inner = timeSplit(outer.train, timeQuantile(outer.train, fraction));
  const maxUsers = options.maxUsers ?? EVALUATION_DEFAULTS.maxUsers;
  const users = seededSubset([...outer.test.keys()], maxUsers, seed);
  const tuneUsers = seededSubset(
    [...inner.test.keys()],
    options.tuneUsers ?? EVALUATION_DEFAULTS.tuneUsers,
    mixSeed(seed, 1),
  );
  const acc = new ScoreAccumulator(vocab.items.length);

  const score = (
    model: RecommenderModel,
    split: { train: Map<string, DistinctEntry[]>; test: Map<string, DistinctEntry[]> },
    subset: readonly string[],
  ) => {
    const means = new MetricMeans();
    const order = priorOrder(model);
    const recommended = new Set<string>();
    for (const user of subset) {
      const past = split.train.get(user) ?? [];
      const history = toHistory(past, vocab);
      const exclude = new Set(history.map((h) => h.idx));
      const list = topK(model, history, k, exclude, acc, order).map((s) => s.item);
      for (const it of list) recommended.add(it);
      const relevant = new Set((split.test.get(user) ?? []).map((e) => e.item));
      means.add({
        [`Recall@${k}`]: recallAt(list, relevant, k),
        [`NDCG@${k}`]: ndcgListAt(list, relevant, k),
      });
    }
    const m = means.means();
    // Coverage of the catalogue (every item in the data set), not only of the trained items.
    m.coverage = vocab.items.length === 0 ? 0 : recommended.size / vocab.items.length;
    return m;
  };

  return {
    tuneData: buildTrainingData(inner.train, weights, vocab),
    validate: (m) => score(m, inner, tuneUsers),
    testData: buildTrainingData(outer.train, weights, vocab),
    test: (m) => score(m, outer, users),
    users: users.length,
  };
}

function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
