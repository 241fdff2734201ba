/**
 * Recommender end to end on the local runtime (DynamoDB + Kinesis emulators, real handlers):
 * generated shop → interactions → train + evaluate + gate → publish → activate → serve;
 * a shopper's views flow through ingest → Kinesis → stream consumer → features and change
 * their recommendations; rollback restores the previous answers; the quality gate refuses a
 * deliberately broken model.
 *
 * Interactions come from the generated events directly (`interactionsFromEvents`), the same
 * mapping `athena/reco_interactions.sql` applies to silver.events (checked in reco-sql.test.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecommendationsHandler } from '../../lambdas/recommendations/recommendations.ts';
import { documentClient } from '../../lambdas/shared/aws-clients.ts';
import { DynamoFeatureStore } from '../../lambdas/shared/features/dynamo-store.ts';
import { interactionsFromEvents, interactionsToCsv } from '../../lambdas/shared/recommender/data.ts';
import { RecommendationStore } from '../../lambdas/shared/recommender/store.ts';
import { objectIo } from '../../lambdas/training/objects.ts';
import {
  activateVersion,
  PublishError,
  prepareRun,
  publishCandidate,
  type TrainingDeps,
  trainAndEvaluate,
} from '../../lambdas/training/pipeline.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { localIngest } from '../../local/runtime/handlers.ts';
import { getProxyEvent } from '../../local/runtime/http-server.ts';
import { sendThroughIngest } from '../../local/runtime/replay.ts';
import { type EmbeddedRuntime, startLocalRuntime } from '../../local/runtime/runtime.ts';
import { deleteExternalResources, testNamePrefix } from './helpers/external.ts';

/** Unique per run (and deleted afterwards) on an external endpoint. */
const namePrefix = testNamePrefix('reco', 'recoe2e');

let dir: string;
let runtime: EmbeddedRuntime;
let deps: TrainingDeps;
let interactionsUri: string;
let shopUsers: string[];
let shopProducts: string[];
let serve: (
  path: string,
  query?: Record<string, string>,
) => Promise<{ status: number; body: Record<string, unknown> }>;
const NOW = Date.now();

const ids = (body: Record<string, unknown>) =>
  (body.items as { product_id: string }[]).map((i) => i.product_id);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reco-e2e-'));
  runtime = await startLocalRuntime({
    stateDir: join(dir, 'state'),
    persist: false,
    firehose: false,
    namePrefix,
  });
  const shop = generateShop({
    seed: 3,
    events: 40_000,
    users: 1_500,
    products: 400,
    days: 14,
    end: NOW - 3_600_000,
  });
  const parsed = interactionsFromEvents(shop.events());
  const counts = new Map<string, number>();
  for (const i of parsed.interactions) counts.set(i.user, (counts.get(i.user) ?? 0) + 1);
  shopUsers = [...counts].filter(([u, n]) => !u.startsWith('session:') && n >= 5).map(([u]) => u);
  shopProducts = shop.products.map((p) => p.product_id);
  const file = join(dir, 'interactions.csv');
  writeFileSync(file, interactionsToCsv(parsed.interactions));
  interactionsUri = pathToFileURL(file).href;
  const client = documentClient(runtime.clients.dynamodb);
  deps = {
    store: new RecommendationStore({ client, tableName: runtime.names.recommendationsTable }),
    io: objectIo(),
    artifactsUri: pathToFileURL(join(dir, 'models')).href,
  };
  const handle = createRecommendationsHandler({
    // No pointer cache in the test: a rollback must be visible on the next request.
    store: new RecommendationStore({
      client,
      tableName: runtime.names.recommendationsTable,
      activeCacheMs: 0,
    }),
    features: new DynamoFeatureStore({ client, tableName: runtime.names.featuresTable }),
  });
  serve = async (path, query = {}) => {
    const res = await handle(getProxyEvent(path, query));
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, unknown> };
  };
}, 240_000);

