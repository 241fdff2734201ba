/**
 * The Glue jobs' code (glue-jobs/) on real engines: a PostgreSQL server of the test's own
 * (initdb + pg_ctl), local Spark 3.5 with the Iceberg runtime and the PostgreSQL JDBC driver,
 * writing shoplake's local warehouse; then the ETL state machine on DuckDB as usual.
 *
 * Scenario (issue 9): seed a shop, extract + ETL; change customers (one moves twice over two
 * runs), a price, delete a customer and a product, add orders; extract + ETL again; a run
 * with no source change writes nothing. Then the bad-input cases on the same Spark session.
 * Needs scripts/setup-spark-pg.sh (run by .ci/run): without pyspark/jars/PostgreSQL the suite
 * fails with the setup script's message, it never skips.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DuckdbEngine } from '../../local/engine/duckdb.ts';
import type { Row } from '../../local/engine/types.ts';
import { generateMarketing } from '../../local/generator/marketing.ts';
import { generateShop } from '../../local/generator/shop.ts';
import { type PostgresServer, startPostgres } from '../../local/oltp/postgres-server.ts';
import { OltpDatabase } from '../../local/oltp/source.ts';
import {
  type ExtractSummary,
  GlueJobError,
  glueExtractHook,
  LocalGlueJobs,
  sparkToolchain,
} from '../../local/oltp/spark-extract.ts';
import { type LocalEtlResult, runLocalEtl } from '../../local/sfn/etl-runner.ts';

const toJson = (v: unknown) =>
  JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? Number(x) : x)));

describe('Glue extract job on local Spark + PostgreSQL, then the ETL', () => {
  let dir: string;
  let pgServer: PostgresServer | undefined;
  let jobs: LocalGlueJobs | undefined;
  let engine: DuckdbEngine;
  let db: OltpDatabase;
  let lake: string;
  const summaries: ExtractSummary[][] = [];
  const runTimes: Date[] = [];

  const etl = async (): Promise<LocalEtlResult> => {
    const batch: ExtractSummary[] = [];
    const at = new Date();
    runTimes.push(at);
    const result = await runLocalEtl({
      engine,
      lakeDir: lake,
      input: { full: true },
      // The ExtractOltp and ExtractMarketing states, each its own Glue job run (as on AWS).
      extractOltp: glueExtractHook(jobs as LocalGlueJobs, (pgServer as PostgresServer).url, {
        sources: ['oltp'],
        snapshotAt: () => at,
        onSummary: (s) => batch.push(s),
      }),
      extractMarketing: glueExtractHook(jobs as LocalGlueJobs, (pgServer as PostgresServer).url, {
        sources: ['marketing'],
        snapshotAt: () => at,
        onSummary: (s) => batch.push(s),
      }),
    });
    summaries.push(batch);
    expect(result.status).toBe('SUCCEEDED');
    // Both Glue job states ran, each for its own source.
    expect(batch.map((s) => s.source)).toEqual(['oltp', 'marketing']);
    expect(Object.keys(result.oltp?.tables ?? {})).not.toContain('bronze.marketing_leads');
    expect(Object.keys(result.marketing?.tables ?? {})).toEqual([
      'bronze.marketing_leads',
      'bronze.marketing_deals',
    ]);
    return result;
  };
  const q = async (sql: string): Promise<Row[]> => toJson(await engine.query(sql));
  const pgq = async <T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]> =>
    (await db.db.query<T>(sql, params)).rows;
  const table = (s: ExtractSummary[], source: string, name: string) => {
    const t = s.find((x) => x.source === source)?.tables.find((x) => x.table === name);
    if (!t) throw new Error(`no summary for ${source}.${name}`);
    return t;
  };
  const snapshotIds = async () => {
    const out: Record<string, number | undefined> = {};
    for (const t of [
      'bronze.oltp_customers',
      'bronze.oltp_products',
      'bronze.oltp_orders',
      'bronze.oltp_order_lines',
      'bronze.oltp_reviews',
      'bronze.oltp_payments',
      'bronze.marketing_leads',
      'bronze.marketing_deals',
      'ops.extract_watermarks',
      'ops.extract_rejects',
    ]) {
      const tbl = await engine.table(t);
      out[t] = tbl.currentSnapshot()?.['snapshot-id'];
    }
    return out;
  };

  beforeAll(async () => {
    const toolchain = sparkToolchain(); // fails with the setup script's message
    dir = mkdtempSync(join(tmpdir(), 'shoplake-spark-'));
    lake = join(dir, 'lake');
    pgServer = await startPostgres(toolchain.pgBin);
    engine = await DuckdbEngine.open({ warehouseDir: join(lake, 'warehouse') });
    jobs = await LocalGlueJobs.start(join(lake, 'warehouse'), toolchain);
    db = await OltpDatabase.connect(pgServer.url);
    const shop = generateShop({ seed: 9, events: 4000, users: 60, products: 40, days: 30 });
    await db.seedCatalog(shop.customers, shop.products);
    await db.recordOrders(OltpDatabase.ordersFromPurchases(shop.events()));
    await db.recordReviews(OltpDatabase.reviewsFromEvents(shop.events()));
    await db.seedMarketing(
      generateMarketing({ seed: 9, leads: 300, start: new Date('2026-05-01T00:00:00Z') }),
    );
    await etl(); // run 1: first load (full)
    // Changes, batch 1: C1 moves, P1 changes price, new orders.
    const [c1, c2] = (
      await pgq<{ customer_id: string }>('SELECT customer_id FROM customers ORDER BY customer_id LIMIT 2')
    ).map((r) => r.customer_id);
    const [p1, p2] = (
      await pgq<{ product_id: string }>('SELECT product_id FROM products ORDER BY product_id LIMIT 2')
    ).map((r) => r.product_id);
    const [r1, r2] = (
      await pgq<{ review_id: string }>('SELECT review_id FROM reviews ORDER BY review_id LIMIT 2')
    ).map((r) => r.review_id);
    const [pay1] = (
      await pgq<{ payment_id: string }>(
        "SELECT payment_id FROM payments WHERE status = 'captured' ORDER BY payment_id LIMIT 1",
      )
    ).map((r) => r.payment_id);
    ids = {
      c1: c1 ?? '',
      c2: c2 ?? '',
      p1: p1 ?? '',
      p2: p2 ?? '',
      r1: r1 ?? '',
      r2: r2 ?? '',
      pay1: pay1 ?? '',
    };
    await db.moderateReview(ids.r1, 'hidden', new Date());
    await db.moveCustomer(ids.c1, 'DE', 'Berlin', new Date());
    await pgq('UPDATE products SET price = 19.99, updated_at = now() WHERE product_id = $1', [ids.p1]);
    await db.recordOrders([
      {
        order_id: 'NEW-1',
        customer_id: ids.c1,
        status: 'placed',
        order_time: '2026-11-30T10:00:00Z',
        currency: 'EUR',
        lines: [
          { product_id: ids.p1, quantity: 2, unit_price: 19.99 },
          { product_id: ids.p2, quantity: 1, unit_price: 5.5 },
        ],
      },
    ]);
    await etl(); // run 2: incremental
    // Changes, batch 2: C1 moves again, C2 and P2 are deleted, one more order.
    await db.moveCustomer(ids.c1, 'FR', 'Lyon', new Date());
    await pgq('DELETE FROM customers WHERE customer_id = $1', [ids.c2]);
    await pgq('DELETE FROM products WHERE product_id = $1', [ids.p2]);
    // A review and a payment deleted in the source (delete markers close them in silver).
    await pgq('DELETE FROM reviews WHERE review_id = $1', [ids.r2]);
    await pgq('DELETE FROM payments WHERE payment_id = $1', [ids.pay1]);
    await db.recordOrders([
      {
        order_id: 'NEW-2',
        customer_id: ids.c1,
        status: 'placed',
        order_time: '2026-12-01T09:00:00Z',
        currency: 'EUR',
        lines: [{ product_id: ids.p1, quantity: 3, unit_price: 19.99 }],
      },
    ]);
    await etl(); // run 3: incremental with deletes
  }, 900_000);
  let ids = { c1: '', c2: '', p1: '', p2: '', r1: '', r2: '', pay1: '' };

  afterAll(async () => {
    await jobs?.close();
    await db?.close();
    await engine?.close();
    await pgServer?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('first load is a full snapshot of every table; the incremental runs wrote only changed rows', async () => {
    const [first, second, third] = summaries;
    if (!first || !second || !third) throw new Error('runs missing');
    const customers = Number((await pgq<{ n: string }>('SELECT count(*) AS n FROM customers'))[0]?.n) + 1;
    expect(table(first, 'oltp', 'customers')).toMatchObject({ mode: 'full', rows_written: customers });
    expect(table(second, 'oltp', 'customers')).toMatchObject({
      mode: 'incremental',
      rows_written: 1,
      rows_deleted: 0,
    });
    expect(table(second, 'oltp', 'products')).toMatchObject({ mode: 'incremental', rows_written: 1 });
    expect(table(second, 'oltp', 'orders')).toMatchObject({ mode: 'incremental', rows_written: 1 });
    // order_lines has no change column: read in full, only the differences written.
    expect(table(second, 'oltp', 'order_lines')).toMatchObject({
      mode: 'full',
      rows_written: 2,
      rows_deleted: 0,
    });
    expect(table(third, 'oltp', 'customers')).toMatchObject({ rows_written: 1, rows_deleted: 1 });
    expect(table(third, 'oltp', 'products')).toMatchObject({ rows_written: 0, rows_deleted: 1 });
    expect(table(second, 'marketing', 'leads')).toMatchObject({ rows_written: 0, rows_deleted: 0 });
    // Reviews and payments: incremental on updated_at like orders (NEW-1's payment, the hidden
    // review), deletes detected by key comparison (run 3).
    const reviews = Number((await pgq<{ n: string }>('SELECT count(*) AS n FROM reviews'))[0]?.n) + 1;
    expect(reviews).toBeGreaterThan(10);
    expect(table(first, 'oltp', 'reviews')).toMatchObject({ mode: 'full', rows_written: reviews });
    expect(table(second, 'oltp', 'reviews')).toMatchObject({ mode: 'incremental', rows_written: 1 });
    expect(table(second, 'oltp', 'payments')).toMatchObject({ mode: 'incremental', rows_written: 1 });
    expect(table(third, 'oltp', 'reviews')).toMatchObject({ rows_written: 0, rows_deleted: 1 });
    expect(table(third, 'oltp', 'payments')).toMatchObject({ rows_written: 1, rows_deleted: 1 });
    // What bronze holds at run 2's snapshot time is exactly those rows.
    const at2 = runTimes[1]?.toISOString() ?? '';
    const rows = await q(
      `SELECT customer_id, city FROM bronze.oltp_customers WHERE snapshot_at = CAST('${at2}' AS timestamp with time zone)`,
    );
    expect(rows).toEqual([{ customer_id: ids.c1, city: 'Berlin' }]);
    const wm = await q(
      "SELECT count(*) AS n FROM ops.extract_watermarks WHERE table_name = 'customers' AND watermark IS NOT NULL",
    );
    expect(wm[0]?.n).toBe(3);
  });

  it('silver.dim_customer: contiguous SCD2 versions; the delete closes the last one', async () => {
    const c1 = await q(
      `SELECT city, valid_from, valid_to, is_current FROM silver.dim_customer WHERE customer_id = '${ids.c1}' ORDER BY valid_from`,
    );
    expect(c1.map((r) => r.city)).toEqual([expect.any(String), 'Berlin', 'Lyon']);
    expect(c1.map((r) => r.is_current)).toEqual([false, false, true]);
    expect(c1[0]?.valid_to).toEqual(c1[1]?.valid_from);
    expect(c1[1]?.valid_to).toEqual(c1[2]?.valid_from);
    expect(c1[2]?.valid_to).toBeNull();
    const c2 = await q(
      `SELECT valid_to, is_current FROM silver.dim_customer WHERE customer_id = '${ids.c2}' ORDER BY valid_from`,
    );
    expect(c2).toHaveLength(1);
    expect(c2[0]?.is_current).toBe(false);
    expect(new Date(String(c2[0]?.valid_to)).toISOString()).toBe(runTimes[2]?.toISOString());
    // Every other customer: exactly one current version, as in PostgreSQL.
    const current = await q('SELECT count(*) AS n FROM silver.dim_customer WHERE is_current');
    const live = await pgq<{ n: string }>('SELECT count(*) AS n FROM customers');
    expect(current[0]?.n).toBe(Number(live[0]?.n));
  });

  it('silver.dim_product: price history of the repriced product; the deleted one is closed', async () => {
    const p1 = await q(
      `SELECT CAST(price AS double) AS price, CAST(previous_price AS double) AS previous_price, is_current
       FROM silver.dim_product WHERE product_id = '${ids.p1}' ORDER BY valid_from`,
    );
    expect(p1).toHaveLength(2);
    expect(p1[1]).toMatchObject({ price: 19.99, is_current: true });
    expect(p1[1]?.previous_price).toBe(p1[0]?.price);
    const p2 = await q(`SELECT is_current, valid_to FROM silver.dim_product WHERE product_id = '${ids.p2}'`);
    expect(p2).toEqual([{ is_current: false, valid_to: expect.anything() }]);
  });

  it('gold.daily_sales equals an independent computation from the PostgreSQL data', async () => {
    const gold = await q(
      `SELECT CAST(sale_date AS varchar) AS d, orders, units, CAST(revenue AS varchar) AS revenue, cancelled_orders
       FROM gold.daily_sales ORDER BY sale_date`,
    );
    const pgRows = await pgq<Record<string, unknown>>(
      `WITH l AS (SELECT order_id, sum(quantity) AS units, sum(quantity * unit_price) AS amount FROM order_lines GROUP BY order_id)
       SELECT to_char((o.order_time AT TIME ZONE 'UTC')::date, 'YYYY-MM-DD') AS d,
              count(*) FILTER (WHERE o.status = 'placed')::int AS orders,
              coalesce(sum(l.units) FILTER (WHERE o.status = 'placed'), 0)::int AS units,
              to_char(coalesce(sum(l.amount) FILTER (WHERE o.status = 'placed'), 0), 'FM999999990.00') AS revenue,
              count(*) FILTER (WHERE o.status = 'cancelled')::int AS cancelled_orders
       FROM orders o JOIN l ON l.order_id = o.order_id GROUP BY 1 ORDER BY 1`,
    );
    expect(gold.length).toBeGreaterThan(10);
    expect(gold).toEqual(pgRows);
  });

  it('gold.marketing_funnel equals an independent count over the seeded leads and deals', async () => {
    const gold = await q(
      `SELECT CAST(month AS varchar) AS month, origin, leads, deals, median_days_to_close AS median,
              CAST(declared_monthly_revenue AS varchar) AS revenue
       FROM gold.marketing_funnel ORDER BY month, origin`,
    );
    const pgRows = await pgq<Record<string, unknown>>(
      `SELECT to_char(date_trunc('month', l.first_contact_date), 'YYYY-MM-DD') AS month,
              coalesce(nullif(trim(l.origin), ''), 'unknown') AS origin,
              count(*)::int AS leads, count(d.mql_id)::int AS deals,
              (percentile_cont(0.5) WITHIN GROUP (ORDER BY (d.won_date AT TIME ZONE 'UTC')::date - l.first_contact_date))::float8 AS median,
              to_char(coalesce(sum(d.declared_monthly_revenue), 0), 'FM999999990.00') AS revenue
       FROM marketing.leads l LEFT JOIN marketing.deals d ON d.mql_id = l.mql_id
       GROUP BY 1, 2 ORDER BY 1, 2`,
    );
    expect(gold.length).toBeGreaterThan(10);
    expect(gold).toEqual(pgRows);
    const deals = gold.reduce((s, r) => s + Number(r.deals), 0);
    expect(deals).toBeGreaterThan(10);
  });

  it('gold.payment_reconciliation equals an independent reconciliation of the PostgreSQL orders and payments', async () => {
    const gold = await q(
      `SELECT order_id, order_status, CAST(amount_due AS varchar) AS due, payments,
              CAST(net_paid AS varchar) AS net, status
       FROM gold.payment_reconciliation ORDER BY order_id`,
    );
    const pgRows = await pgq<Record<string, unknown>>(
      `WITH p AS (
         SELECT order_id, count(*)::int AS payments,
                sum(amount) FILTER (WHERE status IN ('captured', 'refunded')) AS captured,
                sum(amount) FILTER (WHERE status = 'refunded') AS refunded
         FROM payments GROUP BY order_id
       ), r AS (
         SELECT coalesce(o.order_id, p.order_id) AS order_id, o.status AS order_status,
                CASE WHEN o.status = 'placed' THEN o.total_amount ELSE 0 END AS due,
                coalesce(p.payments, 0) AS payments,
                coalesce(p.captured, 0) - coalesce(p.refunded, 0) AS net, o.order_id IS NULL AS orphan
         FROM orders o FULL JOIN p ON p.order_id = o.order_id
       )
       SELECT order_id, order_status, to_char(due, 'FM999999990.00') AS due, payments,
              to_char(net, 'FM999999990.00') AS net,
              CASE WHEN orphan THEN 'no_order'
                   WHEN order_status = 'cancelled' AND net > 0 THEN 'refund_due'
                   WHEN order_status = 'cancelled' THEN 'refunded'
                   WHEN net = due THEN 'paid' WHEN net = 0 THEN 'unpaid'
                   WHEN net < due THEN 'underpaid' ELSE 'overpaid' END AS status
       FROM r ORDER BY order_id COLLATE "C"`,
    );
    expect(gold.length).toBeGreaterThan(20);
    expect(gold).toEqual(pgRows);
    // The deleted payment's order is unpaid now; NEW-2 is paid.
    expect(gold.find((r) => r.order_id === ids.pay1.replace(/-P1$/, ''))?.status).toBe('unpaid');
    expect(gold.find((r) => r.order_id === 'NEW-2')).toMatchObject({ status: 'paid', payments: 1 });
    expect(gold.filter((r) => r.status === 'paid').length).toBeGreaterThan(20);
  });

  it('gold.product_ratings equals an independent count over the PostgreSQL reviews', async () => {
    const gold = await q(
      `SELECT product_id, reviews, round(avg_rating, 6) AS avg, rating_1, rating_2, rating_3, rating_4, rating_5, hidden_reviews
       FROM gold.product_ratings WHERE reviews > 0 OR hidden_reviews > 0 ORDER BY product_id`,
    );
    const pgRows = await pgq<Record<string, unknown>>(
      `SELECT product_id, count(*) FILTER (WHERE status = 'published')::int AS reviews,
              round(avg(rating) FILTER (WHERE status = 'published'), 6)::float8 AS avg,
              ${[1, 2, 3, 4, 5].map((k) => `count(*) FILTER (WHERE status = 'published' AND rating = ${k})::int AS rating_${k}`).join(', ')},
              count(*) FILTER (WHERE status = 'hidden')::int AS hidden_reviews
       FROM reviews GROUP BY product_id ORDER BY product_id COLLATE "C"`,
    );
    expect(gold.length).toBeGreaterThan(5);
    expect(gold).toEqual(pgRows);
    // The deleted review's product no longer counts it.
    const silver = await q(`SELECT is_deleted FROM silver.reviews WHERE review_id = '${ids.r2}'`);
    expect(silver).toEqual([{ is_deleted: true }]);
  });

  it('the embedded extract (PGlite) lands the same current state as the Glue job, table by table', async () => {
    // The PostgreSQL data as it is now, loaded into PGlite and snapshot by the embedded extract
    // into a lake of its own; then the current version of every key compared per bronze table.
    const embeddedDir = join(dir, 'embedded');
    const embedded = await DuckdbEngine.open({ warehouseDir: join(embeddedDir, 'warehouse') });
    const pglite = await OltpDatabase.open();
    try {
      const tables: [string, string, string[]][] = [
        ['customers', 'oltp_customers', ['customer_id']],
        ['products', 'oltp_products', ['product_id']],
        ['orders', 'oltp_orders', ['order_id']],
        ['order_lines', 'oltp_order_lines', ['order_id', 'line_no']],
        ['reviews', 'oltp_reviews', ['review_id']],
        ['payments', 'oltp_payments', ['payment_id']],
        ['marketing.leads', 'marketing_leads', ['mql_id']],
        ['marketing.deals', 'marketing_deals', ['mql_id']],
      ];
      for (const [source] of tables) {
        // row_to_json: every value as PostgreSQL prints it (dates stay dates, no local-time Date).
        const rows = (await pgq<{ j: string }>(`SELECT row_to_json(t)::text AS j FROM ${source} t`)).map(
          (r) => JSON.parse(r.j) as Record<string, unknown>,
        );
        for (let i = 0; i < rows.length; i += 200) {
          const chunk = rows.slice(i, i + 200);
          const cols = Object.keys(chunk[0] ?? {});
          const values: unknown[] = [];
          const tuples = chunk.map((r) => `(${cols.map((c) => `$${values.push(r[c])}`).join(', ')})`);
          await pglite.db.query(
            `INSERT INTO ${source} (${cols.join(', ')}) VALUES ${tuples.join(', ')}`,
            values,
          );
        }
      }
      await pglite.snapshotToBronze(embedded, new Date());
      const current = async (e: DuckdbEngine, bronze: string, key: string[]) => {
        // Timestamps compared to the millisecond: the embedded extract reads them through
        // PGlite's JS Dates (ms), Spark through JDBC (µs); now()-stamped updated_at has µs.
        const cols = (await e.table(`bronze.${bronze}`))
          .schema()
          .fields.filter((f) => f.name !== 'snapshot_at' && f.name !== 'is_deleted')
          .map((f) =>
            f.type === 'timestamptz' ? `date_trunc('millisecond', ${f.name}) AS ${f.name}` : f.name,
          );
        return toJson(
          await e.query(
            `SELECT ${cols.join(', ')} FROM (
               SELECT *, row_number() OVER (PARTITION BY ${key.join(', ')} ORDER BY snapshot_at DESC) AS rn
               FROM bronze.${bronze}) x
             WHERE rn = 1 AND NOT coalesce(is_deleted, false) ORDER BY ${key.join(', ')}`,
          ),
        );
      };
      for (const [, bronze, key] of tables) {
        const glue = await current(engine, bronze, key);
        expect(glue.length, bronze).toBeGreaterThan(0);
        expect([bronze, await current(embedded, bronze, key)]).toEqual([bronze, glue]);
      }
    } finally {
      await pglite.close();
      await embedded.close();
    }
  });

  it('a run with no source change writes nothing (no bronze or ops commit)', async () => {
    const before = await snapshotIds();
    const idle = await etl();
    // Nothing new in any fingerprinted bronze table (reviews and payments included): idle.
    expect(idle.extractSummary?.idle).toBe('true');
    const last = summaries[summaries.length - 1] ?? [];
    for (const s of last)
      for (const t of s.tables) expect([t.table, t.rows_written + t.rows_deleted]).toEqual([t.table, 0]);
    expect(await snapshotIds()).toEqual(before);
  });

  it('a change to payments alone is not idle: the idle check fingerprints the new bronze tables', async () => {
    const [pay] = await pgq<{ payment_id: string; order_id: string }>(
      "SELECT payment_id, order_id FROM payments WHERE status = 'captured' ORDER BY payment_id DESC LIMIT 1",
    );
    if (!pay) throw new Error('no captured payment');
    await pgq("UPDATE payments SET status = 'refunded', updated_at = now() WHERE payment_id = $1", [
      pay.payment_id,
    ]);
    const run = await etl();
    expect(table(summaries[summaries.length - 1] ?? [], 'oltp', 'payments')).toMatchObject({
      rows_written: 1,
    });
    expect(run.extractSummary?.idle).toBe('false');
    expect(await q(`SELECT status FROM silver.payments WHERE payment_id = '${pay.payment_id}'`)).toEqual([
      { status: 'refunded' },
    ]);
    // Refunded while the order stays placed: nothing paid any more.
    expect(
      await q(
        `SELECT status, CAST(net_paid AS varchar) AS net FROM gold.payment_reconciliation WHERE order_id = '${pay.order_id}'`,
      ),
    ).toEqual([{ status: 'unpaid', net: '0.00' }]);
  });

  describe('bad input', () => {
    it('a column added in the source is carried into bronze (schema evolution)', async () => {
      await pgq('ALTER TABLE customers ADD COLUMN loyalty_tier text');
      await pgq("UPDATE customers SET loyalty_tier = 'gold', updated_at = now() WHERE customer_id = $1", [
        ids.c1,
      ]);
      const s = await (jobs as LocalGlueJobs).run({
        source: 'oltp',
        pgUrl: (pgServer as PostgresServer).url,
        tables: ['customers'],
      });
      expect(s.tables[0]).toMatchObject({
        added_columns: ['loyalty_tier'],
        rows_written: expect.any(Number),
      });
      await engine.table('bronze.oltp_customers');
      const rows = await q(
        `SELECT loyalty_tier, count(*) AS n FROM bronze.oltp_customers GROUP BY loyalty_tier ORDER BY loyalty_tier NULLS FIRST`,
      );
      expect(rows).toContainEqual({ loyalty_tier: 'gold', n: 1 });
    });

    it('a dropped or retyped column fails the run naming table and column, with nothing written', async () => {
      const before = await snapshotIds();
      await pgq("UPDATE customers SET city = 'Rome', updated_at = now() WHERE customer_id = $1", [ids.c1]);
      await pgq('ALTER TABLE customers DROP COLUMN segment');
      await pgq('ALTER TABLE products ALTER COLUMN stock TYPE text');
      const err = await (jobs as LocalGlueJobs)
        .run({ source: 'oltp', pgUrl: (pgServer as PostgresServer).url })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(GlueJobError);
      const e = err as GlueJobError;
      expect(e.error).toBe('SchemaDriftError');
      expect(e.problems).toEqual([
        expect.stringMatching(/public\.customers: column segment was dropped/),
        expect.stringMatching(/public\.products: column stock changed type .*text.*bronze has int/),
      ]);
      expect(e.message).toMatch(/nothing was written/);
      expect(await snapshotIds()).toEqual(before);
      // Restored, the next run goes through.
      await pgq('ALTER TABLE customers ADD COLUMN segment text');
      await pgq('ALTER TABLE products ALTER COLUMN stock TYPE integer USING stock::integer');
    });

    it('duplicate keys are deduplicated deterministically and counted; null keys are rejected with a reason', async () => {
      await pgq('ALTER TABLE marketing.leads DROP CONSTRAINT leads_pkey');
      await pgq('ALTER TABLE marketing.leads ALTER COLUMN mql_id DROP NOT NULL');
      await pgq(
        `INSERT INTO marketing.leads VALUES ('dup-lead', '2026-06-03', 'page-b', 'email'), ('dup-lead', '2026-06-03', 'page-a', 'email'),
                                           (NULL, '2026-06-04', 'page-c', 'social')`,
      );
      const url = (pgServer as PostgresServer).url;
      const s = await (jobs as LocalGlueJobs).run({
        source: 'marketing',
        pgUrl: url,
        tables: ['leads'],
        runId: 'bad-1',
      });
      expect(s.tables[0]).toMatchObject({ duplicates: 1, rejected: 1, rows_written: 1 });
      await engine.table('bronze.marketing_leads');
      await engine.table('ops.extract_rejects');
      await engine.table('ops.extract_watermarks');
      const kept = await q("SELECT landing_page_id FROM bronze.marketing_leads WHERE mql_id = 'dup-lead'");
      expect(kept).toHaveLength(1);
      const rejects = await q(
        "SELECT table_name, reason, record FROM ops.extract_rejects WHERE run_id = 'bad-1'",
      );
      expect(rejects).toEqual([
        { table_name: 'leads', reason: 'null key column: mql_id', record: expect.stringContaining('page-c') },
      ]);
      const log = await q(
        "SELECT duplicates, rejected, rows_written FROM ops.extract_watermarks WHERE run_id = 'bad-1' AND table_name = 'leads'",
      );
      expect(log).toEqual([{ duplicates: 1, rejected: 1, rows_written: 1 }]);
      // Deterministic: a full re-extract keeps the same row (nothing new to write).
      const again = await (jobs as LocalGlueJobs).run({
        source: 'marketing',
        pgUrl: url,
        tables: ['leads'],
        mode: 'full',
      });
      expect(again.tables[0]).toMatchObject({ duplicates: 1, rows_written: 0 });
    });
  });
});
