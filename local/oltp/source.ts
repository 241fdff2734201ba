/**
 * The shop's OLTP database: the customers / products / orders / order_lines / reviews /
 * payments schema a shop backend has, plus the marketing database's leads and deals (schema `marketing`, the Olist
 * marketing funnel shape). Locally it is embedded PostgreSQL (PGlite, WASM) by default, whose
 * extract here snapshots it into the bronze tables; `OltpDatabase.connect` seeds and changes
 * a real PostgreSQL server the same way, which the Glue job code (glue-jobs/, run on local
 * Spark by `local/oltp/spark-extract.ts`) extracts as it does on AWS. See docs/lakehouse.md.
 *
 * The embedded extract is a full snapshot stamped `snapshot_at`; bronze tables are change
 * logs of which a full snapshot is the simplest case (the SCD2 input of silver.dim_customer /
 * dim_product). `applyChanges` makes the source change between snapshots the way a live shop
 * does (customers move, prices change, orders get cancelled).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import {
  BRONZE_MARKETING_DEALS,
  BRONZE_MARKETING_LEADS,
  BRONZE_OLTP_CUSTOMERS,
  BRONZE_OLTP_ORDER_LINES,
  BRONZE_OLTP_ORDERS,
  BRONZE_OLTP_PAYMENTS,
  BRONZE_OLTP_PRODUCTS,
  BRONZE_OLTP_REVIEWS,
  qualifiedName,
  type TableSpec,
} from '../../lambdas/shared/catalog/index.ts';
import type { DuckdbEngine } from '../engine/duckdb.ts';
import type { MarketingData } from '../generator/marketing.ts';
import { duckdbType, quoteLiteral } from '../iceberg/schema.ts';
import type { OltpExtractResult } from '../sfn/etl-runner.ts';

export const OLTP_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS customers (
  customer_id text PRIMARY KEY,
  name text,
  email text,
  country text,
  city text,
  segment text,
  signup_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS products (
  product_id text PRIMARY KEY,
  name text,
  category text,
  price numeric(14, 2) CHECK (price >= 0),
  currency char(3),
  stock integer,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS orders (
  order_id text PRIMARY KEY,
  customer_id text,
  status text NOT NULL CHECK (status IN ('placed', 'cancelled')),
  order_time timestamptz NOT NULL,
  total_amount numeric(14, 2),
  currency char(3),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS order_lines (
  order_id text NOT NULL REFERENCES orders (order_id),
  line_no integer NOT NULL,
  product_id text NOT NULL,
  quantity integer NOT NULL CHECK (quantity > 0),
  unit_price numeric(14, 2) NOT NULL CHECK (unit_price >= 0),
  PRIMARY KEY (order_id, line_no)
);
CREATE TABLE IF NOT EXISTS reviews (
  review_id text PRIMARY KEY,
  product_id text NOT NULL,
  customer_id text,
  order_id text,
  rating smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
  title text,
  body text,
  status text NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'hidden')),
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS payments (
  payment_id text PRIMARY KEY,
  order_id text NOT NULL,
  method text NOT NULL,
  status text NOT NULL CHECK (status IN ('authorized', 'captured', 'refunded', 'failed')),
  amount numeric(14, 2) NOT NULL CHECK (amount >= 0),
  currency char(3),
  paid_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`;

/** The marketing database (schema `marketing`; a separate database on AWS, same tables). */
export const MARKETING_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS marketing;
CREATE TABLE IF NOT EXISTS marketing.leads (
  mql_id text PRIMARY KEY,
  first_contact_date date,
  landing_page_id text,
  origin text
);
CREATE TABLE IF NOT EXISTS marketing.deals (
  mql_id text PRIMARY KEY,
  seller_id text,
  sdr_id text,
  sr_id text,
  won_date timestamptz,
  business_segment text,
  lead_type text,
  lead_behaviour_profile text,
  business_type text,
  declared_product_catalog_size numeric,
  declared_monthly_revenue numeric(14, 2)
);
`;

/** What the seeding code needs of a PostgreSQL connection (PGlite, or node-postgres). */
export interface OltpSql {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
  close(): Promise<void>;
}

/** A real PostgreSQL server through node-postgres, as an `OltpSql`. */
class PgSql implements OltpSql {
  constructor(private readonly client: pg.Client) {}
  async query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }> {
    const r = await this.client.query(sql, params as unknown[] | undefined);
    return { rows: r.rows as T[], affectedRows: r.rowCount ?? 0 };
  }
  async exec(sql: string): Promise<unknown> {
    return this.client.query(sql);
  }
  async close(): Promise<void> {
    await this.client.end();
  }
}

export interface OltpCustomer {
  readonly customer_id: string;
  readonly name?: string | null;
  readonly email?: string | null;
  readonly country?: string | null;
  readonly city?: string | null;
  readonly segment?: string | null;
  readonly signup_at?: string | null;
}

export interface OltpProduct {
  readonly product_id: string;
  readonly name?: string | null;
  readonly category?: string | null;
  readonly price?: number | null;
  readonly currency?: string | null;
  readonly stock?: number | null;
}

export interface OltpOrder {
  readonly order_id: string;
  readonly customer_id?: string | null;
  readonly status: 'placed' | 'cancelled';
  readonly order_time: string;
  readonly currency?: string | null;
  readonly lines: readonly { product_id: string; quantity: number; unit_price: number }[];
}

export interface OltpReview {
  readonly review_id: string;
  readonly product_id: string;
  readonly customer_id?: string | null;
  readonly order_id?: string | null;
  readonly rating: number;
  readonly title?: string | null;
  readonly body?: string | null;
  readonly status?: 'published' | 'hidden';
  readonly created_at: string;
}

/** A review as events carry it (wire or normalised), for seeding OLTP reviews. */
export interface ReviewLike {
  readonly event_id?: string;
  readonly event_type?: string;
  readonly user_id?: string | null;
  readonly product_id?: string | null;
  readonly order_id?: string | null;
  readonly rating?: number | null;
  readonly text?: string | null;
  readonly event_time: string;
}

/** Payment methods the seeded shop uses (assigned deterministically per order). */
export const PAYMENT_METHODS = ['card', 'paypal', 'bank_transfer', 'voucher'] as const;

/** A purchase as events carry it (wire or normalised), for seeding OLTP orders. */
export interface PurchaseLike {
  readonly event_id?: string;
  readonly event_type?: string;
  readonly order_id?: string | null;
  readonly user_id?: string | null;
  readonly event_time: string;
  readonly currency?: string | null;
  readonly order_status?: string | null;
  readonly items?: readonly { product_id: string; quantity: number; price: number }[] | null;
}

const BATCH = 400;

export class OltpDatabase {
  private constructor(readonly db: OltpSql) {}

  /** Opens (and migrates) the embedded database; `dataDir` persists it, omitted = in memory. */
  static async open(dataDir?: string): Promise<OltpDatabase> {
    if (dataDir) mkdirSync(dataDir, { recursive: true });
    const db = dataDir ? new PGlite(dataDir) : new PGlite();
    await db.exec(OLTP_SCHEMA_SQL);
    await db.exec(MARKETING_SCHEMA_SQL);
    return new OltpDatabase(db as unknown as OltpSql);
  }

  /** Connects to a real PostgreSQL server (`postgres://user:pass@host:port/db`) and migrates it. */
  static async connect(url: string): Promise<OltpDatabase> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const db = new PgSql(client);
    await db.exec(OLTP_SCHEMA_SQL);
    await db.exec(MARKETING_SCHEMA_SQL);
    return new OltpDatabase(db);
  }

  /** Inserts marketing leads and deals that do not exist yet. */
  async seedMarketing(data: MarketingData): Promise<void> {
    await this.insertMany(
      'marketing.leads',
      ['mql_id', 'first_contact_date', 'landing_page_id', 'origin'],
      data.leads.map((l) => [l.mql_id, l.first_contact_date, l.landing_page_id, l.origin]),
      'ON CONFLICT (mql_id) DO NOTHING',
    );
    await this.insertMany(
      'marketing.deals',
      [
        'mql_id',
        'seller_id',
        'sdr_id',
        'sr_id',
        'won_date',
        'business_segment',
        'lead_type',
        'lead_behaviour_profile',
        'business_type',
        'declared_product_catalog_size',
        'declared_monthly_revenue',
      ],
      data.deals.map((d) => [
        d.mql_id,
        d.seller_id,
        d.sdr_id,
        d.sr_id,
        d.won_date,
        d.business_segment,
        d.lead_type,
        d.lead_behaviour_profile,
        d.business_type,
        d.declared_product_catalog_size,
        d.declared_monthly_revenue,
      ]),
      'ON CONFLICT (mql_id) DO NOTHING',
    );
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  private async insertMany(
    table: string,
    columns: string[],
    rows: unknown[][],
    conflict: string,
  ): Promise<void> {
    for (let i = 0; i < rows.length; i += BATCH) {
      const chunk = rows.slice(i, i + BATCH);
      const values: unknown[] = [];
      const tuples = chunk.map((r) => {
        const ph = r.map((v) => {
          values.push(v);
          return `$${values.length}`;
        });
        return `(${ph.join(', ')})`;
      });
      await this.db.query(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples.join(', ')} ${conflict}`,
        values,
      );
    }
  }

  /** Inserts customers and products that do not exist yet (existing rows keep their values). */
  async seedCatalog(customers: readonly OltpCustomer[], products: readonly OltpProduct[]): Promise<void> {
    await this.insertMany(
      'customers',
      ['customer_id', 'name', 'email', 'country', 'city', 'segment', 'signup_at'],
      customers.map((c) => [
        c.customer_id,
        c.name ?? null,
        c.email ?? null,
        c.country ?? null,
        c.city ?? null,
        c.segment ?? null,
        c.signup_at ?? null,
      ]),
      'ON CONFLICT (customer_id) DO NOTHING',
    );
    await this.insertMany(
      'products',
      ['product_id', 'name', 'category', 'price', 'currency', 'stock'],
      products.map((p) => [
        p.product_id,
        p.name ?? null,
        p.category ?? null,
        p.price ?? null,
        p.currency ?? null,
        p.stock ?? null,
      ]),
      'ON CONFLICT (product_id) DO NOTHING',
    );
  }

  /** Records orders (and their lines) that the database does not hold yet. */
  async recordOrders(orders: readonly OltpOrder[]): Promise<number> {
    const existing = new Set(
      (await this.db.query<{ order_id: string }>('SELECT order_id FROM orders')).rows.map((r) => r.order_id),
    );
    const fresh = orders.filter((o) => !existing.has(o.order_id));
    await this.insertMany(
      'orders',
      ['order_id', 'customer_id', 'status', 'order_time', 'total_amount', 'currency'],
      fresh.map((o) => [
        o.order_id,
        o.customer_id ?? null,
        o.status,
        o.order_time,
        Math.round(o.lines.reduce((s, l) => s + l.quantity * l.unit_price, 0) * 100) / 100,
        o.currency ?? null,
      ]),
      'ON CONFLICT (order_id) DO NOTHING',
    );
    await this.insertMany(
      'order_lines',
      ['order_id', 'line_no', 'product_id', 'quantity', 'unit_price'],
      fresh.flatMap((o) =>
        o.lines.map((l, i) => [o.order_id, i + 1, l.product_id, l.quantity, l.unit_price]),
      ),
      'ON CONFLICT (order_id, line_no) DO NOTHING',
    );
    // One payment per order, captured at order time for its total (refunded when the order
    // is cancelled); the method is a deterministic function of the order id.
    await this.insertMany(
      'payments',
      ['payment_id', 'order_id', 'method', 'status', 'amount', 'currency', 'paid_at'],
      fresh.map((o) => [
        `${o.order_id}-P1`,
        o.order_id,
        PAYMENT_METHODS[hashString(o.order_id) % PAYMENT_METHODS.length],
        o.status === 'cancelled' ? 'refunded' : 'captured',
        Math.round(o.lines.reduce((s, l) => s + l.quantity * l.unit_price, 0) * 100) / 100,
        o.currency ?? null,
        o.order_time,
      ]),
      'ON CONFLICT (payment_id) DO NOTHING',
    );
    return fresh.length;
  }

  /** Records reviews the database does not hold yet. */
  async recordReviews(reviews: readonly OltpReview[]): Promise<number> {
    const before = await this.db.query<{ n: number | string }>('SELECT count(*) AS n FROM reviews');
    await this.insertMany(
      'reviews',
      [
        'review_id',
        'product_id',
        'customer_id',
        'order_id',
        'rating',
        'title',
        'body',
        'status',
        'created_at',
        'updated_at',
      ],
      reviews.map((r) => [
        r.review_id,
        r.product_id,
        r.customer_id ?? null,
        r.order_id ?? null,
        r.rating,
        r.title ?? null,
        r.body ?? null,
        r.status ?? 'published',
        r.created_at,
        r.created_at,
      ]),
      'ON CONFLICT (review_id) DO NOTHING',
    );
    const after = await this.db.query<{ n: number | string }>('SELECT count(*) AS n FROM reviews');
    return Number(after.rows[0]?.n ?? 0) - Number(before.rows[0]?.n ?? 0);
  }

  /**
   * Reviews as the shop backend stores them from review events (the review id is the event id;
   * a re-sent event is one review). Events without a product or a rating in 1..5 are not reviews.
   */
  static reviewsFromEvents(events: Iterable<ReviewLike>): OltpReview[] {
    const byId = new Map<string, OltpReview>();
    for (const e of events) {
      if (e.event_type !== undefined && e.event_type !== 'review') continue;
      if (!e.event_id || !e.product_id || !Number.isInteger(e.rating)) continue;
      const rating = Number(e.rating);
      if (rating < 1 || rating > 5 || byId.has(e.event_id)) continue;
      byId.set(e.event_id, {
        review_id: e.event_id,
        product_id: e.product_id,
        customer_id: e.user_id ?? null,
        order_id: e.order_id ?? null,
        rating,
        body: e.text ?? null,
        created_at: e.event_time,
      });
    }
    return [...byId.values()];
  }

  /** A review hidden (or published again) by moderation. */
  async moderateReview(reviewId: string, status: 'published' | 'hidden', at: Date): Promise<void> {
    await this.db.query('UPDATE reviews SET status = $2, updated_at = $3 WHERE review_id = $1', [
      reviewId,
      status,
      at.toISOString(),
    ]);
  }

  /**
   * Orders as the shop backend records them from purchases: lines of every purchase event of
   * an order id (an order split over several events is one order).
   */
  static ordersFromPurchases(events: Iterable<PurchaseLike>): OltpOrder[] {
    const byId = new Map<
      string,
      { o: PurchaseLike; lines: { product_id: string; quantity: number; unit_price: number }[] }
    >();
    const seen = new Set<string>();
    for (const e of events) {
      if (e.event_type !== undefined && e.event_type !== 'purchase') continue;
      if (!e.order_id || !e.items || e.items.length === 0) continue;
      // A re-sent event (same event_id) is one purchase, not two.
      if (e.event_id !== undefined) {
        if (seen.has(e.event_id)) continue;
        seen.add(e.event_id);
      }
      const entry = byId.get(e.order_id) ?? { o: e, lines: [] };
      for (const l of e.items)
        entry.lines.push({ product_id: l.product_id, quantity: l.quantity, unit_price: l.price });
      // The order's header (customer, time, status, currency) is its earliest event's.
      if (e.event_time < entry.o.event_time) entry.o = e;
      byId.set(e.order_id, entry);
    }
    return [...byId.values()].map(({ o, lines }) => ({
      order_id: o.order_id ?? '',
      customer_id: o.user_id ?? null,
      status: o.order_status === 'cancelled' ? 'cancelled' : 'placed',
      order_time: o.event_time,
      currency: o.currency ?? null,
      lines,
    }));
  }

  /** A customer moves (country/city change): what SCD2 tracks. */
  async moveCustomer(customerId: string, country: string, city: string, at: Date): Promise<void> {
    await this.db.query(
      'UPDATE customers SET country = $2, city = $3, updated_at = $4 WHERE customer_id = $1',
      [customerId, country, city, at.toISOString()],
    );
  }

  /** A price change (dim_product price history). */
  async changePrice(productId: string, price: number, at: Date): Promise<void> {
    await this.db.query('UPDATE products SET price = $2, updated_at = $3 WHERE product_id = $1', [
      productId,
      price,
      at.toISOString(),
    ]);
  }

  /** An order cancelled in the backend after the purchase event was sent. */
  async cancelOrder(orderId: string, at: Date): Promise<void> {
    await this.db.query("UPDATE orders SET status = 'cancelled', updated_at = $2 WHERE order_id = $1", [
      orderId,
      at.toISOString(),
    ]);
    await this.refundPayments(at);
  }

  /** The captured payments of cancelled orders are refunded (at `at`). */
  private async refundPayments(at: Date): Promise<void> {
    await this.db.query(
      `UPDATE payments p SET status = 'refunded', updated_at = $1
       FROM orders o
       WHERE o.order_id = p.order_id AND o.status = 'cancelled' AND p.status = 'captured'`,
      [at.toISOString()],
    );
  }

  /**
   * Deterministic churn between two snapshots: every `every`-th customer moves, every
   * `every`-th product changes price by +10%, every `every * 5`-th order is cancelled (its
   * payment refunded).
   */
  async applyChanges(at: Date, every = 10): Promise<{ moved: number; repriced: number; cancelled: number }> {
    const moves: [string, string][] = [
      ['DE', 'Berlin'],
      ['FR', 'Paris'],
      ['NL', 'Amsterdam'],
      ['IE', 'Dublin'],
    ];
    const customers = (
      await this.db.query<{ customer_id: string }>('SELECT customer_id FROM customers ORDER BY customer_id')
    ).rows;
    let moved = 0;
    for (let i = 0; i < customers.length; i += every) {
      const c = customers[i];
      const [country, city] = moves[(i / every) % moves.length] ?? ['DE', 'Berlin'];
      if (c) {
        await this.moveCustomer(c.customer_id, country, city, at);
        moved++;
      }
    }
    const r1 = await this.db.query(
      `UPDATE products SET price = round(price * 1.1, 2), updated_at = $2
       WHERE abs(hashtext(product_id)) % $1 = 0`,
      [every, at.toISOString()],
    );
    const r2 = await this.db.query(
      `UPDATE orders SET status = 'cancelled', updated_at = $2
       WHERE status = 'placed' AND abs(hashtext(order_id)) % $1 = 0`,
      [every * 5, at.toISOString()],
    );
    await this.refundPayments(at);
    return { moved, repriced: r1.affectedRows ?? 0, cancelled: r2.affectedRows ?? 0 };
  }

  /**
   * Snapshots the tables (six OLTP, two marketing) into their bronze tables (one Iceberg commit per table) with
   * `snapshot_at`. Rows go through an NDJSON file read by DuckDB with the bronze column types.
   */
  async snapshotToBronze(
    engine: DuckdbEngine,
    snapshotAt: Date,
    sources: readonly ('oltp' | 'marketing')[] = ['oltp', 'marketing'],
  ): Promise<OltpExtractResult> {
    const at = snapshotAt.toISOString();
    const work = join(tmpdir(), `shoplake-oltp-${process.pid}-${Date.now()}`);
    mkdirSync(work, { recursive: true });
    const tables: Record<string, number> = {};
    try {
      const plan: [TableSpec, string][] = [
        [
          BRONZE_OLTP_CUSTOMERS,
          'SELECT customer_id, name, email, country, city, segment, signup_at, updated_at FROM customers',
        ],
        [
          BRONZE_OLTP_PRODUCTS,
          'SELECT product_id, name, category, price::float8 AS price, currency, stock, updated_at FROM products',
        ],
        [
          BRONZE_OLTP_ORDERS,
          'SELECT order_id, customer_id, status, order_time, total_amount::float8 AS total_amount, currency, updated_at FROM orders',
        ],
        [
          BRONZE_OLTP_ORDER_LINES,
          'SELECT order_id, line_no, product_id, quantity, unit_price::float8 AS unit_price FROM order_lines',
        ],
        [
          BRONZE_OLTP_REVIEWS,
          `SELECT review_id, product_id, customer_id, order_id, rating::int4 AS rating, title, body, status,
                  created_at, updated_at FROM reviews`,
        ],
        [
          BRONZE_OLTP_PAYMENTS,
          `SELECT payment_id, order_id, method, status, amount::float8 AS amount, currency, paid_at, updated_at
           FROM payments`,
        ],
        [
          BRONZE_MARKETING_LEADS,
          'SELECT mql_id, first_contact_date::text AS first_contact_date, landing_page_id, origin FROM marketing.leads',
        ],
        [
          BRONZE_MARKETING_DEALS,
          `SELECT mql_id, seller_id, sdr_id, sr_id, won_date, business_segment, lead_type, lead_behaviour_profile,
                  business_type, declared_product_catalog_size::float8 AS declared_product_catalog_size,
                  declared_monthly_revenue::float8 AS declared_monthly_revenue
           FROM marketing.deals`,
        ],
      ];
      const wanted = plan.filter(([spec]) =>
        sources.includes(spec.name.startsWith('marketing_') ? 'marketing' : 'oltp'),
      );
      for (const [spec, sql] of wanted) {
        const rows = (await this.db.query<Record<string, unknown>>(sql)).rows;
        const ident = qualifiedName(spec);
        if (rows.length === 0) {
          tables[ident] = 0;
          continue;
        }
        const file = join(work, `${spec.name}.jsonl`);
        writeFileSync(
          file,
          `${rows
            .map((r) =>
              JSON.stringify({ ...r, snapshot_at: at }, (_k, v: unknown) =>
                v instanceof Date ? v.toISOString() : v,
              ),
            )
            .join('\n')}\n`,
        );
        const table = await engine.table(ident);
        const fields = table.schema().fields;
        const columns = fields.map((f) => `${quoteLiteral(f.name)}: ${quoteLiteral(duckdbType(f.type))}`);
        const commit = await table.appendQuery(
          engine.connection,
          `SELECT ${fields.map((f) => f.name).join(', ')} FROM read_json(${quoteLiteral(file)}, format = 'newline_delimited', columns = {${columns.join(', ')}})`,
        );
        await engine.table(ident);
        tables[ident] = commit.addedRecords;
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
    return { snapshotAt: at, tables };
  }
}

/** A small deterministic string hash (FNV-1a, 32 bit). */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** `<stateDir>/oltp`: where the local OLTP database persists. */
export function oltpDirOf(stateDir: string): string {
  return join(stateDir, 'oltp');
}
