/**
 * An A/B test between two model versions end to end on the local runtime: two versions trained
 * and published by the training state machine → `shoplake models ab start` → the real
 * recommendations handler serves 1,600 shoppers (arm and version in every answer, stable per
 * shopper) → impression / click / add-to-cart / purchase events for those answers with
 * different true rates per arm, sent through the ingest API → ETL → gold.rec_ab_arms equals an
 * independent count over the generated events, and each difference's 95% interval contains the
 * true difference → `shoplake models ab status` prints it → a training run during the test
 * publishes without ending it → `shoplake models ab stop --winner` leaves one active model.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecommendationsHandler } from '../../lambdas/recommendations/recommendations.ts';
import { documentClient } from '../../lambdas/shared/aws-clients.ts';
import { DynamoFeatureStore } from '../../lambdas/shared/features/dynamo-store.ts';
import { seededRng } from '../../lambdas/shared/recommender/rng.ts';
import { localRecommendationStore, runLocalTraining } from '../../local/cli/commands/train.ts';
import { openLocalEngine } from '../../local/engine/open.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { localIngest } from '../../local/runtime/handlers.ts';
import { getProxyEvent } from '../../local/runtime/http-server.ts';
import { sendThroughIngest } from '../../local/runtime/replay.ts';
import { type EmbeddedRuntime, startLocalRuntime } from '../../local/runtime/runtime.ts';
import { runLocalEtl } from '../../local/sfn/etl-runner.ts';
import { cli } from './helpers/cli.ts';

let dir: string;
let stateDir: string;

/** True per-impression rates of each arm: click; add to cart given a click; purchase given a cart. */
const TRUE_RATES = {
  A: { click: 0.2, cart: 0.4, buy: 0.5 },
  B: { click: 0.3, cart: 0.5, buy: 0.6 },
} as const;
const SHOPPERS = 1_600;
const EXPERIMENT = 'exp-ab-e2e';

