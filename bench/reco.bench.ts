/**
 * Recommender benchmarks:
 *  - training time of the `TrainAndEvaluate` task's work (grouping, validation tuning +
 *    loo-sampled evaluation against popularity, fit on all data, building the publication) for
 *    1M interactions of generated shop traffic (5M with RECO_BENCH_5M=1); target 1M ≤ 60 s;
 *  - offline evaluation of every model (loo-sampled) on 300k interactions; target ≤ 60 s;
 *  - recommendation handler latency p50/p99 in-process against the DynamoDB emulator
 *    (user lists blended with real-time recent items, similar items, trending) of a published
 *    `ranker` model (the production winner; `RECO_BENCH_MODEL` picks another), alone and during
 *    an A/B test between two published versions (`handler_ab_*`); target p99 ≤ 10 ms;
 *  - `shoplake serve` under concurrent load from this (separate) process: requests/s and p99.
 *
 * Run alone: `npx tsx bench/reco.bench.ts` (or `npm run bench -- reco`); `RECO_BENCH_ONLY=serving`
 * runs only the latency parts
 * (`handler`: only the in-process handler part), `RECO_BENCH_5M=1` adds the 5M training run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createRecommendationsHandler,
  DEFAULT_LIST_CACHE_ENTRIES,
  DEFAULT_TRENDING_CACHE_MS,
} from '../lambdas/recommendations/recommendations.ts';
import { documentClient } from '../lambdas/shared/aws-clients.ts';
import { parseEvent } from '../lambdas/shared/event-schema.ts';
import type { FeatureRecord } from '../lambdas/shared/features/aggregate.ts';
import { applyWindowAggregates, toFeatureRecord } from '../lambdas/shared/features/apply.ts';
import { DynamoFeatureStore } from '../lambdas/shared/features/dynamo-store.ts';
import { userRecentKey } from '../lambdas/shared/features/feature-keys.ts';
import {
  buildTrainingData,
  interactionsFromEvents,
  shopperHistories,
} from '../lambdas/shared/recommender/data.ts';
import { evaluate } from '../lambdas/shared/recommender/evaluate.ts';
import { MODELS, modelsByName } from '../lambdas/shared/recommender/models.ts';
import { buildPublication } from '../lambdas/shared/recommender/publication.ts';
import { RecommendationStore } from '../lambdas/shared/recommender/store.ts';
import { DEFAULT_EVENT_WEIGHTS, type Interaction } from '../lambdas/shared/recommender/types.ts';
import { prepareRun, trainCandidate } from '../lambdas/training/pipeline.ts';
import { generateShop } from '../local/generator/shop.ts';
import { getProxyEvent } from '../local/runtime/http-server.ts';
import { startLocalRuntime } from '../local/runtime/runtime.ts';

const END = Date.parse('2026-11-20T12:00:00.000Z');
/** Model published for the serving benchmark. @default ranker (what `model: auto` publishes) */
const BENCH_MODEL = process.env.RECO_BENCH_MODEL ?? 'ranker';

/** Generated shop traffic → interactions, stopping at `n`. */
export function generatedInteractions(n: number, seed = 11): Interaction[] {
  const users = Math.max(1_000, Math.round(n / 25));
  const products = Math.max(500, Math.min(20_000, Math.round(n / 200)));
  const shop = generateShop({ seed, events: Math.round(n * 1.45), users, products, days: 60, end: END });
  const out: Interaction[] = [];
  const batch: unknown[] = [];
  const flush = () => {
    for (const i of interactionsFromEvents(batch as never[]).interactions) {
      if (out.length < n) out.push(i);
    }
    batch.length = 0;
  };
  for (const e of shop.events()) {
    batch.push(e);
    if (batch.length >= 10_000) {
      flush();
      if (out.length >= n) break;
    }
  }
  flush();
  return out;
}

const seconds = (t0: number) => Math.round((performance.now() - t0) / 10) / 100;
/** CPU seconds (user + system) of this process since `c0`: fair on a shared, loaded machine. */
const cpuSeconds = (c0: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c0);
  return Math.round((d.user + d.system) / 10_000) / 100;
};

/** The TrainAndEvaluate task's computation (`trainCandidate`, blend, seed 42) on `interactions`. */
export function trainingRun(interactions: readonly Interaction[]) {
  const run = prepareRun({ version: 'vbench', model: 'blend', seed: 42 }, new Date(END));
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const { report, data, publication } = trainCandidate(interactions, run);
  return {
    seconds: seconds(t0),
    cpu_seconds: cpuSeconds(c0),
    users: data.shoppers.length,
    items: data.vocab.items.length,
    published_items: publication.items.length,
    hr10_blend: report.results[1]?.metrics['HR@10'] ?? 0,
    hr10_popularity: report.results[0]?.metrics['HR@10'] ?? 0,
  };
}

