/**
 * gold.rec_impression_ctr (athena/etl_44_gold_rec_impression_ctr.sql, Trino dialect) on the
 * local DuckDB engine: true click-through per day, model version and position over generated
 * impression + click traffic, checked against an independent count made in TypeScript.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRng } from '../../lambdas/shared/recommender/rng.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';

let dir: string;
let engine: DuckdbEngine;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reco-impr-sql-'));
  engine = await DuckdbEngine.open({ warehouseDir: join(dir, 'warehouse') });
}, 120_000);

afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Row {
  id: string;
  type: 'recommendation_impression' | 'product_view';
  day: string;
  session: string;
  product: string | null;
  recId: string;
  items?: string[];
  version?: string;
  run: string;
}

function traffic(seed: number) {
  const rng = seededRng(seed);
  const rows: Row[] = [];
  const versions = ['v1', 'v2'];
  let n = 0;
  for (let k = 0; k < 300; k++) {
    const version = versions[k % 2] as string;
    const day = k < 150 ? '2026-11-02' : '2026-11-03';
    const recId = `${version}:${k.toString(16).padStart(12, '0')}`;
    const len = 3 + Math.floor(rng() * 4);
    const items: string[] = [];
    while (items.length < len) {
      const p = `p${Math.floor(rng() * 40)}`;
      if (!items.includes(p)) items.push(p);
    }
    const session = `s${k}`;
    rows.push({
      id: `i${n++}`,
      type: 'recommendation_impression',
      day,
      session,
      product: null,
      recId,
      items,
      version,
      run: 'r1',
    });
    // A re-sent impression (another event id, same rec_id) counts once.
    if (rng() < 0.1) {
      rows.push({
        id: `i${n++}`,
        type: 'recommendation_impression',
        day,
        session,
        product: null,
        recId,
        items,
        version,
        run: 'r1',
      });
    }
    // Clicks: earlier positions more often; sometimes twice; sometimes on the next day (run r2).
    for (let pos = 0; pos < len; pos++) {
      if (rng() < 0.3 / (pos + 1)) {
        const later = rng() < 0.2;
        const click = { type: 'product_view' as const, session, product: items[pos] as string, recId };
        rows.push({ ...click, id: `c${n++}`, day: later ? '2026-11-04' : day, run: later ? 'r2' : 'r1' });
        if (rng() < 0.2) rows.push({ ...click, id: `c${n++}`, day, run: 'r1' });
      }
    }
    // A view carrying the rec_id of a product the impression did not show is not a click on it.
    if (rng() < 0.1)
      rows.push({ id: `c${n++}`, type: 'product_view', day, session, product: 'p999', recId, run: 'r1' });
  }
  return rows;
}

/** The same metric counted directly: per (first day, version, position) impressions and clicked ones. */
function expected(rows: readonly Row[]) {
  const clicks = new Set(rows.filter((r) => r.type === 'product_view').map((r) => `${r.recId}|${r.product}`));
  const seen = new Set<string>();
  const out = new Map<string, { impressions: number; clicks: number }>();
  for (const r of rows) {
    if (r.type !== 'recommendation_impression' || seen.has(r.recId)) continue;
    seen.add(r.recId);
    r.items?.forEach((item, i) => {
      const key = `${r.day}|${r.version}|${i + 1}`;
      const cell = out.get(key) ?? { impressions: 0, clicks: 0 };
      cell.impressions++;
      if (clicks.has(`${r.recId}|${item}`)) cell.clicks++;
      out.set(key, cell);
    });
  }
  return out;
}

async function insert(rows: readonly Row[]) {
  const values = rows.map((r) => {
    const attrs =
      r.type === 'recommendation_impression'
        ? `MAP {'rec_items': '${r.items?.join(',')}', 'model_version': '${r.version}'}`
        : 'NULL';
    return `(1, '${r.id}', '${r.type}', from_iso8601_timestamp('${r.day}T10:00:00Z'), '${r.session}', NULL, ${r.product ? `'${r.product}'` : 'NULL'}, '${r.recId}', ${attrs}, DATE '${r.day}', '${r.run}')`;
  });
  await engine.execute(
    `INSERT INTO silver.events (schema_version, event_id, event_type, event_time, session_id, user_id, product_id, rec_id, attributes, event_date, etl_run_id) VALUES ${values.join(', ')}`,
  );
}

describe('gold.rec_impression_ctr', () => {
  it('equals an independent count of impressions and clicks per day, model version and position', async () => {
    const rows = traffic(5);
    // Run r1 first (impressions + same-day clicks), then r2 (late clicks) recomputes their days.
    await insert(rows.filter((r) => r.run === 'r1'));
    await engine.runFile('athena/etl_44_gold_rec_impression_ctr.sql', { run_id: 'r1' });
    await insert(rows.filter((r) => r.run === 'r2'));
    await engine.runFile('athena/etl_44_gold_rec_impression_ctr.sql', { run_id: 'r2' });
    const gold = await engine.query(
      'SELECT CAST(event_date AS varchar) AS d, model_version, position, impressions, clicks, ctr FROM gold.rec_impression_ctr ORDER BY 1, 2, 3',
    );
    const want = expected(rows);
    expect(gold).toHaveLength(want.size);
    let totalClicks = 0;
    for (const g of gold) {
      const cell = want.get(`${g.d}|${g.model_version}|${Number(g.position)}`);
      expect(cell, `${g.d} ${g.model_version} ${g.position}`).toBeDefined();
      expect(Number(g.impressions)).toBe(cell?.impressions);
      expect(Number(g.clicks)).toBe(cell?.clicks);
      expect(Number(g.ctr)).toBeCloseTo((cell?.clicks ?? 0) / (cell?.impressions ?? 1), 12);
      totalClicks += Number(g.clicks);
    }
    expect(totalClicks).toBeGreaterThan(20);
    // Late clicks (run r2) were attributed to their impression's day, not to the click's day.
    expect(gold.some((g) => g.d === '2026-11-04')).toBe(false);
  });
});
