/**
 * Why item-to-item CF does not beat popularity on the UCI Online Retail sample under
 * `loo-sampled`, with reproducible numbers (issue 4). Run:
 *
 *   npx tsx bench/uci-cf-analysis.ts [path/to/online_retail_sample.csv] [--variants] [--thinning]
 *
 * Part 1 (always): on the same leave-one-out split the evaluation uses (seed 42), for the UCI
 * sample and for the generated shop of `docs/recommender.md`:
 *   - history length at test time (train + validation items);
 *   - co-occurrence upper bounds: the share of test items that co-occur, in the data the model
 *     sees at test time, with at least one item of the shopper's history (shopper level; with
 *     ≥ 2 shared shoppers = the model's `minPairs`; within the fitted top-50 neighbour lists =
 *     how often item-cf really gives the test item a non-zero score; invoice/session level);
 *   - popularity: share of test items among the top-100 most popular items and share of test
 *     items nobody else interacted with;
 *   - HR@10 of popularity and item-cf on the users where item-cf has evidence for the test
 *     item vs those where it has none (same 100 sampled negatives as the evaluation).
 * Part 2 (`--variants`): `evaluate()` (validation-tuned, loo-sampled, seed 42) of popularity,
 * item-cf (pure: items without evidence tie, broken at random) and item-cf with the popularity
 * fallback (the shipped model).
 * Part 3 (`--thinning`): item-cf vs popularity on seeded random 25/50/75/100 % of the lines.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { popularity } from '../lambdas/shared/recommender/cooccurrence.ts';
import {
  buildTrainingData,
  historyVocabulary,
  interactionsFromEvents,
  parseOnlineRetail,
  shopperHistories,
} from '../lambdas/shared/recommender/data.ts';
import { evaluate, toHistory } from '../lambdas/shared/recommender/evaluate.ts';
import { itemCfModel, popularityModel, scoreOf } from '../lambdas/shared/recommender/models.ts';
import { mixSeed, seededRng } from '../lambdas/shared/recommender/rng.ts';
import { leaveOneOut } from '../lambdas/shared/recommender/split.ts';
import {
  DEFAULT_EVENT_WEIGHTS,
  type Interaction,
  type ModelFactory,
  type RecommenderModel,
  ScoreAccumulator,
} from '../lambdas/shared/recommender/types.ts';
import { generateShop } from '../local/generator/shop.ts';

const SEED = 42;
const K = 10;
const NEGATIVES = 100;

export function uciInteractions(path: string): Interaction[] {
  return parseOnlineRetail(readFileSync(path, 'utf8')).interactions;
}

/** The generated data set of docs/recommender.md (fixed end so runs are identical). */
export function generatedInteractions(): Interaction[] {
  const shop = generateShop({
    seed: 7,
    events: 100_000,
    users: 5_000,
    products: 1_000,
    days: 30,
    end: Date.parse('2026-11-20T12:00:00.000Z'),
  });
  return interactionsFromEvents(shop.events()).interactions;
}

