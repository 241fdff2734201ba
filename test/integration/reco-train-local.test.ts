/**
 * `shoplake train`'s path end to end on the local runtime: generate → ingest (API handler →
 * Kinesis → stream consumer + Firehose landing) → ETL state machine (landing → bronze →
 * silver on the local Iceberg lake) → training state machine (`train.asl.json` locally:
 * Athena SQL on DuckDB, training Lambdas' code) → published, active model served by the
 * recommendations handler → a shopper's clicks (ingest → Kinesis → consumer) change their
 * answer → a second version, then rollback restores the first one's answers → a deliberately
 * broken model is refused by the quality gate and leaves the active model in place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecommendationsHandler } from '../../lambdas/recommendations/recommendations.ts';
import { documentClient } from '../../lambdas/shared/aws-clients.ts';
import { DynamoFeatureStore } from '../../lambdas/shared/features/dynamo-store.ts';
import { AUTO_CANDIDATES, activateVersion } from '../../lambdas/training/pipeline.ts';
import {
  localRecommendationStore,
  runLocalTraining,
  TrainingRunFailedError,
} from '../../local/cli/commands/train.ts';
import type { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { openLocalEngine } from '../../local/engine/open.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { localIngest } from '../../local/runtime/handlers.ts';
import { getProxyEvent } from '../../local/runtime/http-server.ts';
import { sendThroughIngest } from '../../local/runtime/replay.ts';
import { type EmbeddedRuntime, startLocalRuntime } from '../../local/runtime/runtime.ts';
import { runLocalEtl } from '../../local/sfn/etl-runner.ts';
import { deleteExternalResources, testNamePrefix } from './helpers/external.ts';

/** Unique per run (and deleted afterwards) on an external endpoint. */
const namePrefix = testNamePrefix('train', 'recotrain');

let dir: string;
let runtime: EmbeddedRuntime;
let engine: DuckdbEngine;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reco-train-'));
  runtime = await startLocalRuntime({
    stateDir: join(dir, 'state'),
    persist: false,
    namePrefix,
  });
  const shop = generateShop({
    seed: 5,
    events: 20_000,
    users: 800,
    products: 250,
    days: 2,
    end: Date.now() - 60_000,
  });
  const tally = await sendThroughIngest(shop.events(), { ingest: localIngest(runtime.env) });
  expect(tally.accepted).toBeGreaterThan(19_000);
  await runtime.drain({ timeoutMs: 120_000 });
  engine = await openLocalEngine(runtime.stateDir);
  const etl = await runLocalEtl({ engine, lakeDir: runtime.lakeDir, input: { full: true } });
  expect(etl.status).toBe('SUCCEEDED');
}, 300_000);

