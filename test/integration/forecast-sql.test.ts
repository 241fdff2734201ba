/**
 * The demand-forecasting feature SQL (athena/etl_60..64, Trino dialect) on the local DuckDB
 * engine, against an independent TypeScript computation on a small hand-made series: zero-fill
 * between the first sale and the lake's last day, a gap day (no data at all) that stays absent,
 * net demand with a cancellation document, lags, calendar rolling windows, incremental re-runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';

let dir: string;
let engine: DuckdbEngine;

const DAY = 86_400_000;
const D0 = Date.parse('2026-09-01T00:00:00Z');
const iso = (day: number) => new Date(D0 + day * DAY).toISOString().slice(0, 10);
/** Day 12 has no event and no order anywhere: a gap. Days 0..40 exist otherwise. */
const GAP = 12;
const LAST = 40;

interface Line {
  readonly order: string;
  readonly day: number;
  readonly product: string;
  readonly category: string;
  readonly qty: number;
  readonly price: number;
  readonly status: 'placed' | 'cancelled';
  readonly source: 'event' | 'oltp';
  readonly discount?: boolean;
}

/** p1: sells on most days with a weekly pattern; p2: intermittent, starts on day 9; p3 in cat B. */
function fixture(): Line[] {
  const lines: Line[] = [];
  let n = 0;
  for (let d = 0; d <= LAST; d++) {
    if (d === GAP) continue;
    const p1 = ((d * 7) % 5) + (d % 7 === 5 ? 4 : 0);
    if (p1 > 0)
      lines.push({
        order: `o${++n}`,
        day: d,
        product: 'p1',
        category: 'A',
        qty: p1,
        price: d % 10 === 3 ? 8 : 10,
        status: 'placed',
        source: 'event',
        discount: d % 10 === 3,
      });
    if (d >= 9 && d % 3 === 0)
      lines.push({
        order: `o${++n}`,
        day: d,
        product: 'p2',
        category: 'A',
        qty: 2,
        price: 5,
        status: 'placed',
        source: 'event',
      });
    if (d % 2 === 1)
      lines.push({
        order: `o${++n}`,
        day: d,
        product: 'p3',
        category: 'B',
        qty: 1,
        price: 20,
        status: 'placed',
        source: 'oltp',
      });
  }
  // A cancellation document (refund of 2 units of p1 on day 20) and an order cancelled in the
  // OLTP system (not demand, not a refund).
  lines.push({
    order: 'c1',
    day: 20,
    product: 'p1',
    category: 'A',
    qty: 2,
    price: 10,
    status: 'cancelled',
    source: 'event',
  });
  lines.push({
    order: 'c2',
    day: 21,
    product: 'p1',
    category: 'A',
    qty: 5,
    price: 10,
    status: 'cancelled',
    source: 'oltp',
  });
  return lines;
}

async function load(lines: readonly Line[], run: string): Promise<void> {
  const orders = lines.map(
    (l) =>
      `('${l.order}', 'cust-${l.order}', TIMESTAMP '${iso(l.day)} 10:00:00+00', DATE '${iso(l.day)}', '${l.status}', '${l.source}', 1, ${l.qty}, ${l.qty * l.price}, NULL, NULL, 'EUR', NULL, ${l.discount ? "'D10'" : 'NULL'}, '${run}')`,
  );
  await engine.execute(
    `INSERT INTO silver.orders (order_id, customer_id, order_time, order_date, status, source, line_count, units, amount, oltp_amount, amount_matches, currency, session_id, discount_code, etl_run_id) VALUES ${orders.join(', ')}`,
  );
  const ls = lines.map(
    (l) =>
      `('${l.order}', 1, '${l.product}', '${l.category}', ${l.qty}, ${l.price}, ${l.qty * l.price}, TIMESTAMP '${iso(l.day)} 10:00:00+00', DATE '${iso(l.day)}', '${l.status}', 'cust-${l.order}', '${run}')`,
  );
  await engine.execute(
    `INSERT INTO silver.order_lines (order_id, line_no, product_id, category, quantity, unit_price, line_amount, order_time, order_date, status, customer_id, etl_run_id) VALUES ${ls.join(', ')}`,
  );
  await engine.execute(
    `INSERT INTO ops.etl_pending (run_id, date_from, date_to, registered_at) VALUES ('${run}', DATE '${iso(0)}', DATE '${iso(LAST)}', TIMESTAMP '2026-10-15 00:00:00+00')`,
  );
}