const pct = (a: number, b: number) => (b === 0 ? 'n/a' : `${((100 * a) / b).toFixed(1)} %`);

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Part 1: split statistics and co-occurrence upper bounds. */
function analyse(label: string, interactions: readonly Interaction[]): void {
  const weights = DEFAULT_EVENT_WEIGHTS;
  const histories = shopperHistories(interactions, weights);
  const vocab = historyVocabulary(histories);
  const split = leaveOneOut(histories);
  const users = [...split.test.keys()]; // < 10,000 on both data sets: the evaluation uses all.
  const fullTrain = new Map(split.train);
  for (const [u, v] of split.validation) fullTrain.set(u, [...(split.train.get(u) ?? []), v]);
  const data = buildTrainingData(fullTrain, weights, vocab);
  const n = vocab.items.length;

  // Shopper-level postings of the data the model sees at test time.
  const postings: number[][] = Array.from({ length: n }, () => []);
  data.shoppers.forEach((s, b) => {
    for (const i of s.items) (postings[i] as number[]).push(b);
  });
  // Invoice / session level: raw interactions grouped by session, without each evaluated
  // shopper's test item (the model never sees it).
  const testOf = new Map<string, string>();
  for (const [u, e] of split.test) testOf.set(u, e.item);
  const sessions = new Map<string, Set<number>>();
  for (const it of interactions) {
    if (!it.session || testOf.get(it.user) === it.item) continue;
    const idx = vocab.index.get(it.item);
    if (idx === undefined) continue;
    let s = sessions.get(`${it.user}\u0000${it.session}`);
    if (!s) {
      s = new Set();
      sessions.set(`${it.user}\u0000${it.session}`, s);
    }
    s.add(idx);
  }
  const sessionList = [...sessions.values()];
  const sessionPostings: number[][] = Array.from({ length: n }, () => []);
  sessionList.forEach((s, b) => {
    for (const i of s) (sessionPostings[i] as number[]).push(b);
  });
  const multiItemSessions = sessionList.filter((s) => s.size > 1).length;

  const pop = popularity(data, 0);
  const popOrder = Array.from(pop.keys()).sort((a, b) => (pop[b] ?? 0) - (pop[a] ?? 0));
  const top100 = new Set(popOrder.slice(0, 100));
  const cf = itemCfModel.fit(data, { minPairs: 2, historyDecay: 0.9, popularityWeight: 0 });
  // The fitted model's top-50 cosine lists (neighbours 50, minPairs 2), not a second computation.
  const lists = Array.from({ length: n }, (_, i) => cf.neighbours(i));
  const popModel = popularityModel.fit(data, { halfLifeDays: 30 });
  const acc = new ScoreAccumulator(n);

  let anyCo = 0;
  let co2 = 0;
  let inLists = 0;
  let sessionCo = 0;
  let cold = 0;
  let inTop100 = 0;
  let negCo = 0;
  let negListed = 0;
  let negTotal = 0;
  const lengths: number[] = [];
  // Conditional HR@10 (mid-tie rank) on the evaluation's 100 sampled negatives.
  const cond = { reach: { n: 0, cf: 0, pop: 0 }, none: { n: 0, cf: 0, pop: 0 } };
  const rankOf = (m: RecommenderModel, target: number, cands: readonly number[]) => {
    const st = scoreOf(m, acc, target);
    const pt = m.prior[target] ?? 0;
    let better = 0;
    let ties = 0;
    for (const i of cands) {
      const s = scoreOf(m, acc, i);
      const p = m.prior[i] ?? 0;
      if (s > st || (s === st && p > pt)) better++;
      else if (s === st && p === pt) ties++;
    }
    return better + Math.floor(ties / 2);
  };

  users.forEach((user, ordinal) => {
    const hist = fullTrain.get(user) ?? [];
    const h = new Set<number>();
    for (const e of hist) {
      const idx = vocab.index.get(e.item);
      if (idx !== undefined) h.add(idx);
    }
    lengths.push(h.size);
    const t = vocab.index.get(split.test.get(user)?.item ?? '') ?? -1;
    const tp = postings[t] ?? [];
    if (tp.length === 0) cold++;
    if (top100.has(t)) inTop100++;
    // Shopper level: max over history items of the number of shoppers holding both.
    const shared = new Map<number, number>();
    for (const b of tp) {
      for (const j of data.shoppers[b]?.items ?? []) if (h.has(j)) shared.set(j, (shared.get(j) ?? 0) + 1);
    }
    if (shared.size > 0) anyCo++;
    if ([...shared.values()].some((c) => c >= 2)) co2++;
    if ([...h].some((j) => (lists[j] ?? []).some((nb) => nb.idx === t))) inLists++;
    if ((sessionPostings[t] ?? []).some((b) => [...(sessionList[b] ?? [])].some((j) => h.has(j))))
      sessionCo++;

    // Same negatives as evaluate(): seeded per ordinal, uniform over never-seen items.
    const seen = new Set(h);
    seen.add(t);
    const rng = seededRng(mixSeed(SEED, ordinal + 1_000_003));
    const cands: number[] = [];
    const picked = new Set<number>();
    while (cands.length < NEGATIVES && n - seen.size > NEGATIVES) {
      const i = Math.floor(rng() * n);
      if (!seen.has(i) && !picked.has(i)) {
        picked.add(i);
        cands.push(i);
      }
    }
    // How often the sampled negatives co-occur with the history too (co-occurrence is only
    // evidence if the test item has it more often than random items do).
    const holders = new Set<number>();
    for (const j of h) for (const b of postings[j] ?? []) holders.add(b);
    const listed = new Set<number>();
    for (const j of h) for (const nb of lists[j] ?? []) listed.add(nb.idx);
    for (const c of cands) {
      if (listed.has(c)) negListed++;
      let c1 = 0;
      for (const b of postings[c] ?? []) if (holders.has(b)) c1++;
      negTotal++;
      if (c1 > 0) negCo++;
    }
    const history = toHistory(hist, vocab);
    acc.reset();
    cf.scoreInto(history, acc);
    const reach = (acc.values[t] ?? 0) > 0;
    const cfRank = rankOf(cf, t, cands);
    acc.reset();
    const popRank = rankOf(popModel, t, cands);
    const bucket = reach ? cond.reach : cond.none;
    bucket.n++;
    if (cfRank < K) bucket.cf++;
    if (popRank < K) bucket.pop++;
  });

  lengths.sort((a, b) => a - b);
  const buckets = [2, 3, 5, 10, 20, Number.POSITIVE_INFINITY];
  const dist: string[] = [];
  let lo = 0;
  for (const hi of buckets) {
    const c = lengths.filter((l) => l >= lo && l < hi).length;
    dist.push(`${lo}-${hi === Number.POSITIVE_INFINITY ? '' : hi - 1}: ${pct(c, lengths.length)}`);
    lo = hi;
  }
  const u = users.length;
  console.log(`\n## ${label}`);
  console.log(
    `interactions ${interactions.length}, shoppers ${histories.size}, items ${n}, evaluated users ${u}`,
  );
  console.log(
    `history length at test time: median ${quantile(lengths, 0.5)}, p25 ${quantile(lengths, 0.25)}, p75 ${quantile(lengths, 0.75)}, p90 ${quantile(lengths, 0.9)}; ${dist.join(', ')}`,
  );
  console.log(`test item never seen in training (cold): ${pct(cold, u)}`);
  console.log(`test item co-occurs (shopper level) with ≥ 1 history item: ${pct(anyCo, u)}`);
  console.log(`  … in ≥ 2 shoppers (minPairs 2):                     ${pct(co2, u)}`);
  console.log(`  … test item in a history item's top-50 cosine list:  ${pct(inLists, u)}`);
  console.log(`  … a sampled negative in a history item's top-50 cosine list: ${pct(negListed, negTotal)}`);
  console.log(`a sampled negative co-occurs (shopper level) with ≥ 1 history item: ${pct(negCo, negTotal)}`);
  console.log(
    `test item co-occurs in one invoice/session with a history item: ${pct(sessionCo, u)} (${sessionList.length} sessions, ${pct(multiItemSessions, sessionList.length)} with > 1 item)`,
  );
  console.log(`test item among the top-100 most popular items: ${pct(inTop100, u)}`);
  const r = cond.reach;
  const z = cond.none;
  console.log(
    `users where item-cf has evidence for the test item: ${pct(r.n, u)} — HR@10 item-cf ${(r.cf / Math.max(1, r.n)).toFixed(4)} vs popularity ${(r.pop / Math.max(1, r.n)).toFixed(4)}`,
  );
  console.log(
    `users without evidence:                             ${pct(z.n, u)} — HR@10 item-cf ${(z.cf / Math.max(1, z.n)).toFixed(4)} vs popularity ${(z.pop / Math.max(1, z.n)).toFixed(4)}`,
  );
}

