/**
 * `shoplake train`'s path end to end on the local runtime: generate → ingest (API handler →
 * Kinesis → stream consumer + Firehose landing) → ETL state machine (landing → bronze →
 * silver on the local Iceberg lake) → training state machine (`train.asl.json` locally:
 * Athena SQL on DuckDB, training Lambdas' code) → published, active model served by the
 * recommendations handler. A deliberately broken model is refused by the quality gate and
 * leaves the active model in place.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { documentClient } from '../../lambdas/shared/aws-clients.ts';
import { RecommendationStore } from '../../lambdas/shared/recommender/store.ts';
import { openLakeEngine, runLocalTraining, TrainingRunFailedError } from '../../local/cli/commands/train.ts';
import type { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { localIngest } from '../../local/runtime/handlers.ts';
import { sendThroughIngest } from '../../local/runtime/replay.ts';
import { type EmbeddedRuntime, startLocalRuntime } from '../../local/runtime/runtime.ts';
import { runLocalEtl } from '../../local/sfn/etl-runner.ts';

let dir: string;
let runtime: EmbeddedRuntime;
let engine: DuckdbEngine;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reco-train-'));
  runtime = await startLocalRuntime({
    stateDir: join(dir, 'state'),
    persist: false,
    namePrefix: 'recotrain',
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
  engine = await openLakeEngine(runtime.lakeDir);
  const etl = await runLocalEtl({ engine, lakeDir: runtime.lakeDir, input: { full: true } });
  expect(etl.status).toBe('SUCCEEDED');
}, 300_000);

afterAll(async () => {
  await engine?.close();
  await runtime?.stop();
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
    const store = new RecommendationStore({
      client: documentClient(runtime.clients.dynamodb),
      tableName: runtime.names.recommendationsTable,
    });
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
    const store = new RecommendationStore({
      client: documentClient(runtime.clients.dynamodb),
      tableName: runtime.names.recommendationsTable,
    });
    expect((await store.getActive(true))?.version).toBe('v-local-1');
    expect((await store.getRegistryEntry('v-local-broken'))?.status).toBe('rejected');
  });
});