async function runGold(run: string): Promise<void> {
  for (const f of [
    'etl_60_gold_demand_daily_delete',
    'etl_61_gold_demand_daily_insert',
    'etl_62_gold_demand_features_delete',
    'etl_63_gold_demand_features_insert',
    'etl_64_gold_demand_vs_actual',
  ])
    await engine.runFile(`athena/${f}.sql`, { run_id: run });
  await engine.execute(`DELETE FROM ops.etl_pending WHERE run_id = '${run}'`);
}

/** Independent computation: net units per (product, day) over the expected grid. */
function expectedSeries(lines: readonly Line[]): Map<string, Map<number, number>> {
  const lakeDays = new Set(lines.map((l) => l.day));
  const first = new Map<string, number>();
  for (const l of lines)
    if (l.status === 'placed') first.set(l.product, Math.min(first.get(l.product) ?? 1e9, l.day));
  const lastDay = Math.max(...lakeDays);
  const out = new Map<string, Map<number, number>>();
  for (const [p, f] of first) {
    const s = new Map<number, number>();
    for (let d = f; d <= lastDay; d++) if (lakeDays.has(d)) s.set(d, 0);
    out.set(p, s);
  }
  for (const l of lines) {
    const s = out.get(l.product);
    if (!s) continue;
    const delta = l.status === 'placed' ? l.qty : l.source === 'event' ? -l.qty : 0;
    s.set(l.day, (s.get(l.day) ?? 0) + delta);
  }
  return out;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]) => {
  if (xs.length < 2) return null;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1));
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'forecast-sql-'));
  engine = await DuckdbEngine.open({ warehouseDir: join(dir, 'warehouse') });
}, 120_000);

