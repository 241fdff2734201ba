/**
 * The recommender's training SQL (Trino dialect) on the local DuckDB engine through the
 * dialect shim, checked against the direct TypeScript computation on the same data.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CooccurrencePair, forEachPair } from '../../lambdas/shared/recommender/cooccurrence.ts';
import {
  buildTrainingData,
  parseInteractionsCsv,
  shopperHistories,
} from '../../lambdas/shared/recommender/data.ts';
import { seededRng } from '../../lambdas/shared/recommender/rng.ts';
import { DEFAULT_EVENT_WEIGHTS, type Interaction } from '../../lambdas/shared/recommender/types.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';

const T0 = Date.parse('2026-11-01T00:00:00Z');
let dir: string;
let engine: DuckdbEngine;

/** Small seeded data with repeats, mixed event types and one basket above the cap. */
function fixture(): Interaction[] {
  const rng = seededRng(99);
  const types = ['view', 'cart', 'purchase'] as const;
  const out: Interaction[] = [];
  for (let u = 0; u < 30; u++) {
    const n = u === 0 ? 14 : 2 + Math.floor(rng() * 6);
    for (let k = 0; k < n; k++) {
      out.push({
        user: u % 7 === 0 ? `session:s${u}` : `u${u}`,
        item: `p${Math.floor(rng() * 12)}`,
        ts: T0 + Math.floor(rng() * 1000) * 60_000,
        type: types[Math.floor(rng() * 3)] ?? 'view',
      });
    }
  }
  return out;
}

const sqlTime = (ms: number) => `from_iso8601_timestamp('${new Date(ms).toISOString()}')`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reco-sql-'));
  engine = await DuckdbEngine.open({ warehouseDir: join(dir, 'warehouse') });
  const rows = fixture().map(
    (i) =>
      `('v1', '${i.user}', '${i.item}', '${i.type}', ${DEFAULT_EVENT_WEIGHTS[i.type]}, ${sqlTime(i.ts)}, NULL, NULL)`,
  );
  await engine.execute(
    `INSERT INTO ml.interactions (model_version, shopper, item_id, event_type, weight, event_time, session_id, category) VALUES ${rows.join(', ')}`,
  );
}, 120_000);

afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('athena/reco_cooccurrence.sql', () => {
  it('computes the same pairs, cosine and chance scores as the TypeScript implementation', async () => {
    const params = { model_version: 'v1', max_basket_items: 8, min_pairs: 1, neighbours: 1000 };
    const [result] = (await engine.runFile('athena/reco_cooccurrence.sql', params)).slice(-1);
    const sqlRows = (result?.rows ?? []).map((r) => ({
      item: String(r.item_id),
      neighbour: String(r.neighbour_id),
      co: Number(r.co),
      pairs: Number(r.pair_count),
      cosine: Number(r.cosine),
      chance: Number(r.chance),
    }));

    const data = buildTrainingData(shopperHistories(fixture(), DEFAULT_EVENT_WEIGHTS), DEFAULT_EVENT_WEIGHTS);
    const ts: CooccurrencePair[] = [];
    forEachPair(data, { maxBasketItems: 8, minPairs: 1 }, (p) => ts.push(p));
    const name = (i: number) => data.vocab.items[i] ?? '';
    const expected = new Map(ts.map((p) => [`${name(p.item)}>${name(p.neighbour)}`, p]));

    expect(sqlRows.length).toBe(ts.length);
    expect(sqlRows.length).toBeGreaterThan(50);
    for (const r of sqlRows) {
      const e = expected.get(`${r.item}>${r.neighbour}`);
      expect(e, `${r.item}>${r.neighbour}`).toBeDefined();
      expect(r.co).toBeCloseTo(e?.co ?? Number.NaN, 9);
      expect(r.pairs).toBe(e?.pairs);
      expect(r.cosine).toBeCloseTo(e?.cosine ?? Number.NaN, 9);
      expect(r.chance).toBeCloseTo(e?.chance ?? Number.NaN, 9);
    }
  });

  it('keeps the top-K neighbours by cosine with ties by neighbour id', async () => {
    const [result] = (
      await engine.runFile('athena/reco_cooccurrence.sql', {
        model_version: 'v1',
        max_basket_items: 100,
        min_pairs: 2,
        neighbours: 3,
      })
    ).slice(-1);
    const byItem = new Map<string, string[]>();
    for (const r of result?.rows ?? []) {
      const list = byItem.get(String(r.item_id)) ?? [];
      list.push(String(r.neighbour_id));
      byItem.set(String(r.item_id), list);
    }
    const data = buildTrainingData(shopperHistories(fixture(), DEFAULT_EVENT_WEIGHTS), DEFAULT_EVENT_WEIGHTS);
    const { topNeighbours } = await import('../../lambdas/shared/recommender/cooccurrence.ts');
    const lists = topNeighbours(data, 'cosine', { neighbours: 3, minPairs: 2 });
    for (const [item, ids] of byItem) {
      const idx = data.vocab.index.get(item) ?? -1;
      expect(ids).toEqual((lists[idx] ?? []).map((n) => data.vocab.items[n.idx]));
    }
    expect(byItem.size).toBeGreaterThan(5);
  });
});

