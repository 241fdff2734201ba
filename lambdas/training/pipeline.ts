/**
 * The training pipeline's logic, one function per Step Functions task (see
 * `step-functions/train.asl.json`): prepare a run, train + evaluate + gate a candidate,
 * publish it, activate it. Clients, clock and object I/O are parameters, so the Lambdas, the
 * local ASL runner and the tests run exactly this code.
 */
import { ID_PATTERN } from '../shared/event-schema.ts';
import {
  buildTrainingData,
  parseInteractionsCsv,
  shopperHistories,
  splitCsvLine,
} from '../shared/recommender/data.ts';
import { type EvaluationReport, evaluateHistories } from '../shared/recommender/evaluate.ts';
import { modelsByName, popularityModel } from '../shared/recommender/models.ts';
import { buildPublication, type PublishedItem } from '../shared/recommender/publication.ts';
import type { RecommendationStore, RegistryEntry } from '../shared/recommender/store.ts';
import type { ModelFactory } from '../shared/recommender/types.ts';
import { DEFAULT_EVENT_WEIGHTS, type EventWeights, type Interaction } from '../shared/recommender/types.ts';
import { newVersion } from '../shared/recommender/version.ts';
import { joinUri, type ObjectIo } from './objects.ts';
import type { SnapshotResolver } from './snapshots.ts';
import { executionParameters, type TrainingQuery } from './sql.ts';

/** Defaults of a training run, shared by the state machine input, the CLI and the docs. */
export const TRAINING_DEFAULTS = {
  /** `auto`: every model of `AUTO_CANDIDATES` is tuned and the best on validation is the candidate. */
  model: 'auto',
  seed: 42,
  k: 10,
  /** Interactions of the last N days train the model. */
  lookbackDays: 90,
  cooccurrence: { maxBasketItems: 100, minPairs: 2, neighbours: 50 },
  /** The candidate may be at most this much (relative) worse than the active model's NDCG@k. */
  maxRegression: 0.05,
} as const;

/** Models the `auto` training run compares on the validation split. */
export const AUTO_CANDIDATES = ['item-cf', 'sequence', 'blend', 'ranker'] as const;

/** The factories a run trains: `auto` → all of `AUTO_CANDIDATES`, else the named model. */
export function candidateFactories(model: string): ModelFactory[] {
  return model === 'auto' ? modelsByName(AUTO_CANDIDATES.join(',')) : modelsByName(model).slice(0, 1);
}

export class TrainingInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TrainingInputError';
  }
}

export interface RunConfig {
  readonly version: string;
  readonly since: string;
  readonly model: string;
  readonly seed: number;
  readonly k: number;
  readonly maxRegression: number;
  readonly weights: EventWeights;
  readonly cooccurrence: { maxBasketItems: number; minPairs: number; neighbours: number };
  /** Athena ExecutionParameters (literals, in placeholder order) of each training query. */
  readonly parameters: Record<TrainingQuery, string[]>;
}

function num(v: unknown, fallback: number, name: string): number {
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new TrainingInputError(`${name} must be a number`);
  return v;
}

/** Task `Prepare`: validates the execution input, fixes the run's version and SQL parameters. */
export function prepareRun(input: unknown, now: Date): RunConfig {
  const i = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  const version = i.version === undefined ? newVersion(now) : String(i.version);
  if (!ID_PATTERN.test(version))
    throw new TrainingInputError('version must be 1-64 characters of A-Za-z0-9._:-');
  const model = i.model === undefined ? TRAINING_DEFAULTS.model : String(i.model);
  candidateFactories(model);
  const lookbackDays = num(i.lookbackDays, TRAINING_DEFAULTS.lookbackDays, 'lookbackDays');
  const since =
    typeof i.since === 'string' ? new Date(i.since) : new Date(now.getTime() - lookbackDays * 86_400_000);
  if (!Number.isFinite(since.getTime())) throw new TrainingInputError('since must be an ISO-8601 timestamp');
  const w = (typeof i.weights === 'object' && i.weights !== null ? i.weights : {}) as Record<string, unknown>;
  const weights: EventWeights = {
    view: num(w.view, DEFAULT_EVENT_WEIGHTS.view, 'weights.view'),
    cart: num(w.cart, DEFAULT_EVENT_WEIGHTS.cart, 'weights.cart'),
    purchase: num(w.purchase, DEFAULT_EVENT_WEIGHTS.purchase, 'weights.purchase'),
  };
  const c = TRAINING_DEFAULTS.cooccurrence;
  const cooccurrence = {
    maxBasketItems: num(i.maxBasketItems, c.maxBasketItems, 'maxBasketItems'),
    minPairs: num(i.minPairs, c.minPairs, 'minPairs'),
    neighbours: num(i.neighbours, c.neighbours, 'neighbours'),
  };
  const sinceIso = since.toISOString();
  const params = {
    model_version: version,
    since: sinceIso,
    w_view: weights.view,
    w_cart: weights.cart,
    w_purchase: weights.purchase,
    max_basket_items: cooccurrence.maxBasketItems,
    min_pairs: cooccurrence.minPairs,
    neighbours: cooccurrence.neighbours,
  };
  return {
    version,
    since: sinceIso,
    model,
    seed: num(i.seed, TRAINING_DEFAULTS.seed, 'seed'),
    k: num(i.k, TRAINING_DEFAULTS.k, 'k'),
    maxRegression: num(i.maxRegression, TRAINING_DEFAULTS.maxRegression, 'maxRegression'),
    weights,
    cooccurrence,
    parameters: executionParameters(params),
  };
}

