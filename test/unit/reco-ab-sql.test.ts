/**
 * gold.rec_ab_arms (athena/etl_45_gold_rec_ab_arms.sql, Trino dialect) on the local DuckDB
 * engine: per-arm counts on hand-built traffic with the cases the definition excludes, the
 * statistics on textbook figures (Wilson 95% interval of 10/100, pooled two-proportion z-test of
 * 10/100 vs 20/100) and against @stdlib's normal CDF, and the engine's `normal_cdf` shim.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import normalCdf from '@stdlib/stats-base-dists-normal-cdf';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';

let dir: string;
let engine: DuckdbEngine;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'reco-ab-sql-'));
  engine = await DuckdbEngine.open({ warehouseDir: join(dir, 'warehouse') });
}, 120_000);

afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Ev {
  id: string;
  type: 'recommendation_impression' | 'product_view' | 'add_to_cart';
  minute: number;
  session: string;
  user: string | null;
  product?: string;
  recId?: string;
  attrs?: Record<string, string>;
}

const t = (minute: number) =>
  `from_iso8601_timestamp('2026-11-02T10:${String(minute).padStart(2, '0')}:00Z')`;
const q = (v: string | null | undefined) => (v === null || v === undefined ? 'NULL' : `'${v}'`);

async function insertEvents(events: readonly Ev[], run: string) {
  const values = events.map((e) => {
    const attrs = e.attrs
      ? `MAP {${Object.entries(e.attrs)
          .map(([k, v]) => `'${k}': '${v}'`)
          .join(', ')}}`
      : 'NULL';
    return `(1, '${e.id}', '${e.type}', ${t(e.minute)}, '${e.session}', ${q(e.user)}, ${q(e.product)}, ${q(e.recId)}, ${attrs}, DATE '2026-11-02', '${run}')`;
  });
  await engine.execute(
    `INSERT INTO silver.events (schema_version, event_id, event_type, event_time, session_id, user_id, product_id, rec_id, attributes, event_date, etl_run_id) VALUES ${values.join(', ')}`,
  );
}

async function insertOrder(
  id: string,
  session: string,
  product: string,
  minute: number,
  status: string,
  run: string,
) {
  await engine.execute(
    `INSERT INTO silver.orders (order_id, order_time, order_date, status, source, line_count, units, amount, session_id, etl_run_id)
     VALUES ('${id}', ${t(minute)}, DATE '2026-11-02', '${status}', 'event', 1, 1, 10, '${session}', '${run}')`,
  );
  await engine.execute(
    `INSERT INTO silver.order_lines (order_id, line_no, product_id, quantity, unit_price, line_amount, order_time, order_date, status, etl_run_id)
     VALUES ('${id}', 1, '${product}', 1, 10, 10, ${t(minute)}, DATE '2026-11-02', '${status}', '${run}')`,
  );
}

async function pending(run: string) {
  await engine.execute('DELETE FROM ops.etl_pending');
  await engine.execute(
    `INSERT INTO ops.etl_pending (run_id, date_from, date_to, registered_at) VALUES ('${run}', DATE '2026-11-02', DATE '2026-11-02', ${t(0)})`,
  );
}

const impression = (n: number, arm: 'A' | 'B', items: string[], minute = 1, session = `s${n}`): Ev => ({
  id: `i${n}`,
  type: 'recommendation_impression',
  minute,
  session,
  user: `u${n}`,
  recId: `${arm === 'A' ? 'v1' : 'v2'}:${n.toString(16).padStart(12, '0')}`,
  attrs: {
    rec_items: items.join(','),
    model_version: arm === 'A' ? 'v1' : 'v2',
    ab_experiment: 'exp-1',
    ab_arm: arm,
  },
});

/** Two-sided 95% Wilson interval, as the SQL defines it. */
function wilson(x: number, n: number): [number, number] {
  const z = 1.959963984540054;
  const p = x / n;
  const c = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const h = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [c - h, c + h];
}