describe('athena/reco_interactions_export.sql', () => {
  it('exports the run in the CSV layout the training Lambda parses', async () => {
    const [result] = (
      await engine.runFile('athena/reco_interactions_export.sql', { model_version: 'v1' })
    ).slice(-1);
    const rows = result?.rows ?? [];
    expect(rows.length).toBe(fixture().length);
    const csv = [
      'user_id,item_id,timestamp,event_type,session_id,category',
      ...rows.map((r) => `${r.user_id},${r.item_id},${r.timestamp},${r.event_type},,`),
    ].join('\n');
    const parsed = parseInteractionsCsv(csv);
    expect(parsed.rejected).toEqual([]);
    const key = (i: Interaction) => `${i.user}|${i.item}|${i.ts}|${i.type}`;
    expect(parsed.interactions.map(key).sort()).toEqual(fixture().map(key).sort());
  });
});

describe('athena/reco_interactions.sql', () => {
  it('extracts views, carts and placed purchase lines from silver.events with event weights', async () => {
    const line = (p: string, c: string) =>
      `CAST(ROW('${p}', 1, 2.5, '${c}') AS ROW(product_id varchar, quantity integer, price double, category varchar))`;
    const ev = (
      id: string,
      type: string,
      t: string,
      session: string,
      user: string | null,
      product: string | null,
      items: string,
      status: string | null,
    ) =>
      `(1, '${id}', '${type}', from_iso8601_timestamp('${t}'), '${session}', ${user ? `'${user}'` : 'NULL'}, ${product ? `'${product}'` : 'NULL'}, 'Toys', ${items}, ${status ? `'${status}'` : 'NULL'}, DATE '2026-11-02', 'r1')`;
    await engine.execute(
      `INSERT INTO silver.events (schema_version, event_id, event_type, event_time, session_id, user_id, product_id, category, items, order_status, event_date, etl_run_id) VALUES ${[
        ev('e1', 'product_view', '2026-11-02T09:00:00Z', 's1', null, 'p3', 'NULL', null),
        ev('e2', 'add_to_cart', '2026-11-02T09:01:00Z', 's1', 'u1', 'p3', 'NULL', null),
        ev(
          'e3',
          'purchase',
          '2026-11-02T09:05:00Z',
          's1',
          'u1',
          null,
          `ARRAY[${line('p3', 'Toys')}, ${line('p4', 'Books')}]`,
          'placed',
        ),
        ev(
          'e4',
          'purchase',
          '2026-11-02T09:06:00Z',
          's1',
          'u1',
          null,
          `ARRAY[${line('p9', 'Toys')}]`,
          'cancelled',
        ),
        ev('e5', 'page_view', '2026-11-02T09:07:00Z', 's1', 'u1', null, 'NULL', null),
        ev('e6', 'product_view', '2025-01-01T09:00:00Z', 's0', 'u0', 'p1', 'NULL', null),
      ].join(', ')}`,
    );
    await engine.runFile('athena/reco_interactions.sql', {
      model_version: 'v2',
      since: '2026-01-01T00:00:00Z',
      w_view: 1,
      w_cart: 3,
      w_purchase: 5,
    });
    const rows = await engine.query(
      "SELECT shopper, item_id, event_type, weight, category FROM ml.interactions WHERE model_version = 'v2' ORDER BY event_time, item_id",
    );
    expect(rows.map((r) => [r.shopper, r.item_id, r.event_type, Number(r.weight), r.category])).toEqual([
      ['session:s1', 'p3', 'view', 1, 'Toys'],
      ['u1', 'p3', 'cart', 3, 'Toys'],
      ['u1', 'p3', 'purchase', 5, 'Toys'],
      ['u1', 'p4', 'purchase', 5, 'Books'],
    ]);
  });
});