export interface GateResult {
  readonly passed: boolean;
  readonly reasons: string[];
}

/**
 * Quality gate: the candidate must beat popularity (HR@k on the same split) and must not be
 * worse than the active model's NDCG@k by more than `maxRegression` (relative; the active
 * model's metrics come from its own run, so a small tolerance absorbs data drift).
 */
export function qualityGate(
  candidate: { model: string; metrics: Record<string, Record<string, number>> },
  active: RegistryEntry | undefined,
  k: number,
  maxRegression: number,
): GateResult {
  const reasons: string[] = [];
  const hr = `HR@${k}`;
  const ndcg = `NDCG@${k}`;
  const mine = candidate.metrics[candidate.model] ?? {};
  const pop = candidate.metrics.popularity ?? {};
  const users = mine.users ?? 0;
  if (users < 1) reasons.push('no shopper qualified for evaluation (needs ≥ 3 distinct items)');
  if (!((mine[hr] ?? 0) > (pop[hr] ?? 0))) {
    reasons.push(`${hr} ${(mine[hr] ?? 0).toFixed(4)} does not beat popularity ${(pop[hr] ?? 0).toFixed(4)}`);
  }
  const activeMetrics = active?.metrics[active.model];
  if (activeMetrics && activeMetrics[ndcg] !== undefined) {
    const floor = (activeMetrics[ndcg] ?? 0) * (1 - maxRegression);
    if ((mine[ndcg] ?? 0) < floor) {
      reasons.push(
        `${ndcg} ${(mine[ndcg] ?? 0).toFixed(4)} is worse than the active model ${active?.version} (${(activeMetrics[ndcg] ?? 0).toFixed(4)}, tolerance ${maxRegression})`,
      );
    }
  }
  return { passed: reasons.length === 0, reasons };
}

export interface TrainInput {
  readonly run: RunConfig;
  /** CSV of `reco_interactions_export.sql` (Athena result location or local file). */
  readonly interactionsUri: string;
  /** CSV of `reco_cooccurrence.sql`; its neighbour lists are published when given. */
  readonly cooccurrenceUri?: string;
  /** Iceberg snapshot ids (or query ids) of the training data, by table. */
  readonly snapshots?: Record<string, string>;
}

/** Validates the `TrainAndEvaluate` task input (what the state machine passes). */
export function parseTrainInput(input: unknown, now: Date = new Date()): TrainInput {
  const o = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;
  if (typeof o.interactionsUri !== 'string' || o.interactionsUri === '') {
    throw new TrainingInputError('interactionsUri is required');
  }
  const snapshots = o.snapshots;
  return {
    run: prepareRun(o.run, now),
    interactionsUri: o.interactionsUri,
    ...(typeof o.cooccurrenceUri === 'string' && o.cooccurrenceUri !== ''
      ? { cooccurrenceUri: o.cooccurrenceUri }
      : {}),
    ...(typeof snapshots === 'object' && snapshots !== null
      ? { snapshots: Object.fromEntries(Object.entries(snapshots).map(([k, v]) => [k, String(v)])) }
      : {}),
  };
}

export interface TrainOutput {
  readonly version: string;
  readonly model: string;
  readonly gate: GateResult;
  readonly metrics: Record<string, Record<string, number>>;
  readonly artifactUri: string;
  readonly counts: {
    interactions: number;
    rejected: number;
    users: number;
    items: number;
    published: number;
  };
}