/** item-cf with no popularity prior: items without evidence tie (seeded random place). */
const pureItemCf: ModelFactory = {
  name: 'item-cf (pure)',
  description: 'item-cf without the popularity fallback',
  grid: itemCfModel.grid.filter((p) => p.popularityWeight === 0),
  fit(data, params) {
    const m = itemCfModel.fit(data, params);
    return { ...m, name: 'item-cf (pure)', prior: new Float64Array(m.prior.length), priorWeight: 0 };
  },
};

function compare(label: string, interactions: readonly Interaction[], extra: readonly ModelFactory[]): void {
  const report = evaluate(interactions, {
    protocol: 'loo-sampled',
    models: [popularityModel, pureItemCf, itemCfModel, ...extra],
    seed: SEED,
  });
  console.log(`\n## ${label}: loo-sampled, seed ${SEED}, ${report.results[0]?.users ?? 0} users`);
  const pop = report.results[0]?.metrics[`HR@${K}`] ?? 0;
  console.log('| model | HR@10 | NDCG@10 | vs popularity HR@10 | params |');
  console.log('|---|---|---|---|---|');
  for (const r of report.results) {
    const hr = r.metrics[`HR@${K}`] ?? 0;
    const rel = pop > 0 ? `${hr >= pop ? '+' : ''}${((100 * (hr - pop)) / pop).toFixed(1)} %` : '';
    console.log(
      `| ${r.model} | ${hr.toFixed(4)} | ${(r.metrics[`NDCG@${K}`] ?? 0).toFixed(4)} | ${rel} | ${JSON.stringify(r.params)} |`,
    );
  }
}