afterAll(async () => {
  await engine?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('demand SQL (athena/etl_60..64) on a hand-made series', () => {
  const all = fixture();
  // First load: days 0..30; the second run adds days 31..40 (incremental).
  const first = all.filter((l) => l.day <= 30);
  const second = all.filter((l) => l.day > 30);

  it('zero-fills between the first sale and the last lake day, skips the gap, nets cancellations', async () => {
    await load(first, 'r1');
    await runGold('r1');
    await load(second, 'r2');
    await runGold('r2');
    const rows = await engine.query<{ item_id: string; d: string; units: bigint; returned_units: bigint }>(
      "SELECT item_id, CAST(demand_date AS varchar) AS d, units, returned_units FROM gold.demand_daily WHERE level = 'product' ORDER BY item_id, demand_date",
    );
    const expected = expectedSeries(all);
    const got = new Map<string, Map<number, number>>();
    for (const r of rows) {
      const day = Math.round((Date.parse(`${r.d}T00:00:00Z`) - D0) / DAY);
      const m = got.get(r.item_id) ?? new Map<number, number>();
      m.set(day, Number(r.units));
      got.set(r.item_id, m);
    }
    expect([...got.keys()].sort()).toEqual(['p1', 'p2', 'p3']);
    for (const [p, s] of expected)
      expect(Object.fromEntries(got.get(p) ?? []), p).toEqual(Object.fromEntries(s));
    // The gap day is absent (not a zero), p2 starts at its first sale, day 20 nets the refund.
    expect(got.get('p1')?.has(GAP)).toBe(false);
    expect(Math.min(...(got.get('p2')?.keys() ?? []))).toBe(9);
    expect(rows.find((r) => r.item_id === 'p1' && r.d === iso(20))?.returned_units).toBe(2);
    // Category A is the sum of p1 and p2 on every day.
    const cat = await engine.query<{ d: string; units: bigint }>(
      "SELECT CAST(demand_date AS varchar) AS d, units FROM gold.demand_daily WHERE level = 'category' AND item_id = 'A' ORDER BY demand_date",
    );
    for (const r of cat) {
      const day = Math.round((Date.parse(`${r.d}T00:00:00Z`) - D0) / DAY);
      const sum = (expected.get('p1')?.get(day) ?? 0) + (expected.get('p2')?.get(day) ?? 0);
      expect(Number(r.units), r.d).toBe(sum);
    }
  });

  it('computes lags and calendar rolling windows like an independent computation', async () => {
    const expected = expectedSeries(all);
    const rows = await engine.query<Record<string, unknown>>(
      "SELECT item_id, CAST(feature_date AS varchar) AS d, units, lag_1, lag_7, lag_14, lag_28, mean_7, mean_28, std_7, days_28, history_days, day_of_week, share_of_category_28 FROM gold.demand_features WHERE level = 'product' ORDER BY item_id, feature_date",
    );
    const count = [...expected.values()].reduce((a, s) => a + s.size, 0);
    expect(rows.length).toBe(count);
    const num = (v: unknown) => (v === null ? null : Number(v));
    for (const r of rows) {
      const p = String(r.item_id);
      const s = expected.get(p) as Map<number, number>;
      const day = Math.round((Date.parse(`${String(r.d)}T00:00:00Z`) - D0) / DAY);
      const window = (w: number) =>
        Array.from({ length: w }, (_, k) => s.get(day - k)).filter((x): x is number => x !== undefined);
      const ctx = `${p} day ${day}`;
      expect(num(r.units), ctx).toBe(s.get(day));
      for (const k of [1, 7, 14, 28])
        expect(num(r[`lag_${k}`]), `${ctx} lag ${k}`).toBe(s.get(day - k) ?? null);
      expect(num(r.mean_7), ctx).toBeCloseTo(mean(window(7)), 9);
      expect(num(r.mean_28), ctx).toBeCloseTo(mean(window(28)), 9);
      const sd7 = sd(window(7));
      if (sd7 === null) expect(r.std_7, ctx).toBeNull();
      else expect(num(r.std_7), ctx).toBeCloseTo(sd7, 9);
      expect(num(r.days_28), ctx).toBe(window(28).length);
      expect(num(r.history_days), ctx).toBe(day - Math.min(...s.keys()));
      expect(num(r.day_of_week), ctx).toBe(((new Date(D0 + day * DAY).getUTCDay() + 6) % 7) + 1);
    }
    // Around the gap: lag_1 of the day after is NULL (no data), not 0.
    const afterGap = rows.find((r) => r.item_id === 'p1' && r.d === iso(GAP + 1));
    expect(afterGap?.lag_1).toBeNull();
  });

  it('a re-run with nothing pending leaves the tables unchanged', async () => {
    const before = (await engine.table('gold.demand_features')).currentSnapshot()?.['snapshot-id'];
    await runGold('r3');
    const after = (await engine.table('gold.demand_features')).currentSnapshot()?.['snapshot-id'];
    expect(after).toBe(before);
  });

  it('fills demand_vs_actual once the forecast day has actuals', async () => {
    await engine.execute(
      `INSERT INTO gold.demand_forecast (level, item_id, category, origin_date, forecast_date, horizon, model_version, model, forecast, lower, upper, flags, created_at) VALUES
       ('product', 'p1', 'A', DATE '${iso(39)}', DATE '${iso(40)}', 1, 'v1', 'gbm', 3.5, 1, 6, NULL, TIMESTAMP '2026-10-11 00:00:00+00'),
       ('product', 'p1', 'A', DATE '${iso(40)}', DATE '${iso(41)}', 1, 'v1', 'gbm', 4, 1, 6, NULL, TIMESTAMP '2026-10-11 00:00:00+00')`,
    );
    await runGold('r4');
    const rows = await engine.query<Record<string, unknown>>(
      'SELECT CAST(forecast_date AS varchar) AS d, actual, abs_error, pct_error, in_interval FROM gold.demand_vs_actual',
    );
    const actual = expectedSeries(all).get('p1')?.get(40) ?? -1;
    expect(rows).toEqual([
      {
        d: iso(40),
        actual,
        abs_error: Math.abs(3.5 - actual),
        pct_error: actual === 0 ? null : (3.5 - actual) / actual,
        in_interval: actual >= 1 && actual <= 6,
      },
    ]);
  });
});