export interface TrainingDeps {
  readonly store: RecommendationStore;
  readonly io: ObjectIo;
  /** Base URI of model artifacts (`s3://bucket/ml/models/`, `file:///…/ml/models/`). */
  readonly artifactsUri: string;
  readonly now?: () => Date;
  /** Snapshot ids of the training data when the input does not carry them. */
  readonly snapshots?: SnapshotResolver;
}

/** Parses the co-occurrence SQL result into neighbour lists by item id (rows arrive ranked). */
export function parseCooccurrenceCsv(text: string): Map<string, { id: string; score: number }[]> {
  const lines = text.split(/\r?\n/);
  const header = splitCsvLine(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const [it, nb, cos, rank] = ['item_id', 'neighbour_id', 'cosine', 'neighbour_rank'].map((n) =>
    header.indexOf(n),
  );
  if ((it ?? -1) < 0 || (nb ?? -1) < 0 || (cos ?? -1) < 0) {
    throw new TrainingInputError('co-occurrence CSV must have item_id, neighbour_id, cosine columns');
  }
  const rows: { item: string; id: string; score: number; rank: number }[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n] ?? '';
    if (line.trim() === '') continue;
    const f = splitCsvLine(line);
    const score = Number(f[cos ?? 0]);
    if (!Number.isFinite(score)) continue;
    rows.push({ item: f[it ?? 0] ?? '', id: f[nb ?? 0] ?? '', score, rank: Number(f[rank ?? -1] ?? n) });
  }
  rows.sort((a, b) => (a.item < b.item ? -1 : a.item > b.item ? 1 : a.rank - b.rank));
  const out = new Map<string, { id: string; score: number }[]>();
  for (const r of rows) {
    const list = out.get(r.item) ?? [];
    list.push({ id: r.id, score: r.score });
    out.set(r.item, list);
  }
  return out;
}

function metricsOf(report: EvaluationReport): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const r of report.results) out[r.model] = { ...r.metrics, users: r.users };
  return out;
}

/**
 * The computation of `TrainAndEvaluate`, without I/O: groups the interactions once, tunes and
 * evaluates the candidate against popularity (loo-sampled, validation-only tuning), fits it on
 * all data and builds the publication. `bench/reco.bench.ts` times exactly this.
 */
export function trainCandidate(
  interactions: readonly Interaction[],
  run: Pick<RunConfig, 'version' | 'model' | 'seed' | 'k' | 'weights'>,
  similar?: Map<string, { id: string; score: number }[]>,
) {
  const candidates = candidateFactories(run.model).filter((f) => f.name !== 'popularity');
  const models = [popularityModel, ...candidates];
  // Grouped once: the evaluation and the final fit read the same histories.
  const histories = shopperHistories(interactions, run.weights);
  const report = evaluateHistories(histories, interactions.length, {
    protocol: 'loo-sampled',
    models,
    seed: run.seed,
    k: run.k,
    weights: run.weights,
    validateAll: candidates.length > 1,
  });
  // The candidate: the only model asked for, or the best on validation (never on test).
  let factory: ModelFactory = candidates[0] ?? popularityModel;
  let best = Number.NEGATIVE_INFINITY;
  for (const f of candidates) {
    const v = report.results.find((r) => r.model === f.name)?.validation ?? Number.NEGATIVE_INFINITY;
    if (candidates.length > 1 && v > best) {
      best = v;
      factory = f;
    }
  }
  const names = new Set(candidates.map((f) => f.name));
  const selection = Object.fromEntries(
    report.results
      .filter((r) => candidates.length > 1 && names.has(r.model) && r.validation !== undefined)
      .map((r) => [r.model, r.validation as number]),
  );
  const tuned = report.results.find((r) => r.model === factory.name);
  const params: Record<string, number> = {};
  for (const [key, v] of Object.entries(tuned?.params ?? {})) if (typeof v === 'number') params[key] = v;
  const data = buildTrainingData(histories, run.weights);
  const model = factory.fit(data, params);
  const publication = buildPublication(run.version, model, data, similar ? { similar } : {});
  return { factory, report, data, model, publication, selection };
}

/**
 * Task `TrainAndEvaluate`: reads the interactions, trains and evaluates the candidate
 * (`trainCandidate`), writes the publication artifact and records the candidate (or its
 * rejection) in the registry.
 */