/** Per key, the median over runs of the same benchmark (numbers only). */
function medianOf(runs: readonly Record<string, unknown>[], prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(runs[0] ?? {})) {
    const xs = runs.map((r) => r[key]).filter((v): v is number => typeof v === 'number');
    xs.sort((a, b) => a - b);
    out[key] = xs[Math.floor(xs.length / 2)] ?? runs[0]?.[key];
  }
  out[`${prefix}_runs`] = runs.length;
  return out;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

interface Workload {
  readonly users: string[];
  readonly items: string[];
}

/** Request mix: 70% user recommendations, 20% similar items, 10% trending. */
function requestFor(n: number, w: Workload): { path: string; query: Record<string, string> } {
  const r = n % 10;
  if (r < 7) return { path: `/users/${w.users[n % w.users.length]}/recommendations`, query: { k: '10' } };
  if (r < 9) return { path: `/items/${w.items[n % w.items.length]}/similar`, query: { k: '10' } };
  return { path: '/trending', query: { window: '1h', k: '10' } };
}

/** Publishes a model trained on `interactions` and seeds recent items for the sampled users. */
async function seedTables(
  runtime: Awaited<ReturnType<typeof startLocalRuntime>>,
  interactions: readonly Interaction[],
): Promise<Workload> {
  const client = documentClient(runtime.clients.dynamodb);
  const store = new RecommendationStore({ client, tableName: runtime.names.recommendationsTable });
  const data = buildTrainingData(
    shopperHistories(interactions, DEFAULT_EVENT_WEIGHTS),
    DEFAULT_EVENT_WEIGHTS,
  );
  const [factory] = modelsByName(BENCH_MODEL);
  if (!factory) throw new Error(`RECO_BENCH_MODEL names no model: ${BENCH_MODEL}`);
  const t0 = performance.now();
  const model = factory.fit(data, factory.grid[0] ?? {});
  const publication = buildPublication('vbench', model, data);
  process.stderr.write(
    `  serving: ${BENCH_MODEL} fitted and published in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`,
  );
  // The A/B treatment: the same lists under a second version (same read pattern, other keys).
  const treatment = publication.items.map((i) => ({
    ...i,
    pk: i.pk.replace(/^MODEL#vbench#/, 'MODEL#vbench-b#'),
  }));
  await store.putItems([...publication.items, ...treatment]);
  for (const version of ['vbench', 'vbench-b'])
    await store.putRegistryEntry({
      version,
      status: 'published',
      model: factory.name,
      params: {},
      metrics: {},
      snapshots: {},
      trained_at: new Date().toISOString(),
      interactions: interactions.length,
      users: publication.counts.users,
      items: publication.counts.items,
    });
  await store.activate('vbench', new Date().toISOString());
  const users = data.shoppers
    .map((s) => s.user)
    .filter((u) => !u.startsWith('session:'))
    .slice(0, 500);
  // Recent items and /similar requests follow popularity, as shoppers' clicks do: the items of
  // 2,000 interactions drawn at random (hot items repeat, tail items appear).
  const known = new Set(data.vocab.items);
  const items = Array.from(
    { length: 2_000 },
    (_, n) => interactions[(n * 7_919 + 13) % interactions.length]?.item ?? '',
  ).filter((i) => known.has(i));
  // Real-time context: each sampled user has a recent-items list (20 items) in the features table.
  const features = new DynamoFeatureStore({ client, tableName: runtime.names.featuresTable });
  const now = Date.now();
  await features.batchPut(
    users.map((u, n) => ({
      ...userRecentKey(u),
      items: Array.from({ length: 20 }, (_, i) => ({
        event_id: `bench-${n}-${i}`,
        product_id: items[(n * 7 + i) % items.length] ?? '',
        event_type: i % 5 === 0 ? 'add_to_cart' : 'product_view',
        ts: new Date(now - i * 30_000).toISOString(),
      })),
      version: 1,
    })),
  );
  // Live trending windows: two hours of shop traffic aggregated by the consumer's own code, so
  // /trending and the trending fill read real counters (about 1,000 products per bucket).
  const live = generateShop({
    seed: 22,
    events: 40_000,
    users: 2_000,
    products: 1_000,
    days: 2 / 24,
    end: now,
  });
  const records: FeatureRecord[] = [];
  let seq = 0;
  for (const e of live.events()) {
    const parsed = parseEvent(e);
    if (parsed.ok)
      records.push(toFeatureRecord(parsed.event, 'shardId-000000000000', String(++seq).padStart(20, '0')));
  }
  for (let i = 0; i < records.length; i += 500)
    await applyWindowAggregates(features, records.slice(i, i + 500));
  return { users, items };
}

/**
 * In-process handler latency, `cached` as the Lambda is wired (list cache and trending reuse
 * on) or with both off, so every list and window is a DynamoDB read. Keys get `prefix`.
 */
async function handlerLatency(
  runtime: Awaited<ReturnType<typeof startLocalRuntime>>,
  w: Workload,
  requests: number,
  cached: boolean,
  prefix: string,
) {
  const listCacheEntries = cached ? DEFAULT_LIST_CACHE_ENTRIES : 0;
  const client = documentClient(runtime.clients.dynamodb);
  const store = new RecommendationStore({
    client,
    tableName: runtime.names.recommendationsTable,
    listCacheEntries,
  });
  const handle = createRecommendationsHandler({
    store,
    features: new DynamoFeatureStore({ client, tableName: runtime.names.featuresTable }),
    trendingCacheMs: cached ? DEFAULT_TRENDING_CACHE_MS : 0,
  });
  for (let n = 0; n < 200; n++) {
    const r = requestFor(n, w);
    await handle(getProxyEvent(r.path, r.query));
  }
  const lat: number[] = [];
  const byKind: Record<string, number[]> = { user: [], similar: [], trending: [] };
  let errors = 0;
  const reads0 = store.stats.reads;
  const hits0 = store.stats.cacheHits;
  const c0 = process.cpuUsage();
  for (let n = 0; n < requests; n++) {
    const r = requestFor(n, w);
    const t0 = performance.now();
    const res = await handle(getProxyEvent(r.path, r.query));
    const ms = performance.now() - t0;
    if (res.statusCode !== 200) errors++;
    lat.push(ms);
    const kind = r.path.startsWith('/users') ? 'user' : r.path.startsWith('/items') ? 'similar' : 'trending';
    byKind[kind]?.push(ms);
  }
  const cpu = process.cpuUsage(c0);
  const s = [...lat].sort((a, b) => a - b);
  const p = (xs: number[], q: number) =>
    Math.round(
      percentile(
        [...xs].sort((a, b) => a - b),
        q,
      ) * 100,
    ) / 100;
  const figures = {
    requests,
    errors,
    list_cache_entries: listCacheEntries,
    // Reads of the recommendations table per request (feature reads not included), and the
    // share of item/popular list lookups answered from the in-process cache.
    store_reads_per_request: Math.round(((store.stats.reads - reads0) / requests) * 100) / 100,
    list_cache_hits_per_request: Math.round(((store.stats.cacheHits - hits0) / requests) * 100) / 100,
    // CPU per request of handler + SDK + in-process emulator: the cost without scheduling noise.
    cpu_ms_per_request: Math.round(((cpu.user + cpu.system) / 1000 / requests) * 100) / 100,
    p50_ms: p(s, 0.5),
    p90_ms: p(s, 0.9),
    p99_ms: p(s, 0.99),
    user_p50_ms: p(byKind.user ?? [], 0.5),
    user_p99_ms: p(byKind.user ?? [], 0.99),
    similar_p99_ms: p(byKind.similar ?? [], 0.99),
    trending_p99_ms: p(byKind.trending ?? [], 0.99),
  };
  return Object.fromEntries(Object.entries(figures).map(([k, v]) => [`${prefix}_${k}`, v]));
}

function startServe(stateDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['bin/shoplake.mjs', '--state-dir', stateDir, 'serve', '--port', String(port), '--quiet'],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, POWERTOOLS_LOG_LEVEL: 'SILENT' } },
  );
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`shoplake serve did not start in 60 s: ${err}`)), 60_000);
    child.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('local API on')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`shoplake serve exited with ${code}: ${err}`));
    });
  });
}

