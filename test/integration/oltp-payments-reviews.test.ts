/**
 * OLTP payments and reviews (issue 9) on the embedded path: PGlite → bronze.oltp_payments /
 * oltp_reviews (the snapshot the ETL's Extract step takes locally) → silver.payments /
 * silver.reviews → gold.payment_reconciliation / gold.product_ratings, with the quality checks.
 * The Glue job path (real PostgreSQL + Spark) runs the same SQL in test/spark/glue-extract.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEtlOnStateDir } from '../../local/cli/commands/etl.ts';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import type { Row } from '../../local/engine/types.ts';
import { generateMarketing } from '../../local/generator/marketing.ts';
import { OltpDatabase, oltpDirOf } from '../../local/oltp/source.ts';
import { EtlRunFailedError, type LocalEtlResult, runLocalEtl } from '../../local/sfn/etl-runner.ts';

const T1 = new Date('2026-11-01T00:00:00Z');
const T2 = new Date('2026-11-10T00:00:00Z');
const T3 = new Date('2026-11-11T00:00:00Z');

const toJson = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)));

describe('OLTP payments and reviews through the lake (embedded PGlite extract)', () => {
  let dir: string;
  let lake: string;
  let engine: DuckdbEngine;
  let oltp: OltpDatabase;
  const runs: LocalEtlResult[] = [];

  const etl = async (at: Date) => {
    const run = await runLocalEtl({
      engine,
      lakeDir: lake,
      input: { full: true },
      extractOltp: (e) => oltp.snapshotToBronze(e, at),
    });
    expect(run.status).toBe('SUCCEEDED');
    runs.push(run);
    return run;
  };
  const q = async (sql: string): Promise<Row[]> => toJson(await engine.query(sql));
  const reconciliation = () =>
    q(
      `SELECT order_id, order_status, CAST(amount_due AS varchar) AS due, payments,
              CAST(net_paid AS varchar) AS net, CAST(difference AS varchar) AS diff, status
       FROM gold.payment_reconciliation ORDER BY order_id`,
    );
  const ratings = () =>
    q(
      `SELECT product_id, category, reviews, avg_rating, rating_1, rating_3, rating_5, hidden_reviews
       FROM gold.product_ratings ORDER BY product_id`,
    );

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'shoplake-payrev-'));
    lake = join(dir, 'lake');
    engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
    oltp = await OltpDatabase.open();
    await oltp.seedCatalog(
      [
        { customer_id: 'C1', name: 'Ada', country: 'GB', city: 'London' },
        { customer_id: 'C2', name: 'Ben', country: 'GB', city: 'Leeds' },
      ],
      [
        { product_id: 'P1', name: 'Mug', category: 'Tableware', price: 10, currency: 'GBP', stock: 5 },
        { product_id: 'P2', name: 'Tea', category: 'Food', price: 5.5, currency: 'GBP', stock: 9 },
      ],
    );
    const order = (order_id: string, status: 'placed' | 'cancelled', lines: [string, number, number][]) => ({
      order_id,
      customer_id: 'C1',
      status,
      order_time: '2026-10-30T10:00:00Z',
      currency: 'GBP',
      lines: lines.map(([product_id, quantity, unit_price]) => ({ product_id, quantity, unit_price })),
    });
    await oltp.recordOrders([
      order('O1', 'placed', [['P1', 2, 10]]),
      order('O2', 'placed', [['P2', 1, 5.5]]),
      order('O3', 'cancelled', [['P1', 1, 10]]),
    ]);
    await oltp.recordReviews([
      { review_id: 'R1', product_id: 'P1', customer_id: 'C1', rating: 5, created_at: '2026-10-31T09:00:00Z' },
      { review_id: 'R2', product_id: 'P1', customer_id: 'C2', rating: 3, created_at: '2026-10-31T10:00:00Z' },
      { review_id: 'R3', product_id: 'P2', customer_id: 'C1', rating: 1, created_at: '2026-10-31T11:00:00Z' },
    ]);
    await etl(T1);
    // Changes: O2 is cancelled (its payment refunded); O1 is cancelled in the backend without a
    // refund; O4 is paid in part, O5 only authorized; a payment names an order nobody knows;
    // R2 is hidden by moderation, R3's rating is edited.
    await oltp.cancelOrder('O2', T2);
    await oltp.db.query("UPDATE orders SET status = 'cancelled', updated_at = $1 WHERE order_id = 'O1'", [
      T2.toISOString(),
    ]);
    await oltp.recordOrders([
      order('O4', 'placed', [['P1', 3, 10]]),
      order('O5', 'placed', [['P2', 2, 5.5]]),
    ]);
    await oltp.db.query("UPDATE payments SET amount = 10, updated_at = $1 WHERE payment_id = 'O4-P1'", [
      T2.toISOString(),
    ]);
    await oltp.db.query(
      "UPDATE payments SET status = 'authorized', updated_at = $1 WHERE payment_id = 'O5-P1'",
      [T2.toISOString()],
    );
    await oltp.db.query(
      "INSERT INTO payments (payment_id, order_id, method, status, amount, currency, paid_at) VALUES ('X-P1', 'O-X', 'card', 'captured', 7.25, 'GBP', $1)",
      [T2.toISOString()],
    );
    await oltp.moderateReview('R2', 'hidden', T2);
    await oltp.db.query("UPDATE reviews SET rating = 2, updated_at = $1 WHERE review_id = 'R3'", [
      T2.toISOString(),
    ]);
    await etl(T2);
  }, 600_000);

  afterAll(async () => {
    await oltp?.close();
    await engine?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('bronze holds every snapshot of the payments and reviews tables, with their source types', async () => {
    const [p] = await q(
      `SELECT count(*) AS n, count(DISTINCT snapshot_at) AS snaps, sum(amount) AS total
       FROM bronze.oltp_payments WHERE snapshot_at = CAST('${T1.toISOString()}' AS timestamp with time zone)`,
    );
    expect(p).toEqual({ n: 3, snaps: 1, total: 20 + 5.5 + 10 });
    const [r] = await q(
      `SELECT count(*) AS n, sum(rating) AS stars FROM bronze.oltp_reviews
       WHERE snapshot_at = CAST('${T2.toISOString()}' AS timestamp with time zone)`,
    );
    expect(r).toEqual({ n: 3, stars: 5 + 3 + 2 });
  });

  it('silver.payments is the current state of every payment; money is exact', async () => {
    const rows = await q(
      'SELECT payment_id, order_id, status, CAST(amount AS varchar) AS amount, is_deleted FROM silver.payments ORDER BY payment_id',
    );
    expect(rows).toEqual([
      { payment_id: 'O1-P1', order_id: 'O1', status: 'captured', amount: '20.00', is_deleted: false },
      { payment_id: 'O2-P1', order_id: 'O2', status: 'refunded', amount: '5.50', is_deleted: false },
      { payment_id: 'O3-P1', order_id: 'O3', status: 'refunded', amount: '10.00', is_deleted: false },
      { payment_id: 'O4-P1', order_id: 'O4', status: 'captured', amount: '10.00', is_deleted: false },
      { payment_id: 'O5-P1', order_id: 'O5', status: 'authorized', amount: '11.00', is_deleted: false },
      { payment_id: 'X-P1', order_id: 'O-X', status: 'captured', amount: '7.25', is_deleted: false },
    ]);
  });

  it('gold.payment_reconciliation: every OLTP order against its payments', async () => {
    expect(await reconciliation()).toEqual([
      {
        order_id: 'O-X',
        order_status: null,
        due: '0.00',
        payments: 1,
        net: '7.25',
        diff: '7.25',
        status: 'no_order',
      },
      {
        order_id: 'O1',
        order_status: 'cancelled',
        due: '0.00',
        payments: 1,
        net: '20.00',
        diff: '20.00',
        status: 'refund_due',
      },
      {
        order_id: 'O2',
        order_status: 'cancelled',
        due: '0.00',
        payments: 1,
        net: '0.00',
        diff: '0.00',
        status: 'refunded',
      },
      {
        order_id: 'O3',
        order_status: 'cancelled',
        due: '0.00',
        payments: 1,
        net: '0.00',
        diff: '0.00',
        status: 'refunded',
      },
      {
        order_id: 'O4',
        order_status: 'placed',
        due: '30.00',
        payments: 1,
        net: '10.00',
        diff: '-20.00',
        status: 'underpaid',
      },
      {
        order_id: 'O5',
        order_status: 'placed',
        due: '11.00',
        payments: 1,
        net: '0.00',
        diff: '-11.00',
        status: 'unpaid',
      },
    ]);
    // Before the changes (run 1) O1 and O2 were paid: the rows were recomputed by run 2.
    const touched = await q(
      `SELECT order_id FROM gold.payment_reconciliation WHERE etl_run_id = '${runs[0]?.run?.run_id}' ORDER BY 1`,
    );
    expect(touched).toEqual([{ order_id: 'O3' }]);
  });

  it('gold.product_ratings: published reviews only, hidden ones counted apart', async () => {
    expect(await ratings()).toEqual([
      {
        product_id: 'P1',
        category: 'Tableware',
        reviews: 1,
        avg_rating: 5,
        rating_1: 0,
        rating_3: 0,
        rating_5: 1,
        hidden_reviews: 1,
      },
      {
        product_id: 'P2',
        category: 'Food',
        reviews: 1,
        avg_rating: 2,
        rating_1: 0,
        rating_3: 0,
        rating_5: 0,
        hidden_reviews: 0,
      },
    ]);
  });

  it('quality checks: a payment of an unknown order is a warning; the blocking checks pass', async () => {
    const checks = await q(
      `SELECT check_name, severity, passed, observed FROM ops.data_quality_results
       WHERE run_id = '${runs[1]?.run?.run_id}' AND (table_name IN ('silver.payments', 'silver.reviews'))
       ORDER BY check_name`,
    );
    expect(checks).toEqual([
      { check_name: 'silver_payments_amount_range', severity: 'blocking', passed: true, observed: 0 },
      { check_name: 'silver_payments_status_valid', severity: 'blocking', passed: true, observed: 0 },
      { check_name: 'silver_payments_unknown_order', severity: 'warning', passed: false, observed: 1 },
      { check_name: 'silver_reviews_rating_range', severity: 'blocking', passed: true, observed: 0 },
      { check_name: 'silver_reviews_unknown_product', severity: 'warning', passed: true, observed: 0 },
    ]);
  });

  it('a rerun with an unchanged source changes no silver or gold row', async () => {
    const stamp = () =>
      q(`SELECT 'p' AS t, payment_id AS id, etl_run_id FROM silver.payments
         UNION ALL SELECT 'r', review_id, etl_run_id FROM silver.reviews
         UNION ALL SELECT 'g', order_id, etl_run_id FROM gold.payment_reconciliation
         UNION ALL SELECT 'pr', product_id, etl_run_id FROM gold.product_ratings ORDER BY 1, 2`);
    const before = await stamp();
    await etl(T3);
    expect(await stamp()).toEqual(before);
  });

  it('a review with a rating outside 1..5 stops gold (blocking check); corrected, the next run goes through', async () => {
    // A source without the CHECK constraint lets a bad rating in.
    await oltp.db.exec('ALTER TABLE reviews DROP CONSTRAINT reviews_rating_check');
    await oltp.db.query(
      "INSERT INTO reviews (review_id, product_id, rating, created_at, updated_at) VALUES ('R9', 'P2', 7, $1, $1)",
      ['2026-11-11T12:00:00Z'],
    );
    const err = await runLocalEtl({
      engine,
      lakeDir: lake,
      input: { full: true },
      extractOltp: (e) => oltp.snapshotToBronze(e, new Date('2026-11-12T00:00:00Z')),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EtlRunFailedError);
    const failed = err as EtlRunFailedError;
    expect(failed.result.failedChecks.map((c) => c.check_name)).toEqual(['silver_reviews_rating_range']);
    // Kept visible in silver, not in gold.
    expect(await q("SELECT rating, is_deleted FROM silver.reviews WHERE review_id = 'R9'")).toEqual([
      { rating: 7, is_deleted: false },
    ]);
    expect((await ratings()).find((r) => r.product_id === 'P2')?.reviews).toBe(1);
    await oltp.db.query("UPDATE reviews SET rating = 4, updated_at = $1 WHERE review_id = 'R9'", [
      '2026-11-12T06:00:00Z',
    ]);
    await etl(new Date('2026-11-13T00:00:00Z'));
    expect((await ratings()).find((r) => r.product_id === 'P2')).toMatchObject({ reviews: 2, avg_rating: 3 });
  });
});

describe('OLTP reviews from review events', () => {
  it('one review per event id; events without a product or a 1..5 rating are not reviews', () => {
    const base = {
      event_type: 'review',
      user_id: 'C1',
      product_id: 'P1',
      event_time: '2026-11-05T10:00:00Z',
    };
    const reviews = OltpDatabase.reviewsFromEvents([
      { ...base, event_id: 'e1', rating: 4, text: 'good' },
      { ...base, event_id: 'e1', rating: 4, text: 'good' },
      { ...base, event_id: 'e2', rating: 6 },
      { ...base, event_id: 'e3', rating: 2, product_id: null },
      { ...base, event_id: 'e4', event_type: 'product_view', rating: 3 },
      { ...base, event_id: 'e5', rating: 1 },
    ]);
    expect(reviews).toEqual([
      {
        review_id: 'e1',
        product_id: 'P1',
        customer_id: 'C1',
        order_id: null,
        rating: 4,
        body: 'good',
        created_at: '2026-11-05T10:00:00Z',
      },
      {
        review_id: 'e5',
        product_id: 'P1',
        customer_id: 'C1',
        order_id: null,
        rating: 1,
        body: null,
        created_at: '2026-11-05T10:00:00Z',
      },
    ]);
  });
});

describe('shoplake etl on a state dir with the embedded OLTP database', () => {
  it('runs ExtractOltp and ExtractMarketing as two job runs, each extracting its own source', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'shoplake-payrev-cli-'));
    try {
      const db = await OltpDatabase.open(oltpDirOf(stateDir));
      await db.seedCatalog([{ customer_id: 'C1' }], [{ product_id: 'P1', price: 4, currency: 'EUR' }]);
      await db.recordOrders([
        {
          order_id: 'O1',
          customer_id: 'C1',
          status: 'placed',
          order_time: '2026-11-02T10:00:00Z',
          currency: 'EUR',
          lines: [{ product_id: 'P1', quantity: 3, unit_price: 4 }],
        },
      ]);
      await db.recordReviews([
        { review_id: 'R1', product_id: 'P1', rating: 4, created_at: '2026-11-03T10:00:00Z' },
      ]);
      await db.seedMarketing(
        generateMarketing({ seed: 3, leads: 40, start: new Date('2026-09-01T00:00:00Z') }),
      );
      await db.close();
      const r = await runEtlOnStateDir(stateDir, {});
      expect(r.status).toBe('SUCCEEDED');
      expect(r.oltp?.tables).toEqual({
        'bronze.oltp_customers': 1,
        'bronze.oltp_products': 1,
        'bronze.oltp_orders': 1,
        'bronze.oltp_order_lines': 1,
        'bronze.oltp_reviews': 1,
        'bronze.oltp_payments': 1,
      });
      expect(Object.keys(r.marketing?.tables ?? {})).toEqual([
        'bronze.marketing_leads',
        'bronze.marketing_deals',
      ]);
      // r.marketing is what the ExtractMarketing state's job run returned (r.oltp: ExtractOltp's).
      expect(r.marketing?.tables['bronze.marketing_leads']).toBe(40);
      const engine = await DuckdbEngine.open({ warehouseDir: join(stateDir, 'lake', 'warehouse') });
      try {
        expect(
          toJson(
            await engine.query(
              'SELECT order_id, status, CAST(net_paid AS varchar) AS net FROM gold.payment_reconciliation',
            ),
          ),
        ).toEqual([{ order_id: 'O1', status: 'paid', net: '12.00' }]);
        expect(toJson(await engine.query('SELECT sum(leads) AS leads FROM gold.marketing_funnel'))).toEqual([
          { leads: 40 },
        ]);
      } finally {
        await engine.close();
      }
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  }, 300_000);
});