afterAll(async () => {
  await engine?.close();
  await runtime?.stop();
  await deleteExternalResources(namePrefix);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('shoplake train (train.asl.json on the local runtime)', () => {
  it('trains on silver events, passes the gate, publishes, activates and records snapshots', async () => {
    const result = await runLocalTraining({
      runtime,
      engine,
      input: { version: 'v-local-1', model: 'blend' },
    });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.steps.map((s) => s.state)).toEqual([
      'Prepare',
      'ExtractInteractions',
      'ExportInteractions',
      'Cooccurrence',
      'TrainAndEvaluate',
      'Publish',
      'Activate',
    ]);
    const c = result.candidate;
    expect(c?.counts.interactions).toBeGreaterThan(5_000);
    expect(c?.metrics.blend?.['HR@10']).toBeGreaterThan(c?.metrics.popularity?.['HR@10'] ?? 1);
    const store = localRecommendationStore(runtime);
    expect((await store.getActive(true))?.version).toBe('v-local-1');
    const entry = await store.getRegistryEntry('v-local-1');
    expect(entry?.status).toBe('active');
    expect(entry?.snapshots['ml.interactions']).toMatch(/^\d+$/);
    expect(entry?.snapshots['silver.events']).toMatch(/^\d+$/);
    // Item lists published from the SQL co-occurrence result.
    const anyItem = (
      await engine.query("SELECT item_id FROM ml.interactions WHERE model_version = 'v-local-1' LIMIT 1")
    )[0];
    const list = await store.getItemList('v-local-1', String(anyItem?.item_id));
    expect(list).toBeDefined();
  });

  it('serves the trained model: clicks change a shopper’s answer, rollback restores answers', async () => {
    const client = documentClient(runtime.clients.dynamodb);
    const handle = createRecommendationsHandler({
      store: localRecommendationStore(runtime, { activeCacheMs: 0 }),
      features: new DynamoFeatureStore({ client, tableName: runtime.names.featuresTable }),
    });
    const serve = async (path: string, query: Record<string, string> = {}) => {
      const res = await handle(getProxyEvent(path, query));
      return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
    };
    const ids = (b: Record<string, unknown>) =>
      (b.items as { product_id: string }[]).map((i) => i.product_id);
    const [shopper] = await engine.query(
      "SELECT shopper, count(*) AS n FROM ml.interactions WHERE model_version = 'v-local-1' AND shopper NOT LIKE 'session:%' GROUP BY shopper ORDER BY n DESC, shopper LIMIT 1",
    );
    const user = String(shopper?.shopper);
    const before = await serve(`/users/${user}/recommendations`, { k: '10' });
    expect(before.body).toMatchObject({ model_version: 'v-local-1', strategy: 'personalized' });
    const items = await engine.query(
      "SELECT item_id FROM ml.interactions WHERE model_version = 'v-local-1' GROUP BY item_id ORDER BY count(*) ASC, item_id LIMIT 50",
    );
    let clicked = '';
    let neighbour = '';
    // A product whose nearest neighbour is not in the shopper's current answer.
    for (const row of items) {
      const r = await serve(`/items/${String(row.item_id)}/similar`, { k: '3' });
      const first = ids(r.body)[0];
      if (
        r.status === 200 &&
        first &&
        !ids(before.body).includes(first) &&
        !ids(before.body).includes(String(row.item_id))
      ) {
        clicked = String(row.item_id);
        neighbour = first;
        break;
      }
    }
    expect(clicked).not.toBe('');
    const tally = await sendThroughIngest(
      [0, 1].map((n) => ({
        event_id: `train-local-click-${n}`,
        event_type: 'product_view',
        event_time: new Date(Date.now() - 500 + n).toISOString(),
        session_id: 'train-local-session',
        user_id: user,
        product_id: clicked,
      })),
      { ingest: localIngest(runtime.env) },
    );
    expect(tally.accepted).toBe(2);
    await runtime.drain({ timeoutMs: 30_000 });
    const after = await serve(`/users/${user}/recommendations`, { k: '10' });
    expect(ids(after.body)).not.toEqual(ids(before.body));
    // The new first answer is a neighbour or next item of the clicked product, absent before.
    const clickedLists = await localRecommendationStore(runtime).getItemList('v-local-1', clicked);
    const first = (after.body.items as { product_id: string; reason: string }[])[0];
    expect(first?.reason).toBe('recent');
    expect([...(clickedLists?.ids ?? []), ...(clickedLists?.next_ids ?? [])]).toContain(first?.product_id);
    expect(ids(before.body)).not.toContain(first?.product_id);

    const similarV1 = await serve(`/items/${neighbour}/similar`, { k: '10' });
    await runLocalTraining({
      runtime,
      engine,
      input: {
        version: 'v-local-2',
        model: 'blend',
        weights: { view: 1, cart: 1, purchase: 1 },
        neighbours: 5,
      },
    });
    const similarV2 = await serve(`/items/${neighbour}/similar`, { k: '10' });
    expect(similarV2.body.model_version).toBe('v-local-2');
    expect(similarV2.body.items).not.toEqual(similarV1.body.items);
    await activateVersion({ version: 'v-local-1' }, { store: localRecommendationStore(runtime) });
    const rolledBack = await serve(`/items/${neighbour}/similar`, { k: '10' });
    expect(rolledBack.body).toMatchObject({ model_version: 'v-local-1', items: similarV1.body.items });
  });

  it('refuses a deliberately broken model and keeps the active one', async () => {
    const failure = await runLocalTraining({
      runtime,
      engine,
      input: { version: 'v-local-broken', model: 'random' },
    }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(TrainingRunFailedError);
    const result = (failure as TrainingRunFailedError).result;
    expect(result.error?.error).toBe('QualityGateRejected');
    expect(result.steps.map((s) => s.state)).not.toContain('Publish');
    const store = localRecommendationStore(runtime);
    expect((await store.getActive(true))?.version).toBe('v-local-1');
    expect((await store.getRegistryEntry('v-local-broken'))?.status).toBe('rejected');
    expect((await store.listRegistry()).map((e) => [e.version, e.status])).toEqual([
      ['v-local-broken', 'rejected'],
      ['v-local-2', 'retired'],
      ['v-local-1', 'active'],
    ]);
  });

  it('by default compares the models on validation and publishes the best one end to end', async () => {
    const result = await runLocalTraining({
      runtime,
      engine,
      // Default model (auto). The regression tolerance is wide: this test is about the choice.
      input: { version: 'v-local-auto', maxRegression: 0.5 },
    });
    expect(result.status).toBe('SUCCEEDED');
    const store = localRecommendationStore(runtime);
    const entry = await store.getRegistryEntry('v-local-auto');
    const selection = JSON.parse(String(entry?.params.selection)) as Record<string, number>;
    expect(Object.keys(selection).sort()).toEqual([...AUTO_CANDIDATES].sort());
    // The first candidate with the highest validation NDCG (ties: candidate order) is published.
    let best: string = AUTO_CANDIDATES[0];
    for (const m of AUTO_CANDIDATES) if ((selection[m] ?? 0) > (selection[best] ?? 0)) best = m;
    expect(entry?.model).toBe(best);
    expect(entry?.status).toBe('active');
    expect(result.candidate?.model).toBe(best);
    expect((await store.getActive(true))?.version).toBe('v-local-auto');
    const user = (
      await engine.query(
        "SELECT user_id FROM ml.interactions WHERE model_version = 'v-local-auto' AND user_id NOT LIKE 'session:%' LIMIT 1",
      )
    )[0];
    expect((await store.getUserList('v-local-auto', String(user?.user_id)))?.ids.length).toBeGreaterThan(0);
  });
});