async function loadTest(port: number, w: Workload, concurrency: number, durationMs: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const get = (path: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent, method: 'GET' }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
  const lat: number[] = [];
  let errors = 0;
  let n = 0;
  const until = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < until) {
      const r = requestFor(n++, w);
      const qs = new URLSearchParams(r.query).toString();
      const t0 = performance.now();
      const status = await get(`${r.path}?${qs}`);
      lat.push(performance.now() - t0);
      if (status !== 200) errors++;
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  agent.destroy();
  const s = lat.sort((a, b) => a - b);
  return {
    serve_concurrency: concurrency,
    serve_requests: lat.length,
    serve_errors: errors,
    serve_rps: Math.round(lat.length / elapsed),
    serve_p50_ms: Math.round(percentile(s, 0.5) * 100) / 100,
    serve_p99_ms: Math.round(percentile(s, 0.99) * 100) / 100,
  };
}

/** Latency first, on a small heap (a 1M-interaction heap makes GC pauses dominate p99). */
async function servingBenchmarks(out: Record<string, unknown>): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), 'reco-bench-'));
  try {
    const runtime = await startLocalRuntime({ stateDir, persist: true, consumer: false, firehose: false });
    let workload: Workload;
    try {
      workload = await seedTables(runtime, generatedInteractions(200_000, 21));
      // Both configurations in one run, alternating so load changes hit both alike; the
      // served configuration (list cache on) is the headline `handler_*`.
      // `ab`: an A/B test (vbench vs vbench-b, 50 %) runs: arm assignment on every user request.
      const configs = [
        { prefix: 'handler', cached: true, ab: false, runs: [] as Record<string, unknown>[] },
        { prefix: 'handler_nocache', cached: false, ab: false, runs: [] as Record<string, unknown>[] },
        { prefix: 'handler_ab', cached: true, ab: true, runs: [] as Record<string, unknown>[] },
      ];
      const pointer = new RecommendationStore({
        client: documentClient(runtime.clients.dynamodb),
        tableName: runtime.names.recommendationsTable,
      });
      for (let round = 0; round < 3; round++)
        for (const c of configs) {
          const at = new Date().toISOString();
          if (c.ab)
            await pointer.startExperiment(
              { name: `bench-${round}`, control: 'vbench', treatment: 'vbench-b', split: 0.5 },
              at,
            );
          c.runs.push(await handlerLatency(runtime, workload, 2_000, c.cached, c.prefix));
          if (c.ab) await pointer.stopExperiment(at);
        }
      out.serving_model = BENCH_MODEL;
      for (const c of configs) Object.assign(out, medianOf(c.runs, c.prefix));
    } finally {
      await runtime.stop();
    }
    if (process.env.RECO_BENCH_ONLY === 'handler') return;
    const port = 18_000 + Math.floor(Math.random() * 2_000);
    const child = await startServe(stateDir, port);
    try {
      await loadTest(port, workload, 4, 2_000);
      Object.assign(out, await loadTest(port, workload, 16, 10_000));
    } finally {
      child.kill('SIGINT');
      await new Promise((r) => {
        const t = setTimeout(r, 10_000);
        child.on('exit', () => {
          clearTimeout(t);
          r(undefined);
        });
      });
    }
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const log = (m: string) => process.stderr.write(`  ${m}\n`);
  out.load_average_1m = Math.round(loadavg()[0] ?? 0);
  await servingBenchmarks(out);
  log(`serving: ${JSON.stringify(out)}`);
  if (process.env.RECO_BENCH_ONLY === 'serving' || process.env.RECO_BENCH_ONLY === 'handler') return out;

  let t0 = performance.now();
  const million = generatedInteractions(1_000_000);
  log(`generated ${million.length} interactions in ${seconds(t0)} s`);
  const train1m = trainingRun(million);
  log(`training 1M: ${JSON.stringify(train1m)}`);
  out.train_1m_s = train1m.seconds;
  out.train_1m_cpu_s = train1m.cpu_seconds;
  out.train_1m_users = train1m.users;
  out.train_1m_items = train1m.items;
  out.train_1m_hr10_blend = train1m.hr10_blend;
  out.train_1m_hr10_popularity = train1m.hr10_popularity;

  const sample = million.slice(0, 300_000);
  t0 = performance.now();
  const c0 = process.cpuUsage();
  const evalAll = evaluate(sample, { protocol: 'loo-sampled', models: MODELS, seed: 42 });
  out.evaluate_300k_all_models_s = seconds(t0);
  out.evaluate_300k_all_models_cpu_s = cpuSeconds(c0);
  for (const r of evalAll.results)
    out[`evaluate_300k_${r.model}_hr10`] = Math.round((r.metrics['HR@10'] ?? 0) * 10_000) / 10_000;

  if (process.env.RECO_BENCH_5M === '1') {
    const five = generatedInteractions(5_000_000, 12);
    const train5m = trainingRun(five);
    out.train_5m_s = train5m.seconds;
    out.train_5m_cpu_s = train5m.cpu_seconds;
  } else {
    out.train_5m = 'skipped (set RECO_BENCH_5M=1)';
  }
  out.load_average_1m_end = Math.round(loadavg()[0] ?? 0);
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