/** Runs `fn` on a started runtime over the shared state dir (the CLI needs it stopped). */
async function withLocalRuntime<T>(fn: (runtime: EmbeddedRuntime) => Promise<T>): Promise<T> {
  const runtime = await startLocalRuntime({ stateDir, persist: true });
  try {
    return await fn(runtime);
  } finally {
    await runtime.stop();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reco-ab-'));
  stateDir = join(dir, 'state');
  await withLocalRuntime(async (runtime) => {
    const shop = generateShop({
      seed: 11,
      events: 8_000,
      users: 400,
      products: 150,
      days: 2,
      end: Date.now() - 3_600_000,
    });
    const tally = await sendThroughIngest(shop.events(), { ingest: localIngest(runtime.env) });
    expect(tally.accepted).toBeGreaterThan(7_500);
    await runtime.drain({ timeoutMs: 120_000 });
    const engine = await openLocalEngine(runtime.stateDir);
    try {
      const etl = await runLocalEtl({ engine, lakeDir: runtime.lakeDir, input: { full: true } });
      expect(etl.status).toBe('SUCCEEDED');
      for (const version of ['v-ab-1', 'v-ab-2']) {
        const r = await runLocalTraining({ runtime, engine, input: { version, model: 'blend' } });
        expect(r.status).toBe('SUCCEEDED');
      }
    } finally {
      await engine.close();
    }
  });
}, 600_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Two-sided 95% Wilson interval. */
function wilson(x: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = x / n;
  const c = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [c - h, c + h];
}

interface Served {
  user: string;
  arm: 'A' | 'B';
  version: string;
  recId: string;
  items: string[];
}

interface Cell {
  impressions: number;
  clicks: number;
  carts: number;
  conversions: number;
}

/** The per-arm definition of gold.rec_ab_arms, counted directly over the generated events. */
function independentCount(events: readonly Record<string, unknown>[]): Record<'A' | 'B', Cell> {
  const impressions = new Map<string, { arm: 'A' | 'B'; items: string[] }>();
  for (const e of events) {
    if (e.event_type !== 'recommendation_impression' || impressions.has(String(e.rec_id))) continue;
    impressions.set(String(e.rec_id), { arm: e.ab_arm as 'A' | 'B', items: e.rec_items as string[] });
  }
  const firstClick = new Map<string, { session: string; product: string; at: number }[]>();
  for (const e of events) {
    if (e.event_type !== 'product_view' || !e.rec_id) continue;
    const imp = impressions.get(String(e.rec_id));
    if (!imp?.items.includes(String(e.product_id))) continue;
    const list = firstClick.get(String(e.rec_id)) ?? [];
    const at = Date.parse(String(e.event_time));
    const same = list.find((c) => c.product === e.product_id && c.session === e.session_id);
    if (same) same.at = Math.min(same.at, at);
    else list.push({ session: String(e.session_id), product: String(e.product_id), at });
    firstClick.set(String(e.rec_id), list);
  }
  const after = (type: string, session: string, product: string, at: number) =>
    events.some((e) => {
      if (e.session_id !== session || Date.parse(String(e.event_time)) < at) return false;
      if (type === 'add_to_cart') return e.event_type === 'add_to_cart' && e.product_id === product;
      return (
        e.event_type === 'purchase' &&
        (e.items as { product_id: string }[]).some((l) => l.product_id === product)
      );
    });
  const out: Record<'A' | 'B', Cell> = {
    A: { impressions: 0, clicks: 0, carts: 0, conversions: 0 },
    B: { impressions: 0, clicks: 0, carts: 0, conversions: 0 },
  };
  for (const [recId, imp] of impressions) {
    const cell = out[imp.arm];
    cell.impressions++;
    const clicks = firstClick.get(recId) ?? [];
    if (clicks.length > 0) cell.clicks++;
    if (clicks.some((c) => after('add_to_cart', c.session, c.product, c.at))) cell.carts++;
    if (clicks.some((c) => after('purchase', c.session, c.product, c.at))) cell.conversions++;
  }
  return out;
}

describe('A/B test between two model versions (local runtime, CLI, serving, lake)', () => {
  let served: Served[] = [];
  let generated: Record<string, unknown>[] = [];

  it('starts with shoplake models ab start; a second start and a plain rollback are refused', async () => {
    const r = await cli([
      '--state-dir',
      stateDir,
      'models',
      'ab',
      'start',
      '--control',
      'v-ab-1',
      '--treatment',
      'v-ab-2',
      '--split',
      '0.5',
      '--name',
      EXPERIMENT,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      version: 'v-ab-1',
      experiment: { name: EXPERIMENT, control: 'v-ab-1', treatment: 'v-ab-2', split: 0.5 },
    });
    const again = await cli([
      '--state-dir',
      stateDir,
      'models',
      'ab',
      'start',
      '--control',
      'v-ab-2',
      '--treatment',
      'v-ab-1',
    ]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`A/B test ${EXPERIMENT} is already running`);
    const rollback = await cli(['--state-dir', stateDir, 'models', 'rollback', 'v-ab-2']);
    expect(rollback.code).not.toBe(0);
    expect(rollback.stderr).toContain('stop it before activating v-ab-2');
    const badSplit = await cli([
      '--state-dir',
      stateDir,
      'models',
      'ab',
      'start',
      '--control',
      'v-ab-1',
      '--treatment',
      'v-ab-2',
      '--split',
      '1.5',
    ]);
    expect(badSplit.code).not.toBe(0);
    expect(badSplit.stderr).toContain('--split must be a number between 0 and 1');
  }, 120_000);

  it('serves every shopper the version of a stable arm; the generated traffic lands in gold per arm', async () => {
    const rng = seededRng(7);
    await withLocalRuntime(async (runtime) => {
      const client = documentClient(runtime.clients.dynamodb);
      const handle = createRecommendationsHandler({
        store: localRecommendationStore(runtime),
        features: new DynamoFeatureStore({ client, tableName: runtime.names.featuresTable }),
      });
      const serve = async (user: string) => {
        const res = await handle(getProxyEvent(`/users/${user}/recommendations`, { k: '5' }));
        expect(res.statusCode).toBe(200);
        return JSON.parse(res.body) as {
          rec_id: string;
          model_version: string;
          ab: { experiment: string; arm: 'A' | 'B' } | null;
          items: { product_id: string }[];
        };
      };
      served = [];
      for (let i = 0; i < SHOPPERS; i++) {
        const user = `ab-shopper-${i}`;
        const body = await serve(user);
        expect(body.ab?.experiment).toBe(EXPERIMENT);
        const arm = body.ab?.arm ?? 'A';
        expect(body.model_version).toBe(arm === 'A' ? 'v-ab-1' : 'v-ab-2');
        expect(body.items.length).toBeGreaterThan(0);
        served.push({
          user,
          arm,
          version: body.model_version,
          recId: body.rec_id,
          items: body.items.map((x) => x.product_id),
        });
      }
      // Stable per shopper: a second answer to the first 200 lands in the same arm.
      for (const s of served.slice(0, 200)) expect((await serve(s.user)).ab?.arm).toBe(s.arm);
      const shareB = served.filter((s) => s.arm === 'B').length / SHOPPERS;
      expect(Math.abs(shareB - 0.5)).toBeLessThan(4 * Math.sqrt(0.25 / SHOPPERS));

      // What shoppers did with the answers, at each arm's true rates.
      const t0 = Date.now() - 20 * 60_000;
      generated = [];
      let n = 0;
      const at = (i: number, step: number) => new Date(t0 + i * 500 + step * 50).toISOString();
      served.forEach((s, i) => {
        const base = { session_id: `ab-session-${i}`, user_id: s.user };
        const impression = {
          ...base,
          event_id: `ab-imp-${i}`,
          event_type: 'recommendation_impression',
          event_time: at(i, 0),
          rec_id: s.recId,
          rec_items: s.items,
          model_version: s.version,
          ab_experiment: EXPERIMENT,
          ab_arm: s.arm,
        };
        generated.push(impression);
        // Re-sent impressions (the tracker retries) count once.
        if (rng() < 0.05)
          generated.push({ ...impression, event_id: `ab-imp-${i}-again`, event_time: at(i, 1) });
        const rates = TRUE_RATES[s.arm];
        const product = s.items[Math.floor(rng() * s.items.length)] as string;
        if (rng() < rates.click) {
          generated.push({
            ...base,
            event_id: `ab-click-${i}`,
            event_type: 'product_view',
            event_time: at(i, 2),
            product_id: product,
            rec_id: s.recId,
          });
          if (rng() < rates.cart) {
            generated.push({
              ...base,
              event_id: `ab-cart-${i}`,
              event_type: 'add_to_cart',
              event_time: at(i, 3),
              product_id: product,
              price: 10,
            });
            if (rng() < rates.buy) {
              generated.push({
                ...base,
                event_id: `ab-buy-${i}`,
                event_type: 'purchase',
                event_time: at(i, 4),
                order_id: `ab-order-${n++}`,
                items: [{ product_id: product, quantity: 1, price: 10 }],
              });
            }
          }
        } else if (rng() < 0.05) {
          // Carting a shown item without clicking it is not a recommendation cart.
          generated.push({
            ...base,
            event_id: `ab-cart-${i}`,
            event_type: 'add_to_cart',
            event_time: at(i, 3),
            product_id: product,
            price: 10,
          });
        }
      });
      const tally = await sendThroughIngest(generated, { ingest: localIngest(runtime.env) });
      expect(tally.rejected).toBe(0);
      expect(tally.accepted).toBe(generated.length);
      await runtime.drain({ timeoutMs: 120_000 });
      const engine = await openLocalEngine(runtime.stateDir);
      try {
        const etl = await runLocalEtl({ engine, lakeDir: runtime.lakeDir, input: {} });
        expect(etl.status).toBe('SUCCEEDED');
        const rows = await engine.query(
          `SELECT * FROM gold.rec_ab_arms WHERE experiment = '${EXPERIMENT}' ORDER BY arm`,
        );
        const want = independentCount(generated);
        expect(rows.map((r) => r.arm)).toEqual(['A', 'B']);
        const z = 1.959963984540054;
        const [a, b] = rows as [Record<string, unknown>, Record<string, unknown>];
        expect(a.model_version).toBe('v-ab-1');
        expect(b.model_version).toBe('v-ab-2');
        for (const [arm, row] of [
          ['A', a],
          ['B', b],
        ] as const) {
          expect({
            impressions: Number(row.impressions),
            clicks: Number(row.clicks),
            carts: Number(row.carts),
            conversions: Number(row.conversions),
          }).toEqual(want[arm]);
          expect(Number(row.shoppers)).toBe(served.filter((s) => s.arm === arm).length);
        }
        const truth = {
          ctr: [TRUE_RATES.A.click, TRUE_RATES.B.click],
          cart_rate: [TRUE_RATES.A.click * TRUE_RATES.A.cart, TRUE_RATES.B.click * TRUE_RATES.B.cart],
          conversion_rate: [
            TRUE_RATES.A.click * TRUE_RATES.A.cart * TRUE_RATES.A.buy,
            TRUE_RATES.B.click * TRUE_RATES.B.cart * TRUE_RATES.B.buy,
          ],
        } as const;
        for (const [m, count] of [
          ['ctr', 'clicks'],
          ['cart_rate', 'carts'],
          ['conversion_rate', 'conversions'],
        ] as const) {
          const [na, nb] = [want.A.impressions, want.B.impressions];
          const [pa, pb] = [want.A[count] / na, want.B[count] / nb];
          expect(Number(a[m])).toBeCloseTo(pa, 12);
          expect(Number(b[m])).toBeCloseTo(pb, 12);
          const se = Math.sqrt((pa * (1 - pa)) / na + (pb * (1 - pb)) / nb);
          expect(Number(b[`${m}_diff_low`])).toBeCloseTo(pb - pa - z * se, 12);
          expect(Number(b[`${m}_diff_high`])).toBeCloseTo(pb - pa + z * se, 12);
          const pooled = (want.A[count] + want.B[count]) / (na + nb);
          const zStat = (pb - pa) / Math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb));
          expect(Number(b[`${m}_p_value`])).toBeCloseTo(2 * normalCdf(-Math.abs(zStat), 0, 1), 12);
          for (const [row, x, n] of [
            [a, want.A[count], na],
            [b, want.B[count], nb],
          ] as const) {
            expect(Number(row[`${m}_low`])).toBeCloseTo(wilson(x, n)[0], 12);
            expect(Number(row[`${m}_high`])).toBeCloseTo(wilson(x, n)[1], 12);
          }
          // The difference's 95% interval holds the true difference. (The traffic is fixed by the
          // seeds; a 95% interval misses the truth one time in twenty by design, so another seed
          // may legitimately fail one of these three checks.)
          const [ta, tb] = truth[m];
          expect(Number(b[`${m}_diff_low`])).toBeLessThan(tb - ta);
          expect(Number(b[`${m}_diff_high`])).toBeGreaterThan(tb - ta);
        }
        // The true CTR difference (10 points) is detected.
        expect(Number(b.ctr_p_value)).toBeLessThan(0.01);

        // A training run during the test publishes its version without ending the test. The A/B
        // traffic above is now part of the training data, so the candidate's NDCG can fall a few
        // per cent below v-ab-1's (measured from v-ab-1's own run): the regression gate is not
        // what this checks (reco-train-local.test.ts does), so it is opened here.
        const during = await runLocalTraining({
          runtime,
          engine,
          input: { version: 'v-ab-3', model: 'blend', maxRegression: 1 },
        });
        expect(during.status).toBe('SUCCEEDED');
        const store = localRecommendationStore(runtime);
        const pointer = await store.getActive(true);
        expect(pointer?.experiment?.name).toBe(EXPERIMENT);
        expect(pointer?.version).toBe('v-ab-1');
        expect((await store.getRegistryEntry('v-ab-3'))?.status).toBe('published');
      } finally {
        await engine.close();
      }
    });
  }, 600_000);

  it('shoplake models ab status prints the per-arm figures from gold', async () => {
    const json = await cli(['--state-dir', stateDir, 'models', 'ab', 'status', '--json']);
    expect(json.code, json.stderr).toBe(0);
    const status = JSON.parse(json.stdout) as {
      experiment: { name: string };
      arms: Record<string, unknown>[];
    };
    expect(status.experiment.name).toBe(EXPERIMENT);
    const want = independentCount(generated);
    expect(status.arms.map((r) => [r.arm, r.impressions, r.clicks, r.carts, r.conversions])).toEqual(
      (['A', 'B'] as const).map((arm) => [
        arm,
        want[arm].impressions,
        want[arm].clicks,
        want[arm].carts,
        want[arm].conversions,
      ]),
    );
    const text = await cli(['--state-dir', stateDir, 'models', 'ab', 'status']);
    expect(text.stdout).toContain(`A/B test ${EXPERIMENT}: running`);
    expect(text.stdout).toMatch(/B\s+v-ab-2\s+[\d,]+\s+CTR/);
    expect(text.stdout).toContain('p-value');
  }, 120_000);

  it('shoplake models ab stop --winner leaves the winner as the single active model', async () => {
    const bad = await cli(['--state-dir', stateDir, 'models', 'ab', 'stop', '--winner', 'v-ab-3']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('winner must be v-ab-1 (control) or v-ab-2 (treatment)');
    const r = await cli(['--state-dir', stateDir, 'models', 'ab', 'stop', '--winner', 'v-ab-2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const pointer = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(pointer.version).toBe('v-ab-2');
    expect(pointer.experiment).toBeUndefined();
    expect(pointer.last_experiment).toMatchObject({ name: EXPERIMENT, winner: 'v-ab-2' });
    await withLocalRuntime(async (runtime) => {
      const store = localRecommendationStore(runtime);
      expect((await store.getRegistryEntry('v-ab-1'))?.status).toBe('retired');
      expect((await store.getRegistryEntry('v-ab-2'))?.status).toBe('active');
      const handle = createRecommendationsHandler({
        store,
        features: new DynamoFeatureStore({
          client: documentClient(runtime.clients.dynamodb),
          tableName: runtime.names.featuresTable,
        }),
      });
      for (const s of served.slice(0, 100)) {
        const body = JSON.parse(
          (await handle(getProxyEvent(`/users/${s.user}/recommendations`))).body,
        ) as Record<string, unknown>;
        expect(body).toMatchObject({ model_version: 'v-ab-2', ab: null });
      }
    });
    const stopped = await cli(['--state-dir', stateDir, 'models', 'ab', 'status']);
    expect(stopped.stdout).toContain(`A/B test ${EXPERIMENT}: stopped`);
    expect(stopped.stdout).toContain('winner v-ab-2');
  }, 180_000);
});