describe('gold.rec_ab_arms', () => {
  it('counts impressions, clicks, carts and conversions per arm as defined, with textbook statistics', async () => {
    const events: Ev[] = [];
    // Arm A: 100 impressions, 10 clicked; arm B: 100 impressions, 20 clicked.
    for (let n = 0; n < 200; n++) {
      const arm = n < 100 ? 'A' : 'B';
      const imp = impression(n, arm, [`p${n % 7}`, `p${(n % 7) + 10}`]);
      events.push(imp);
      const k = n % 100;
      if (k < (arm === 'A' ? 10 : 20)) {
        events.push({ ...imp, id: `c${n}`, type: 'product_view', minute: 2, product: `p${(n % 7) + 10}` });
        // A second click on the same impression counts once.
        if (k === 0)
          events.push({ ...imp, id: `c2-${n}`, type: 'product_view', minute: 3, product: `p${n % 7}` });
      }
    }
    // A re-sent impression (another event id, same rec_id) counts once.
    events.push({ ...(events[0] as Ev), id: 'i0-again', minute: 4 });
    // Carts: after the click in the click's session count (A: 5; B: 10) …
    const cart = (n: number, product: string, minute: number): Ev => ({
      id: `a${n}-${minute}-${product}`,
      type: 'add_to_cart',
      minute,
      session: `s${n}`,
      user: `u${n}`,
      product,
    });
    for (let n = 0; n < 5; n++) events.push(cart(n, `p${(n % 7) + 10}`, 5));
    for (let n = 100; n < 110; n++) events.push(cart(n, `p${(n % 7) + 10}`, 5));
    // … a cart before the click, of an item not clicked, or without any click does not.
    events.push(cart(5, `p${(5 % 7) + 10}`, 1));
    events.push(cart(6, 'p6', 5));
    events.push(cart(50, `p${(50 % 7) + 10}`, 5));
    // A view carrying the rec_id of an item the impression did not show is not a click.
    events.push({
      ...impression(60, 'A', []),
      id: 'c-foreign',
      type: 'product_view',
      minute: 2,
      product: 'p999',
      attrs: undefined,
    });
    // A view of a shown item without the rec_id is not a click either.
    events.push({
      id: 'c-plain',
      type: 'product_view',
      minute: 2,
      session: 's61',
      user: 'u61',
      product: 'p12',
    });
    await insertEvents(events, 'r1');
    // Conversions: placed orders after the click in its session (A: 2; B: 4); a cancelled order
    // and an order placed before the click do not count.
    for (const n of [0, 1, 100, 101, 102, 103])
      await insertOrder(`o${n}`, `s${n}`, `p${(n % 7) + 10}`, 6, 'placed', 'r1');
    await insertOrder('o-cancelled', 's2', `p${(2 % 7) + 10}`, 6, 'cancelled', 'r1');
    await insertOrder('o-early', 's3', `p${(3 % 7) + 10}`, 0, 'placed', 'r1');
    await pending('r1');
    await engine.runFile('athena/etl_45_gold_rec_ab_arms.sql', { run_id: 'r1' });

    const rows = await engine.query('SELECT * FROM gold.rec_ab_arms ORDER BY arm');
    expect(
      rows.map((r) => [
        r.experiment,
        r.arm,
        r.model_version,
        Number(r.impressions),
        Number(r.clicks),
        Number(r.carts),
        Number(r.conversions),
        Number(r.shoppers),
      ]),
    ).toEqual([
      ['exp-1', 'A', 'v1', 100, 10, 5, 2, 100],
      ['exp-1', 'B', 'v2', 100, 20, 10, 4, 100],
    ]);
    const [a, b] = rows as [Record<string, unknown>, Record<string, unknown>];
    // Textbook figures (4 decimals): Wilson 10/100 = [0.0552, 0.1744]; 20/100 = [0.1334, 0.2888];
    // pooled z-test 10/100 vs 20/100: z = 1.980, p = 0.0477.
    expect(Number(a.ctr_low)).toBeCloseTo(0.0552, 4);
    expect(Number(a.ctr_high)).toBeCloseTo(0.1744, 4);
    expect(Number(b.ctr_low)).toBeCloseTo(0.1334, 4);
    expect(Number(b.ctr_high)).toBeCloseTo(0.2888, 4);
    expect(Number(b.ctr_p_value)).toBeCloseTo(0.0477, 4);
    expect(a.ctr_diff).toBeNull();
    expect(a.ctr_p_value).toBeNull();
    // Every figure against an independent computation (normal CDF from @stdlib).
    const z = 1.959963984540054;
    for (const [m, xa, xb] of [
      ['ctr', 10, 20],
      ['cart_rate', 5, 10],
      ['conversion_rate', 2, 4],
    ] as const) {
      const [pa, pb] = [xa / 100, xb / 100];
      expect(Number(a[m])).toBeCloseTo(pa, 12);
      expect(Number(b[m])).toBeCloseTo(pb, 12);
      expect([Number(a[`${m}_low`]), Number(a[`${m}_high`])]).toEqual(
        wilson(xa, 100).map((v) => expect.closeTo(v, 12)),
      );
      expect([Number(b[`${m}_low`]), Number(b[`${m}_high`])]).toEqual(
        wilson(xb, 100).map((v) => expect.closeTo(v, 12)),
      );
      const se = Math.sqrt((pa * (1 - pa)) / 100 + (pb * (1 - pb)) / 100);
      expect(Number(b[`${m}_diff`])).toBeCloseTo(pb - pa, 12);
      expect(Number(b[`${m}_diff_low`])).toBeCloseTo(pb - pa - z * se, 12);
      expect(Number(b[`${m}_diff_high`])).toBeCloseTo(pb - pa + z * se, 12);
      const pooled = (xa + xb) / 200;
      const zStat = (pb - pa) / Math.sqrt(pooled * (1 - pooled) * (2 / 100));
      expect(Number(b[`${m}_p_value`])).toBeCloseTo(2 * normalCdf(-Math.abs(zStat), 0, 1), 12);
    }
  });

  it('recomputes a test when a later run brings a click for an earlier impression', async () => {
    await insertEvents(
      [
        {
          id: 'late-click',
          type: 'product_view',
          minute: 30,
          session: 's150',
          user: 'u150',
          product: `p${(150 % 7) + 10}`,
          recId: `v2:${(150).toString(16).padStart(12, '0')}`,
        },
      ],
      'r2',
    );
    await pending('r2');
    await engine.runFile('athena/etl_45_gold_rec_ab_arms.sql', { run_id: 'r2' });
    const [b] = await engine.query("SELECT clicks, etl_run_id FROM gold.rec_ab_arms WHERE arm = 'B'");
    expect(Number(b?.clicks)).toBe(21);
    expect(b?.etl_run_id).toBe('r2');
  });

  it("shims Trino's normal_cdf on DuckDB to double precision", async () => {
    const xs = Array.from({ length: 161 }, (_, i) => -40 + i * 0.5).concat([
      -8.3, -7.071, 7.072, 0.01, 1.959963984540054,
    ]);
    const rows = await engine.query(
      `SELECT x, normal_cdf(0, 1, x) AS p, normal_cdf(2, 3, x) AS q FROM (VALUES ${xs.map((x) => `(CAST(${x} AS double))`).join(', ')}) v(x)`,
    );
    for (const r of rows) {
      const x = Number(r.x);
      const want = normalCdf(x, 0, 1);
      // Relative accuracy in the tails, absolute near the centre.
      expect(Math.abs(Number(r.p) - want)).toBeLessThanOrEqual(Math.max(1e-14, want * 1e-12));
      expect(Math.abs(Number(r.q) - normalCdf(x, 2, 3))).toBeLessThanOrEqual(1e-14);
    }
  });
});