afterAll(async () => {
  await runtime?.stop();
  await deleteExternalResources(namePrefix);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function trainPublishActivate(input: Record<string, unknown>) {
  const run = prepareRun(input, new Date());
  const trained = await trainAndEvaluate(
    { run, interactionsUri, snapshots: { 'ml.interactions': 'test' } },
    deps,
  );
  expect(trained.gate, JSON.stringify(trained.gate)).toMatchObject({ passed: true });
  const published = await publishCandidate({ version: run.version, artifactUri: trained.artifactUri }, deps);
  expect(published.items).toBe(trained.counts.published);
  await activateVersion({ version: run.version }, deps);
  return trained;
}

describe('recommender pipeline on emulators', () => {
  it('trains, gates, publishes, serves, reacts to clicks, rolls back and refuses a broken model', async () => {
    const v1 = await trainPublishActivate({ version: 'v1-e2e', model: 'blend' });
    expect(v1.metrics.blend?.['HR@10']).toBeGreaterThan(v1.metrics.popularity?.['HR@10'] ?? 1);

    // A known user gets their precomputed list under v1.
    const user = shopUsers[0] ?? '';
    const before = await serve(`/users/${user}/recommendations`, { k: '10' });
    expect(before.status).toBe(200);
    expect(before.body).toMatchObject({ model_version: 'v1-e2e', strategy: 'personalized' });
    expect(ids(before.body)).toHaveLength(10);

    // The user views a product far from their list; their next answer follows the click.
    let clicked = '';
    let similarToClicked = { status: 0, body: {} as Record<string, unknown> };
    for (const p of shopProducts) {
      if (ids(before.body).includes(p)) continue;
      const r = await serve(`/items/${p}/similar`, { k: '5' });
      if (r.status === 200 && ids(r.body).length === 5 && !ids(before.body).includes(ids(r.body)[0] ?? '')) {
        clicked = p;
        similarToClicked = r;
        break;
      }
    }
    expect(clicked).not.toBe('');
    const clicks = [clicked, clicked].map((product_id, n) => ({
      event_id: `e2e-click-${n}`,
      event_type: 'product_view',
      event_time: new Date(Date.now() - 1000 + n).toISOString(),
      session_id: 'e2e-session',
      user_id: user,
      product_id,
    }));
    const started = Date.now();
    const tally = await sendThroughIngest(clicks, { ingest: localIngest(runtime.env) });
    expect(tally.accepted).toBe(2);
    await runtime.drain({ timeoutMs: 30_000 });
    const after = await serve(`/users/${user}/recommendations`, { k: '10' });
    const reactedInMs = Date.now() - started;
    expect(ids(after.body)).not.toEqual(ids(before.body));
    expect(ids(after.body)).not.toContain(clicked);
    expect(ids(after.body).slice(0, 3)).toContain(ids(similarToClicked.body)[0]);
    expect(reactedInMs).toBeLessThan(10_000);

    // v2 (different event weights) changes the answers; rollback restores v1's exactly.
    const similarV1 = await serve(`/items/${shopProducts[0]}/similar`, { k: '10' });
    await trainPublishActivate({
      version: 'v2-e2e',
      model: 'blend',
      weights: { view: 1, cart: 1, purchase: 1 },
    });
    const similarV2 = await serve(`/items/${shopProducts[0]}/similar`, { k: '10' });
    expect(similarV2.body.model_version).toBe('v2-e2e');
    expect(similarV2.body.items).not.toEqual(similarV1.body.items);
    await activateVersion({ version: 'v1-e2e' }, deps);
    const rolledBack = await serve(`/items/${shopProducts[0]}/similar`, { k: '10' });
    expect(rolledBack.body.model_version).toBe('v1-e2e');
    expect(rolledBack.body.items).toEqual(similarV1.body.items);

    // A deliberately broken model (random scores) is refused and cannot be published.
    const broken = prepareRun({ version: 'v3-broken', model: 'random' }, new Date());
    const refused = await trainAndEvaluate({ run: broken, interactionsUri }, deps);
    expect(refused.gate.passed).toBe(false);
    expect(refused.gate.reasons.join(' ')).toContain('does not beat popularity');
    await expect(
      publishCandidate({ version: 'v3-broken', artifactUri: refused.artifactUri }, deps),
    ).rejects.toThrow(PublishError);
    const registry = await deps.store.listRegistry();
    expect(registry.map((e) => [e.version, e.status])).toEqual([
      ['v3-broken', 'rejected'],
      ['v2-e2e', 'retired'],
      ['v1-e2e', 'active'],
    ]);
    expect((await serve(`/items/${shopProducts[0]}/similar`)).body.model_version).toBe('v1-e2e');
  });
});