/**
 * Item-cf vs popularity when the data are thinned further (seeded random share of the lines):
 * if the lift grows with the share kept, the sample's size, not the model, limits item-cf.
 */
function thinning(label: string, interactions: readonly Interaction[], shares: readonly number[]): void {
  console.log(`\n## ${label}: item-cf vs popularity by share of lines kept (loo-sampled, seed ${SEED})`);
  console.log('| share | interactions | users | popularity HR@10 | item-cf HR@10 | lift |');
  console.log('|---|---|---|---|---|---|');
  for (const share of shares) {
    const rng = seededRng(mixSeed(SEED, Math.round(share * 1000)));
    const kept = share >= 1 ? interactions : interactions.filter(() => rng() < share);
    const r = evaluate(kept, { protocol: 'loo-sampled', models: [popularityModel, itemCfModel], seed: SEED });
    const pop = r.results[0]?.metrics[`HR@${K}`] ?? 0;
    const cf = r.results[1]?.metrics[`HR@${K}`] ?? 0;
    const lift = pop > 0 ? `${cf >= pop ? '+' : ''}${((100 * (cf - pop)) / pop).toFixed(1)} %` : '';
    console.log(
      `| ${share} | ${kept.length} | ${r.results[0]?.users ?? 0} | ${pop.toFixed(4)} | ${cf.toFixed(4)} | ${lift} |`,
    );
  }
}

/** The UCI sample beside the repository (`../shared/data`), as SPEC lays it out. */
export const UCI_SAMPLE = fileURLToPath(
  new URL('../../shared/data/online_retail_sample.csv', import.meta.url),
);

function main(): void {
  const args = process.argv.slice(2);
  const file = args.find((a) => !a.startsWith('--')) ?? UCI_SAMPLE;
  const uci = uciInteractions(file);
  const gen = generatedInteractions();
  analyse('UCI sample', uci);
  analyse('generated (seed 7, 100k events)', gen);
  if (args.includes('--thinning')) {
    thinning('UCI sample', uci, [0.25, 0.5, 0.75, 1]);
    thinning('generated', gen, [0.25, 0.5, 0.75, 1]);
    // The UCI sample keeps ~7 % of the original lines: the same thinning of a 14× larger shop.
    const big = generateShop({
      seed: 7,
      events: 1_400_000,
      users: 5_000,
      products: 1_000,
      days: 30,
      end: Date.parse('2026-11-20T12:00:00.000Z'),
    });
    thinning('generated, 1.4M events', interactionsFromEvents(big.events()).interactions, [0.07]);
  }
  if (args.includes('--variants')) {
    compare('UCI sample', uci, []);
    compare('generated', gen, []);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
