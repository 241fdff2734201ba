/**
 * SCD Type 2 from successive OLTP snapshots: the OLTP source is embedded PostgreSQL (PGlite),
 * extracted to bronze by the same snapshot code the ETL's Extract step runs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import { OltpDatabase } from '../../local/oltp/source.ts';
import { runLocalEtl } from '../../local/sfn/etl-runner.ts';
import { writeLandingFiles } from '../../local/sfn/landing.ts';

const T1 = new Date('2026-11-01T00:00:00Z');
const T2 = new Date('2026-11-10T00:00:00Z');
const T3 = new Date('2026-11-20T00:00:00Z');

describe('dim_customer / dim_product from OLTP snapshots', () => {
  let dir: string;
  let lake: string;
  let engine: DuckdbEngine;
  let oltp: OltpDatabase;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplake-scd2-'));
    lake = join(dir, 'lake');
    engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
    oltp = await OltpDatabase.open();
    await oltp.seedCatalog(
      [
        { customer_id: 'C1', name: 'Ada', country: 'GB', city: 'London', segment: 'consumer' },
        { customer_id: 'C2', name: 'Ben', country: 'GB', city: 'Leeds', segment: 'consumer' },
      ],
      [{ product_id: 'P1', name: 'Mug', category: 'Tableware', price: 10, currency: 'GBP', stock: 5 }],
    );
    await oltp.recordOrders([
      {
        order_id: 'O1',
        customer_id: 'C1',
        status: 'placed',
        order_time: '2026-11-05T10:00:00Z',
        currency: 'GBP',
        lines: [{ product_id: 'P1', quantity: 2, unit_price: 10 }],
      },
    ]);
    await oltp.snapshotToBronze(engine, T1);
    await oltp.moveCustomer('C1', 'DE', 'Berlin', T2);
    await oltp.changePrice('P1', 12.5, T2);
    await oltp.snapshotToBronze(engine, T2);
    await oltp.moveCustomer('C1', 'FR', 'Paris', T3);
    await oltp.cancelOrder('O1', T3);
    // One purchase event for O1 as well: the order is reconciled from both sources.
    writeLandingFiles(lake, [
      {
        schema_version: 1,
        event_id: 'e-o1',
        event_type: 'purchase',
        event_time: '2026-11-05T10:00:00.000Z',
        session_id: 's1',
        user_id: 'C1',
        order_id: 'O1',
        order_status: 'placed',
        items: [{ product_id: 'P1', quantity: 2, price: 10 }],
        attributes: {},
      },
    ]);
    const run = await runLocalEtl({
      engine,
      lakeDir: lake,
      input: { full: true },
      extractOltp: (e) => oltp.snapshotToBronze(e, T3),
    });
    expect(run.status).toBe('SUCCEEDED');
  }, 300_000);

  afterAll(async () => {
    await oltp?.close();
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a customer whose country changes twice has three contiguous versions', async () => {
    const rows = await engine.query<{
      country: string;
      city: string;
      valid_from: string;
      valid_to: string | null;
      is_current: boolean;
    }>(
      "SELECT country, city, valid_from, valid_to, is_current FROM silver.dim_customer WHERE customer_id = 'C1' ORDER BY valid_from",
    );
    expect(rows.map((r) => r.country)).toEqual(['GB', 'DE', 'FR']);
    expect(rows.map((r) => r.valid_from)).toEqual([T1.toISOString(), T2.toISOString(), T3.toISOString()]);
    expect(rows.map((r) => r.valid_to)).toEqual([T2.toISOString(), T3.toISOString(), null]);
    expect(rows.map((r) => r.is_current)).toEqual([false, false, true]);
    const c2 = await engine.query(
      "SELECT country, is_current FROM silver.dim_customer WHERE customer_id = 'C2'",
    );
    expect(c2).toEqual([{ country: 'GB', is_current: true }]);
  });

  it('keeps product price history', async () => {
    const rows = await engine.query(
      "SELECT price, previous_price, is_current FROM silver.dim_product WHERE product_id = 'P1' ORDER BY valid_from",
    );
    expect(rows).toEqual([
      { price: 10, previous_price: null, is_current: false },
      { price: 12.5, previous_price: 10, is_current: true },
    ]);
  });

  it('reconciles the order from events and OLTP, keeping the OLTP cancellation', async () => {
    const [order] = await engine.query(
      "SELECT status, source, amount, oltp_amount, amount_matches FROM silver.orders WHERE order_id = 'O1'",
    );
    expect(order).toEqual({
      status: 'cancelled',
      source: 'both',
      amount: 20,
      oltp_amount: 20,
      amount_matches: true,
    });
    const [ltv] = await engine.query(
      "SELECT country, orders, revenue, cancelled_revenue, lifetime_value FROM gold.customer_ltv WHERE customer_id = 'C1'",
    );
    // Cancelled in the OLTP system: not revenue, and not subtracted a second time.
    expect(ltv).toEqual({ country: 'FR', orders: 0, revenue: 0, cancelled_revenue: 20, lifetime_value: 0 });
  });

  it('a rerun with an unchanged source adds no version', async () => {
    const before = await engine.query('SELECT customer_sk FROM silver.dim_customer ORDER BY 1');
    const run = await runLocalEtl({
      engine,
      lakeDir: lake,
      input: { full: true },
      extractOltp: (e) => oltp.snapshotToBronze(e, new Date('2026-11-21T00:00:00Z')),
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(await engine.query('SELECT customer_sk FROM silver.dim_customer ORDER BY 1')).toEqual(before);
  });
});

describe('OLTP orders from purchase events', () => {
  it('counts a re-sent purchase (same event_id) once and merges split orders', () => {
    const line = { product_id: 'P1', quantity: 1, price: 5 };
    const base = {
      event_type: 'purchase',
      order_id: 'O9',
      user_id: 'C9',
      event_time: '2026-11-05T10:00:00Z',
    };
    const orders = OltpDatabase.ordersFromPurchases([
      { ...base, event_id: 'e1', items: [line] },
      { ...base, event_id: 'e1', items: [line] },
      { ...base, event_id: 'e2', event_time: '2026-11-05T09:59:00Z', items: [{ ...line, product_id: 'P2' }] },
      { ...base, event_id: 'e3', order_id: 'C10', order_status: 'cancelled', items: [line] },
    ]);
    expect(orders).toEqual([
      {
        order_id: 'O9',
        customer_id: 'C9',
        status: 'placed',
        order_time: '2026-11-05T09:59:00Z',
        currency: null,
        lines: [
          { product_id: 'P1', quantity: 1, unit_price: 5 },
          { product_id: 'P2', quantity: 1, unit_price: 5 },
        ],
      },
      {
        order_id: 'C10',
        customer_id: 'C9',
        status: 'cancelled',
        order_time: '2026-11-05T10:00:00Z',
        currency: null,
        lines: [{ product_id: 'P1', quantity: 1, unit_price: 5 }],
      },
    ]);
  });
});