export async function trainAndEvaluate(input: TrainInput, deps: TrainingDeps): Promise<TrainOutput> {
  const now = deps.now ?? (() => new Date());
  const run = input.run;
  const parsed = parseInteractionsCsv(await deps.io.readText(input.interactionsUri));
  const similar = input.cooccurrenceUri
    ? parseCooccurrenceCsv(await deps.io.readText(input.cooccurrenceUri))
    : undefined;
  const { factory, report, model, publication, selection } = trainCandidate(
    parsed.interactions,
    run,
    similar,
  );
  const metrics = metricsOf(report);
  const artifactUri = joinUri(deps.artifactsUri, `${run.version}/publication.jsonl`);
  await deps.io.writeText(artifactUri, `${publication.items.map((i) => JSON.stringify(i)).join('\n')}\n`);

  const activePointer = await deps.store.getActive(true);
  const active = activePointer ? await deps.store.getRegistryEntry(activePointer.version) : undefined;
  const gate = qualityGate({ model: factory.name, metrics }, active, run.k, run.maxRegression);
  const entry: RegistryEntry = {
    version: run.version,
    status: gate.passed ? 'candidate' : 'rejected',
    model: factory.name,
    params: {
      ...model.params,
      since: run.since,
      weights: JSON.stringify(run.weights),
      seed: run.seed,
      requested: run.model,
      ...(Object.keys(selection).length > 0 ? { selection: JSON.stringify(selection) } : {}),
    },
    metrics,
    snapshots: input.snapshots ?? (deps.snapshots ? await deps.snapshots() : {}),
    trained_at: now().toISOString(),
    interactions: parsed.interactions.length,
    users: publication.counts.users,
    items: publication.counts.items,
    gate,
  };
  await deps.store.putRegistryEntry(entry);
  return {
    version: run.version,
    model: factory.name,
    gate,
    metrics,
    artifactUri,
    counts: {
      interactions: parsed.interactions.length,
      rejected: parsed.rejected.length,
      users: publication.counts.users,
      items: publication.counts.items,
      published: publication.items.length,
    },
  };
}

export class PublishError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PublishError';
  }
}

/** Task `Publish`: writes the artifact's items under the new version (batched, retried). */
export async function publishCandidate(
  input: { version: string; artifactUri: string },
  deps: TrainingDeps,
): Promise<{ version: string; items: number }> {
  const entry = await deps.store.getRegistryEntry(input.version);
  if (entry?.status !== 'candidate') {
    throw new PublishError(
      `version ${input.version} is ${entry?.status ?? 'not registered'}, expected candidate`,
    );
  }
  const items: PublishedItem[] = [];
  const text = await deps.io.readText(input.artifactUri);
  const prefix = `MODEL#${input.version}#`;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const v: unknown = JSON.parse(line);
    const rec = typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
    if (typeof rec.pk !== 'string' || typeof rec.sk !== 'string' || !rec.pk.startsWith(prefix)) {
      throw new PublishError(`artifact line does not belong to version ${input.version}`);
    }
    items.push(rec as PublishedItem);
  }
  const written = await deps.store.putItems(items);
  const now = (deps.now ?? (() => new Date()))();
  await deps.store.putRegistryEntry({
    ...entry,
    status: 'published',
    published_at: now.toISOString(),
    published_items: written,
  });
  return { version: input.version, items: written };
}

/**
 * Task `Activate` (and `shoplake models rollback`): switches the active-version pointer. While
 * an A/B test runs, an activation would end it silently: `rollback` is refused
 * (`ExperimentStateError`), while the training task (`whileExperiment: 'defer'`) leaves the
 * new version published but not active and says so (`deferred_by`), so a nightly training run
 * neither fails nor ends the experiment.
 */
/** How the training state machine's `Activate` task activates (the Lambda and the local runner). */
export const TRAINING_ACTIVATION = { whileExperiment: 'defer' } as const;

export async function activateVersion(
  input: { version: string },
  deps: Pick<TrainingDeps, 'store' | 'now'>,
  options: { whileExperiment?: 'fail' | 'defer' } = {},
): Promise<{ version: string; previous: string | null; deferred_by?: string }> {
  const now = (deps.now ?? (() => new Date()))();
  if (options.whileExperiment === 'defer') {
    const current = await deps.store.getActive(true);
    if (current?.experiment) {
      return { version: current.version, previous: current.previous, deferred_by: current.experiment.name };
    }
  }
  const pointer = await deps.store.activate(input.version, now.toISOString());
  return { version: pointer.version, previous: pointer.previous };
}
