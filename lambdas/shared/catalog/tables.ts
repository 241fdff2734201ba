/**
 * The lake table catalog: the single source of truth for every Iceberg table of shoplake.
 *
 * Why one module: the Glue tables (CDK), the Athena DDL, the local Iceberg tables and the
 * identifier allow-list of the query engines are all generated from these objects, so a
 * column added here appears everywhere and nothing can drift. Field ids are explicit and
 * stable (Iceberg tracks columns by id, not by name): never renumber, only append.
 *
 * Event columns of `bronze.events` and `silver.events` come from `eventColumns()` of the
 * event contract; `EVENT_FIELD_IDS` pins their ids.
 */
import { eventColumns, type IcebergType } from '../event-schema.ts';
import { ML_TABLES } from './ml-tables.ts';
import type { ColumnSpec, Namespace, PartitionFieldSpec, SortFieldSpec, TableSpec } from './types.ts';

/** Default Iceberg properties of every table (Parquet + zstd, 128 MiB target files, v2). */
export const DEFAULT_TABLE_PROPERTIES: Readonly<Record<string, string>> = {
  'format-version': '2',
  'write.format.default': 'parquet',
  'write.parquet.compression-codec': 'zstd',
  'write.target-file-size-bytes': String(128 * 1024 * 1024),
  'history.expire.max-snapshot-age-ms': String(7 * 24 * 3600 * 1000),
  'history.expire.min-snapshots-to-keep': '5',
};

/**
 * Field ids of the event contract's columns. Adding a field to the zod schema without an id
 * here fails at import (and in the catalog unit test) instead of silently shifting ids.
 */
export const EVENT_FIELD_IDS: Readonly<Record<string, number>> = {
  schema_version: 1,
  event_id: 2,
  event_type: 3,
  event_time: 4,
  session_id: 5,
  user_id: 6,
  product_id: 7,
  category: 8,
  price: 9,
  quantity: 10,
  currency: 11,
  order_id: 12,
  order_status: 13,
  items: 14,
  rating: 15,
  text: 16,
  query: 17,
  page_type: 18,
  referrer: 19,
  utm_source: 20,
  utm_medium: 21,
  utm_campaign: 22,
  discount_code: 23,
  device: 24,
  rec_id: 25,
  attributes: 26,
};

/**
 * Money is exact (issue 16): unit prices and amounts are Iceberg decimals in silver and gold,
 * so sums are identical across reruns and engines (Athena/Trino and DuckDB both sum decimals
 * exactly). Rates and shares stay double. Prices keep 4 decimal places (the contract rejects
 * more), amounts 2; amounts get precision 38 so no contract-valid order can overflow.
 * Bronze keeps the types of the raw sources (double).
 */
export const PRICE_TYPE = 'decimal(18,4)' as const;
export const MONEY_TYPE = 'decimal(38,2)' as const;

export class CatalogDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogDefinitionError';
  }
}

type ColumnTuple = readonly [id: number, name: string, type: IcebergType, required: boolean, doc?: string];

function columns(tuples: readonly ColumnTuple[]): ColumnSpec[] {
  return tuples.map(([id, name, type, required, doc]) =>
    doc === undefined ? { id, name, type, required } : { id, name, type, required, doc },
  );
}

/** The event contract's columns with their pinned field ids. */
function contractEventColumns(): ColumnSpec[] {
  return eventColumns().map((c) => {
    const id = EVENT_FIELD_IDS[c.name];
    if (id === undefined) {
      throw new CatalogDefinitionError(
        `event field ${c.name} has no Iceberg field id: add it to EVENT_FIELD_IDS in lambdas/shared/catalog/tables.ts`,
      );
    }
    // Lake tables accept what the contract accepted; only the identity fields stay required.
    const required = ['event_id', 'event_type', 'event_time', 'session_id'].includes(c.name);
    return { id, name: c.name, type: c.type, required };
  });
}

const day = (column: string): PartitionFieldSpec => ({ column, transform: 'day', name: `${column}_day` });
const month = (column: string): PartitionFieldSpec => ({
  column,
  transform: 'month',
  name: `${column}_month`,
});
const asc = (column: string): SortFieldSpec => ({ column, direction: 'asc', nullOrder: 'nulls-first' });

function table(
  namespace: Namespace,
  name: string,
  description: string,
  cols: ColumnSpec[],
  options: {
    partition?: PartitionFieldSpec[];
    sort?: SortFieldSpec[];
    key?: string[];
    properties?: Record<string, string>;
  } = {},
): TableSpec {
  return {
    namespace,
    name,
    description,
    columns: cols,
    partitionSpec: options.partition ?? [],
    sortOrder: options.sort ?? [],
    properties: { ...DEFAULT_TABLE_PROPERTIES, ...options.properties },
    ...(options.key ? { key: options.key } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// bronze: raw data as it arrived
// ---------------------------------------------------------------------------------------------

export const BRONZE_EVENTS = table(
  'bronze',
  'events',
  'Raw validated events as delivered (Firehose on AWS, landing NDJSON locally); may hold duplicates and late arrivals',
  [
    ...contractEventColumns(),
    ...columns([
      [101, 'ingested_at', 'timestamptz', false, 'Arrival time at the lake (first arrival wins on dedup)'],
      [102, 'source_file', 'string', false, 'Landing object the record was loaded from (local loader)'],
    ]),
  ],
  { partition: [day('event_time')], sort: [asc('event_time')] },
);

const SNAPSHOT_AT: ColumnTuple = [
  1,
  'snapshot_at',
  'timestamptz',
  true,
  'When the OLTP snapshot was taken (SCD2 input)',
];

/**
 * Bronze OLTP and marketing tables are change logs of their source table: every extract
 * appends the rows that are new or changed since the table's current state (the latest row
 * per key), stamped `snapshot_at`; a key the source no longer has gets a delete marker (its
 * last values with `is_deleted` true). A full snapshot (the embedded PGlite extract) is the
 * special case where every row is appended. See glue-jobs/ and docs/lakehouse.md.
 */
const IS_DELETED = (id: number): ColumnTuple => [
  id,
  'is_deleted',
  'boolean',
  false,
  'Delete marker: the source no longer has this key (NULL/false = present)',
];

export const BRONZE_OLTP_CUSTOMERS = table(
  'bronze',
  'oltp_customers',
  'Snapshots of the OLTP customers table',
  columns([
    SNAPSHOT_AT,
    [2, 'customer_id', 'string', true],
    [3, 'name', 'string', false],
    [4, 'email', 'string', false],
    [5, 'country', 'string', false],
    [6, 'city', 'string', false],
    [7, 'segment', 'string', false],
    [8, 'signup_at', 'timestamptz', false],
    [9, 'updated_at', 'timestamptz', false],
    IS_DELETED(10),
  ]),
  { partition: [day('snapshot_at')], key: ['snapshot_at', 'customer_id'] },
);

export const BRONZE_OLTP_PRODUCTS = table(
  'bronze',
  'oltp_products',
  'Snapshots of the OLTP products table',
  columns([
    SNAPSHOT_AT,
    [2, 'product_id', 'string', true],
    [3, 'name', 'string', false],
    [4, 'category', 'string', false],
    [5, 'price', 'double', false],
    [6, 'currency', 'string', false],
    [7, 'stock', 'int', false],
    [8, 'updated_at', 'timestamptz', false],
    IS_DELETED(9),
  ]),
  { partition: [day('snapshot_at')], key: ['snapshot_at', 'product_id'] },
);

export const BRONZE_OLTP_ORDERS = table(
  'bronze',
  'oltp_orders',
  'Snapshots of the OLTP orders table',
  columns([
    SNAPSHOT_AT,
    [2, 'order_id', 'string', true],
    [3, 'customer_id', 'string', false],
    [4, 'status', 'string', true, 'placed | cancelled'],
    [5, 'order_time', 'timestamptz', true],
    [6, 'total_amount', 'double', false],
    [7, 'currency', 'string', false],
    [8, 'updated_at', 'timestamptz', false],
    IS_DELETED(9),
  ]),
  { partition: [day('snapshot_at')], key: ['snapshot_at', 'order_id'] },
);

export const BRONZE_OLTP_ORDER_LINES = table(
  'bronze',
  'oltp_order_lines',
  'Snapshots of the OLTP order_lines table',
  columns([
    SNAPSHOT_AT,
    [2, 'order_id', 'string', true],
    [3, 'line_no', 'int', true],
    [4, 'product_id', 'string', true],
    [5, 'quantity', 'int', true],
    [6, 'unit_price', 'double', true],
    IS_DELETED(7),
  ]),
  { partition: [day('snapshot_at')], key: ['snapshot_at', 'order_id', 'line_no'] },
);

export const BRONZE_OLTP_REVIEWS = table(
  'bronze',
  'oltp_reviews',
  'Snapshots of the OLTP reviews table (product reviews as the shop stores and moderates them), change log',
  columns([
    SNAPSHOT_AT,
    [2, 'review_id', 'string', true],
    [3, 'product_id', 'string', false],
    [4, 'customer_id', 'string', false],
    [5, 'order_id', 'string', false],
    [6, 'rating', 'int', false, '1..5 stars'],
    [7, 'title', 'string', false],
    [8, 'body', 'string', false],
    [9, 'status', 'string', false, 'published | hidden (moderation)'],
    [10, 'created_at', 'timestamptz', false],
    [11, 'updated_at', 'timestamptz', false],
    IS_DELETED(12),
  ]),
  { partition: [day('snapshot_at')], key: ['snapshot_at', 'review_id'] },
);

export const BRONZE_OLTP_PAYMENTS = table(
  'bronze',
  'oltp_payments',
  'Snapshots of the OLTP payments table (payments of orders: captures and refunds), change log',
  columns([
    SNAPSHOT_AT,
    [2, 'payment_id', 'string', true],
    [3, 'order_id', 'string', false],
    [4, 'method', 'string', false, 'card | paypal | voucher | bank_transfer | ...'],
    [5, 'status', 'string', false, 'authorized | captured | refunded | failed'],
    [6, 'amount', 'double', false],
    [7, 'currency', 'string', false],
    [8, 'paid_at', 'timestamptz', false],
    [9, 'updated_at', 'timestamptz', false],
    IS_DELETED(10),
  ]),
  { partition: [day('snapshot_at')], key: ['snapshot_at', 'payment_id'] },
);

const MARKETING_SNAPSHOT_AT: ColumnTuple = [1, 'snapshot_at', 'timestamptz', true, 'When the extract ran'];

export const BRONZE_MARKETING_LEADS = table(
  'bronze',
  'marketing_leads',
  'Marketing-qualified leads from the marketing database (Olist marketing funnel shape), change log',
  columns([
    MARKETING_SNAPSHOT_AT,
    [2, 'mql_id', 'string', true],
    [3, 'first_contact_date', 'date', false],
    [4, 'landing_page_id', 'string', false],
    [5, 'origin', 'string', false, 'Acquisition channel: organic_search, paid_search, social, email, ...'],
    IS_DELETED(6),
  ]),
  { partition: [day('snapshot_at')], key: ['snapshot_at', 'mql_id'] },
);

export const BRONZE_MARKETING_DEALS = table(
  'bronze',
  'marketing_deals',
  'Closed deals (a lead that became a seller) from the marketing database, change log',
  columns([
    MARKETING_SNAPSHOT_AT,
    [2, 'mql_id', 'string', true],
    [3, 'seller_id', 'string', false],
    [4, 'sdr_id', 'string', false],
    [5, 'sr_id', 'string', false],
    [6, 'won_date', 'timestamptz', false],
    [7, 'business_segment', 'string', false],
    [8, 'lead_type', 'string', false],
    [9, 'lead_behaviour_profile', 'string', false],
    [10, 'business_type', 'string', false],
    [11, 'declared_product_catalog_size', 'double', false],
    [12, 'declared_monthly_revenue', 'double', false],
    IS_DELETED(13),
  ]),
  { partition: [day('snapshot_at')], key: ['snapshot_at', 'mql_id'] },
);

// ---------------------------------------------------------------------------------------------
// silver: cleaned, conformed, deduplicated
// ---------------------------------------------------------------------------------------------

export const SILVER_EVENTS = table(
  'silver',
  'events',
  'Validated events, deduplicated by event_id (first arrival kept), late events in their own day',
  [
    ...contractEventColumns(),
    ...columns([
      [101, 'ingested_at', 'timestamptz', false],
      [103, 'event_date', 'date', true, 'UTC date of event_time'],
      [104, 'revenue', MONEY_TYPE, false, 'Sum of line quantity x price for purchases'],
      [105, 'etl_run_id', 'string', true, 'ETL run that inserted the row'],
    ]),
  ],
  { partition: [day('event_time')], sort: [asc('event_time')], key: ['event_id'] },
);

export const SILVER_SESSIONS = table(
  'silver',
  'sessions',
  'Sessions (30 minutes of inactivity splits a client session), anonymous visits stitched to the user who logged in',
  columns([
    [1, 'session_key', 'string', true, 'session_id#sequence'],
    [2, 'session_id', 'string', true],
    [3, 'user_id', 'string', false, 'Stitched: the user who logged in during the client session'],
    [4, 'is_stitched', 'boolean', true, 'Session had anonymous events attributed to a user'],
    [5, 'session_start', 'timestamptz', true],
    [6, 'session_end', 'timestamptz', true],
    [7, 'session_date', 'date', true],
    [8, 'duration_seconds', 'long', true],
    [9, 'event_count', 'long', true],
    [10, 'product_views', 'long', true],
    [11, 'add_to_carts', 'long', true],
    [12, 'checkouts', 'long', true],
    [13, 'purchases', 'long', true],
    [14, 'revenue', MONEY_TYPE, true],
    [15, 'utm_source', 'string', false, 'First touch'],
    [16, 'utm_campaign', 'string', false, 'First touch'],
    [17, 'device', 'string', false],
    [18, 'rec_clicks', 'long', true],
    [19, 'etl_run_id', 'string', true],
  ]),
  { partition: [day('session_start')], key: ['session_key'] },
);

export const SILVER_ORDERS = table(
  'silver',
  'orders',
  'Orders reconciled from purchase events and OLTP orders; cancellations kept with status cancelled',
  columns([
    [1, 'order_id', 'string', true],
    [2, 'customer_id', 'string', false],
    [3, 'order_time', 'timestamptz', true],
    [4, 'order_date', 'date', true],
    [5, 'status', 'string', true, 'placed | cancelled'],
    [6, 'source', 'string', true, 'event | oltp | both'],
    [7, 'line_count', 'long', true],
    [8, 'units', 'long', true],
    [9, 'amount', MONEY_TYPE, true, 'Sum of lines (events win over OLTP when both exist)'],
    [10, 'oltp_amount', MONEY_TYPE, false],
    [11, 'amount_matches', 'boolean', false, 'Event and OLTP totals agree within 0.01'],
    [12, 'currency', 'string', false],
    [13, 'session_id', 'string', false],
    [14, 'discount_code', 'string', false],
    [15, 'etl_run_id', 'string', true],
  ]),
  { partition: [day('order_time')], key: ['order_id'] },
);

export const SILVER_ORDER_LINES = table(
  'silver',
  'order_lines',
  'Order lines of silver.orders',
  columns([
    [1, 'order_id', 'string', true],
    [2, 'line_no', 'int', true],
    [3, 'product_id', 'string', true],
    [4, 'category', 'string', false],
    [5, 'quantity', 'int', true],
    [6, 'unit_price', PRICE_TYPE, true],
    [7, 'line_amount', MONEY_TYPE, true],
    [8, 'order_time', 'timestamptz', true],
    [9, 'order_date', 'date', true],
    [10, 'status', 'string', true],
    [11, 'customer_id', 'string', false],
    [12, 'etl_run_id', 'string', true],
  ]),
  { partition: [day('order_time')], key: ['order_id', 'line_no'] },
);

export const SILVER_DIM_CUSTOMER = table(
  'silver',
  'dim_customer',
  'Customer dimension, SCD Type 2: one row per customer version, contiguous validity',
  columns([
    [1, 'customer_sk', 'string', true, 'customer_id@valid_from'],
    [2, 'customer_id', 'string', true],
    [3, 'name', 'string', false],
    [4, 'email', 'string', false],
    [5, 'country', 'string', false],
    [6, 'city', 'string', false],
    [7, 'segment', 'string', false],
    [8, 'signup_at', 'timestamptz', false],
    [9, 'valid_from', 'timestamptz', true],
    [10, 'valid_to', 'timestamptz', false, 'NULL for the current version'],
    [11, 'is_current', 'boolean', true],
    [12, 'row_hash', 'string', true, 'Hash of the tracked attributes'],
  ]),
  { sort: [asc('customer_id'), asc('valid_from')], key: ['customer_sk'] },
);

export const SILVER_DIM_PRODUCT = table(
  'silver',
  'dim_product',
  'Product dimension with price history (SCD Type 2 on name, category, price)',
  columns([
    [1, 'product_sk', 'string', true, 'product_id@valid_from'],
    [2, 'product_id', 'string', true],
    [3, 'name', 'string', false],
    [4, 'category', 'string', false],
    [5, 'price', PRICE_TYPE, false],
    [6, 'currency', 'string', false],
    [7, 'previous_price', PRICE_TYPE, false],
    [8, 'stock', 'int', false, 'Stock at the last snapshot of this version'],
    [9, 'valid_from', 'timestamptz', true],
    [10, 'valid_to', 'timestamptz', false],
    [11, 'is_current', 'boolean', true],
    [12, 'row_hash', 'string', true],
  ]),
  { sort: [asc('product_id'), asc('valid_from')], key: ['product_sk'] },
);

export const SILVER_MARKETING_LEADS = table(
  'silver',
  'marketing_leads',
  'Marketing-qualified leads: the current state of bronze.marketing_leads (deleted leads removed)',
  columns([
    [1, 'mql_id', 'string', true],
    [2, 'first_contact_date', 'date', false],
    [3, 'first_contact_month', 'date', false],
    [4, 'landing_page_id', 'string', false],
    [5, 'origin', 'string', true, "Acquisition channel; 'unknown' when the source has none"],
    [6, 'etl_run_id', 'string', true],
  ]),
  { key: ['mql_id'] },
);

export const SILVER_MARKETING_DEALS = table(
  'silver',
  'marketing_deals',
  'Closed deals: the current state of bronze.marketing_deals, with the lead they closed',
  columns([
    [1, 'mql_id', 'string', true],
    [2, 'seller_id', 'string', false],
    [3, 'sdr_id', 'string', false],
    [4, 'sr_id', 'string', false],
    [5, 'won_date', 'timestamptz', false],
    [6, 'business_segment', 'string', false],
    [7, 'lead_type', 'string', false],
    [8, 'lead_behaviour_profile', 'string', false],
    [9, 'business_type', 'string', false],
    [10, 'declared_product_catalog_size', 'double', false],
    [11, 'declared_monthly_revenue', MONEY_TYPE, false],
    [12, 'has_lead', 'boolean', true, 'The lead (mql_id) is in silver.marketing_leads'],
    [13, 'days_to_close', 'int', false, 'Days from first contact to the won date'],
    [14, 'etl_run_id', 'string', true],
  ]),
  { key: ['mql_id'] },
);

export const SILVER_PAYMENTS = table(
  'silver',
  'payments',
  'Payments: the current state of bronze.oltp_payments; a payment deleted in the source stays with is_deleted true',
  columns([
    [1, 'payment_id', 'string', true],
    [2, 'order_id', 'string', false],
    [3, 'method', 'string', false],
    [4, 'status', 'string', false, 'authorized | captured | refunded | failed'],
    [5, 'amount', MONEY_TYPE, false],
    [6, 'currency', 'string', false],
    [7, 'paid_at', 'timestamptz', false],
    [8, 'updated_at', 'timestamptz', false],
    [9, 'is_deleted', 'boolean', true, 'The source no longer has this payment'],
    [10, 'etl_run_id', 'string', true, 'ETL run that last changed the row'],
  ]),
  { key: ['payment_id'] },
);

export const SILVER_REVIEWS = table(
  'silver',
  'reviews',
  'Product reviews: the current state of bronze.oltp_reviews; a review deleted in the source stays with is_deleted true',
  columns([
    [1, 'review_id', 'string', true],
    [2, 'product_id', 'string', false],
    [3, 'customer_id', 'string', false],
    [4, 'order_id', 'string', false],
    [5, 'rating', 'int', false],
    [6, 'title', 'string', false],
    [7, 'body', 'string', false],
    [8, 'status', 'string', false, 'published | hidden'],
    [9, 'created_at', 'timestamptz', false],
    [10, 'review_date', 'date', false],
    [11, 'updated_at', 'timestamptz', false],
    [12, 'is_deleted', 'boolean', true, 'The source no longer has this review'],
    [13, 'etl_run_id', 'string', true, 'ETL run that last changed the row'],
  ]),
  { key: ['review_id'] },
);

// ---------------------------------------------------------------------------------------------
// gold: business tables (monthly dashboard + daily tables)
// ---------------------------------------------------------------------------------------------

const RUN: ColumnTuple = [99, 'etl_run_id', 'string', true, 'ETL run that last (re)computed the row'];

export const GOLD_DAILY_SALES = table(
  'gold',
  'daily_sales',
  'Sales per day: revenue, orders, units, customers, cancellations',
  columns([
    [1, 'sale_date', 'date', true],
    [2, 'orders', 'long', true],
    [3, 'units', 'long', true],
    [4, 'revenue', MONEY_TYPE, true, 'Gross revenue of placed orders'],
    [5, 'cancelled_orders', 'long', true],
    [6, 'cancelled_revenue', MONEY_TYPE, true],
    [7, 'net_revenue', MONEY_TYPE, true],
    [8, 'customers', 'long', true],
    [9, 'avg_order_value', MONEY_TYPE, false],
    RUN,
  ]),
  { partition: [month('sale_date')], key: ['sale_date'] },
);

export const GOLD_MONTHLY_KPIS = table(
  'gold',
  'monthly_kpis',
  'Monthly business dashboard KPIs',
  columns([
    [1, 'month', 'date', true, 'First day of the month'],
    [2, 'revenue', MONEY_TYPE, true],
    [3, 'net_revenue', MONEY_TYPE, true],
    [4, 'orders', 'long', true],
    [5, 'units', 'long', true],
    [6, 'avg_order_value', MONEY_TYPE, false],
    [7, 'active_customers', 'long', true, 'Distinct customers with a placed order'],
    [8, 'new_customers', 'long', true, 'First placed order in this month'],
    [9, 'returning_customers', 'long', true],
    [10, 'cancelled_orders', 'long', true],
    [11, 'cancellation_rate', 'double', false],
    [12, 'sessions', 'long', true],
    [13, 'conversion_rate', 'double', false, 'Sessions with a purchase / sessions'],
    RUN,
  ]),
  { key: ['month'] },
);

export const GOLD_CONVERSION_FUNNEL = table(
  'gold',
  'conversion_funnel',
  'Daily session funnel: view -> cart -> checkout -> purchase',
  columns([
    [1, 'funnel_date', 'date', true],
    [2, 'sessions', 'long', true],
    [3, 'viewed', 'long', true],
    [4, 'carted', 'long', true],
    [5, 'checked_out', 'long', true],
    [6, 'purchased', 'long', true],
    [7, 'view_to_cart', 'double', false],
    [8, 'cart_to_checkout', 'double', false],
    [9, 'checkout_to_purchase', 'double', false],
    [10, 'session_conversion', 'double', false],
    RUN,
  ]),
  { partition: [month('funnel_date')], key: ['funnel_date'] },
);

export const GOLD_CATEGORY_REVENUE = table(
  'gold',
  'category_revenue',
  'Revenue by category and month with month-over-month growth',
  columns([
    [1, 'month', 'date', true],
    [2, 'category', 'string', true],
    [3, 'revenue', MONEY_TYPE, true],
    [4, 'units', 'long', true],
    [5, 'orders', 'long', true],
    [6, 'prev_month_revenue', MONEY_TYPE, false],
    [7, 'mom_growth', 'double', false, '(revenue - prev) / prev; NULL without a previous month'],
    RUN,
  ]),
  { key: ['month', 'category'] },
);

export const GOLD_TOP_PRODUCTS = table(
  'gold',
  'top_products',
  'Top 20 products by revenue per month',
  columns([
    [1, 'month', 'date', true],
    [2, 'rank', 'int', true],
    [3, 'product_id', 'string', true],
    [4, 'category', 'string', false],
    [5, 'revenue', MONEY_TYPE, true],
    [6, 'units', 'long', true],
    [7, 'orders', 'long', true],
    RUN,
  ]),
  { key: ['month', 'rank'] },
);

export const GOLD_CUSTOMER_LTV = table(
  'gold',
  'customer_ltv',
  'Lifetime value per customer (placed orders net of cancellations)',
  columns([
    [1, 'customer_id', 'string', true],
    [2, 'first_order_date', 'date', true],
    [3, 'last_order_date', 'date', true],
    [4, 'orders', 'long', true],
    [5, 'revenue', MONEY_TYPE, true],
    [6, 'cancelled_revenue', MONEY_TYPE, true],
    [7, 'lifetime_value', MONEY_TYPE, true],
    [8, 'avg_order_value', MONEY_TYPE, false],
    [9, 'country', 'string', false, 'Current country from dim_customer'],
    RUN,
  ]),
  { key: ['customer_id'] },
);

export const GOLD_REPEAT_PURCHASE = table(
  'gold',
  'repeat_purchase',
  'Repeat-purchase rate per month: customers who had ordered before the month',
  columns([
    [1, 'month', 'date', true],
    [2, 'customers', 'long', true],
    [3, 'returning_customers', 'long', true],
    [4, 'multi_order_customers', 'long', true, 'Customers with 2+ placed orders in the month'],
    [5, 'repeat_purchase_rate', 'double', false, 'returning_customers / customers'],
    RUN,
  ]),
  { key: ['month'] },
);

export const GOLD_CANCELLATIONS = table(
  'gold',
  'cancellations',
  'Cancellations per month',
  columns([
    [1, 'month', 'date', true],
    [2, 'placed_orders', 'long', true],
    [3, 'cancelled_orders', 'long', true],
    [4, 'cancelled_units', 'long', true],
    [5, 'cancelled_value', MONEY_TYPE, true],
    [6, 'cancellation_rate', 'double', false, 'cancelled / (placed + cancelled)'],
    RUN,
  ]),
  { key: ['month'] },
);

export const GOLD_REVIEW_RATINGS = table(
  'gold',
  'review_ratings',
  'Review ratings per product and month',
  columns([
    [1, 'month', 'date', true],
    [2, 'product_id', 'string', true],
    [3, 'category', 'string', false],
    [4, 'reviews', 'long', true],
    [5, 'avg_rating', 'double', true],
    [6, 'rating_1', 'long', true],
    [7, 'rating_2', 'long', true],
    [8, 'rating_3', 'long', true],
    [9, 'rating_4', 'long', true],
    [10, 'rating_5', 'long', true],
    RUN,
  ]),
  { key: ['month', 'product_id'] },
);

export const GOLD_PRODUCT_RATINGS = table(
  'gold',
  'product_ratings',
  'Current rating of every reviewed product from the OLTP reviews (published, not deleted): count, average, distribution',
  columns([
    [1, 'product_id', 'string', true],
    [2, 'category', 'string', false, "The product's current category (silver.dim_product)"],
    [3, 'reviews', 'long', true, 'Published reviews (0 when every review was hidden or deleted)'],
    [4, 'avg_rating', 'double', false],
    [5, 'rating_1', 'long', true],
    [6, 'rating_2', 'long', true],
    [7, 'rating_3', 'long', true],
    [8, 'rating_4', 'long', true],
    [9, 'rating_5', 'long', true],
    [10, 'hidden_reviews', 'long', true, 'Reviews hidden by moderation (not in the average)'],
    [11, 'last_review_at', 'timestamptz', false],
    RUN,
  ]),
  { key: ['product_id'] },
);

export const GOLD_PAYMENT_RECONCILIATION = table(
  'gold',
  'payment_reconciliation',
  'OLTP orders reconciled with their payments: what was due, captured, refunded, and the reconciliation status',
  columns([
    [1, 'order_id', 'string', true],
    [2, 'order_date', 'date', false, 'NULL for payments whose order is unknown'],
    [3, 'order_status', 'string', false, 'placed | cancelled; NULL when the order is unknown'],
    [4, 'currency', 'string', false],
    [5, 'amount_due', MONEY_TYPE, true, 'The order amount when placed, 0 when cancelled'],
    [6, 'payments', 'long', true, 'Payments of the order (deleted ones excluded)'],
    [7, 'captured_amount', MONEY_TYPE, true],
    [8, 'refunded_amount', MONEY_TYPE, true],
    [9, 'net_paid', MONEY_TYPE, true, 'captured - refunded'],
    [10, 'difference', MONEY_TYPE, true, 'net_paid - amount_due'],
    [
      11,
      'status',
      'string',
      true,
      'paid | unpaid | underpaid | overpaid | refunded | refund_due | no_order (payment of an order the lake does not know)',
    ],
    RUN,
  ]),
  { key: ['order_id'] },
);

export const GOLD_CAMPAIGN_ATTRIBUTION = table(
  'gold',
  'campaign_attribution',
  'Sessions, orders and revenue per campaign and month (first touch of the session)',
  columns([
    [1, 'month', 'date', true],
    [2, 'utm_source', 'string', true, "'(direct)' without a campaign"],
    [3, 'utm_campaign', 'string', true],
    [4, 'sessions', 'long', true],
    [5, 'converted_sessions', 'long', true],
    [6, 'revenue', MONEY_TYPE, true],
    [7, 'conversion_rate', 'double', false],
    RUN,
  ]),
  { key: ['month', 'utm_source', 'utm_campaign'] },
);

export const GOLD_MARKETING_FUNNEL = table(
  'gold',
  'marketing_funnel',
  'MQL → closed-deal funnel per first-contact month and origin: leads, the deals they closed (any time later), conversion, median days to close, declared revenue',
  columns([
    [1, 'month', 'date', true, "Month of the leads' first contact"],
    [2, 'origin', 'string', true],
    [3, 'leads', 'long', true],
    [4, 'deals', 'long', true],
    [5, 'conversion_rate', 'double', false, 'deals / leads'],
    [6, 'median_days_to_close', 'double', false, 'Exact median (mean of the middle two for an even count)'],
    [7, 'declared_monthly_revenue', MONEY_TYPE, true, "Sum of the deals' declared monthly revenue"],
    RUN,
  ]),
  { key: ['month', 'origin'] },
);

export const GOLD_REC_CLICK_THROUGH = table(
  'gold',
  'rec_click_through',
  'Recommendation click-through per day and model version: clicks (product views carrying rec_id) and what followed',
  columns([
    [1, 'event_date', 'date', true],
    [
      9,
      'model_version',
      'string',
      true,
      "Model version read from the rec_id ('none': served without a model; 'unknown': another id shape)",
    ],
    [2, 'product_views', 'long', true, "All product views of the day (the share's denominator)"],
    [3, 'rec_clicks', 'long', true],
    [4, 'click_through_share', 'double', false, 'rec_clicks / product_views'],
    [5, 'rec_sessions', 'long', true],
    [6, 'rec_sessions_converted', 'long', true],
    [7, 'rec_carted_products', 'long', true, 'Clicked products added to cart in the same session'],
    [8, 'rec_purchased_products', 'long', true, 'Clicked products purchased in the same session'],
    RUN,
  ]),
  { partition: [month('event_date')], key: ['event_date', 'model_version'] },
);

export const GOLD_REC_IMPRESSION_CTR = table(
  'gold',
  'rec_impression_ctr',
  'True recommendation click-through per day, model version and position: impressions (recommendation_impression events) and the clicks on the items they showed',
  columns([
    [1, 'event_date', 'date', true, 'Day of the impression'],
    [2, 'model_version', 'string', true, 'Model version that served the impression'],
    [3, 'position', 'int', true, 'Position of the item in the response (1 = first)'],
    [4, 'impressions', 'long', true, 'Distinct impressions (rec_id) showing an item at this position'],
    [
      5,
      'clicks',
      'long',
      true,
      'Of those, impressions whose item at this position was clicked (a product view carrying the rec_id)',
    ],
    [6, 'ctr', 'double', false, 'clicks / impressions'],
    RUN,
  ]),
  { partition: [month('event_date')], key: ['event_date', 'model_version', 'position'] },
);

export const GOLD_REC_AB_ARMS = table(
  'gold',
  'rec_ab_arms',
  'A/B tests between model versions, one row per test and arm: impressions, clicks, add-to-carts and conversions with 95% Wilson intervals, and the treatment-minus-control difference with its 95% interval and a two-proportion z-test p-value',
  columns([
    [1, 'experiment', 'string', true, 'A/B test name (ab_experiment of the impressions)'],
    [2, 'arm', 'string', true, 'A = control, B = treatment'],
    [
      3,
      'model_version',
      'string',
      true,
      "Version that served the arm ('mixed' if impressions named several)",
    ],
    [4, 'first_day', 'date', true, 'Day of the first impression'],
    [5, 'last_day', 'date', true, 'Day of the last impression'],
    [6, 'shoppers', 'long', true, 'Distinct users (or sessions of anonymous visitors) shown an impression'],
    [7, 'impressions', 'long', true, 'Distinct impressions (rec_id): the unit of every rate'],
    [
      8,
      'clicks',
      'long',
      true,
      'Impressions with a click on an item they showed (a product view carrying the rec_id)',
    ],
    [9, 'ctr', 'double', true, 'clicks / impressions'],
    [10, 'ctr_low', 'double', true, '95% Wilson interval, lower bound'],
    [11, 'ctr_high', 'double', true, '95% Wilson interval, upper bound'],
    [12, 'ctr_diff', 'double', false, 'This arm minus the control (B rows only)'],
    [13, 'ctr_diff_low', 'double', false, '95% normal-approximation interval of ctr_diff, lower bound'],
    [14, 'ctr_diff_high', 'double', false, '95% normal-approximation interval of ctr_diff, upper bound'],
    [15, 'ctr_p_value', 'double', false, 'Two-sided two-proportion z-test (pooled) against the control'],
    [
      16,
      'carts',
      'long',
      true,
      'Impressions with a clicked item added to cart afterwards in the session of the click',
    ],
    [17, 'cart_rate', 'double', true, 'carts / impressions'],
    [18, 'cart_rate_low', 'double', true],
    [19, 'cart_rate_high', 'double', true],
    [20, 'cart_rate_diff', 'double', false],
    [21, 'cart_rate_diff_low', 'double', false],
    [22, 'cart_rate_diff_high', 'double', false],
    [23, 'cart_rate_p_value', 'double', false],
    [
      24,
      'conversions',
      'long',
      true,
      'Impressions with a clicked item in a placed order afterwards in the session of the click',
    ],
    [25, 'conversion_rate', 'double', true, 'conversions / impressions'],
    [26, 'conversion_rate_low', 'double', true],
    [27, 'conversion_rate_high', 'double', true],
    [28, 'conversion_rate_diff', 'double', false],
    [29, 'conversion_rate_diff_low', 'double', false],
    [30, 'conversion_rate_diff_high', 'double', false],
    [31, 'conversion_rate_p_value', 'double', false],
    RUN,
  ]),
  { key: ['experiment', 'arm'] },
);

// ---------------------------------------------------------------------------------------------
// ops
// ---------------------------------------------------------------------------------------------

export const OPS_DATA_QUALITY_RESULTS = table(
  'ops',
  'data_quality_results',
  'Data-quality check results per ETL run; a failed blocking check stops the run before gold',
  columns([
    [1, 'run_id', 'string', true],
    [2, 'checked_at', 'timestamptz', true],
    [3, 'check_name', 'string', true],
    [4, 'table_name', 'string', true],
    [5, 'severity', 'string', true, 'blocking | warning'],
    [6, 'passed', 'boolean', true],
    [7, 'observed', 'double', false],
    [8, 'threshold', 'double', false],
    [9, 'detail', 'string', false],
  ]),
  { partition: [day('checked_at')], key: ['run_id', 'check_name'] },
);

export const OPS_REJECTED_EVENTS = table(
  'ops',
  'rejected_events',
  'Bronze events that failed silver validation, with the reason (kept for operators)',
  columns([
    [1, 'run_id', 'string', true],
    [2, 'event_id', 'string', false],
    [3, 'event_type', 'string', false],
    [4, 'event_time', 'timestamptz', false],
    [5, 'reason', 'string', true],
    [6, 'ingested_at', 'timestamptz', false],
    [7, 'source_file', 'string', false],
    [8, 'source_line', 'long', false, 'Line of source_file (1-based) for records rejected at extract'],
  ]),
  { key: ['event_id'] },
);

export const OPS_ETL_PENDING = table(
  'ops',
  'etl_pending',
  'ETL runs whose silver changes gold has not consumed yet: a run registers itself (with its window) before its first data write, and the row is deleted only when every gold step has committed (docs/lakehouse.md, "Incremental contract")',
  columns([
    [1, 'run_id', 'string', true],
    [2, 'date_from', 'date', true, 'First event date of the run window'],
    [3, 'date_to', 'date', true, 'Last event date of the run window'],
    [4, 'registered_at', 'timestamptz', true],
  ]),
  { key: ['run_id'] },
);

export const OPS_EXTRACT_WATERMARKS = table(
  'ops',
  'extract_watermarks',
  'Source extracts (glue-jobs/): per table and run that changed something, the watermark reached and the counts (read, written, delete markers, duplicate keys dropped, rejected)',
  columns([
    [1, 'source', 'string', true, 'oltp | marketing'],
    [2, 'table_name', 'string', true, 'Source table'],
    [3, 'run_id', 'string', true],
    [4, 'extracted_at', 'timestamptz', true, 'snapshot_at of the rows written'],
    [5, 'mode', 'string', true, 'full | incremental'],
    [6, 'watermark_column', 'string', false],
    [7, 'watermark', 'timestamptz', false, 'Greatest change-column value extracted so far'],
    [8, 'rows_read', 'long', true],
    [9, 'rows_written', 'long', true],
    [10, 'rows_deleted', 'long', true, 'Delete markers written (keys gone from the source)'],
    [11, 'duplicates', 'long', true, 'Rows dropped as duplicate keys within the extract'],
    [12, 'rejected', 'long', true, 'Rows rejected into ops.extract_rejects'],
  ]),
  { key: ['source', 'table_name', 'run_id'] },
);

export const OPS_EXTRACT_REJECTS = table(
  'ops',
  'extract_rejects',
  'Source rows the extract rejected (e.g. a null primary key), with the reason and the row as JSON',
  columns([
    [1, 'source', 'string', true],
    [2, 'table_name', 'string', true],
    [3, 'run_id', 'string', true],
    [4, 'extracted_at', 'timestamptz', true],
    [5, 'reason', 'string', true],
    [6, 'record', 'string', false, 'The rejected row as JSON'],
  ]),
);

// ---------------------------------------------------------------------------------------------
// access logs (docs/access-logs.md): bronze keeps raw client IPs (short retention), silver and
// gold only the salted pseudonym and the truncated network
// ---------------------------------------------------------------------------------------------

/** Days bronze.access_logs keeps raw rows (they hold raw client IPs). @default 30 */
export const ACCESS_LOG_BRONZE_RETENTION_DAYS = 30;

export const BRONZE_ACCESS_LOGS = table(
  'bronze',
  'access_logs',
  `Parsed web-server and API access-log lines as delivered (Firehose on AWS, shoplake ingest locally); holds raw client IPs, referrers and user agents: rows older than ${ACCESS_LOG_BRONZE_RETENTION_DAYS} days are deleted`,
  columns([
    [1, 'record_id', 'string', true, 'Dedup key: request id, delivery id, or line hash + occurrence'],
    [2, 'log_format', 'string', true, 'combined | nginx | apigw'],
    [3, 'request_time', 'timestamptz', true],
    [4, 'client_ip', 'string', false, 'Raw client address (bronze only)'],
    [5, 'client_hash', 'string', false, 'HMAC-SHA256 of the address under the secret salt (32 hex)'],
    [6, 'client_prefix', 'string', false, 'IPv4 /24 or IPv6 /48 network'],
    [7, 'method', 'string', false],
    [8, 'path', 'string', false, 'Path without query string (capped at 2,048 chars)'],
    [9, 'route', 'string', true, 'Route template, ids collapsed (/product/{id})'],
    [10, 'query_keys', { type: 'list', element: 'string' }, false, 'Query parameter names, never values'],
    [11, 'protocol', 'string', false],
    [12, 'status', 'int', true],
    [13, 'bytes', 'long', false],
    [14, 'latency_ms', 'double', false, 'Request time (nginx $request_time, API Gateway responseLatency)'],
    [15, 'referrer', 'string', false, 'Raw referrer (bronze only)'],
    [16, 'referrer_host', 'string', false],
    [17, 'user_agent', 'string', false, 'Raw user agent (bronze only)'],
    [18, 'ua_family', 'string', true],
    [19, 'ua_os', 'string', true],
    [20, 'ua_device', 'string', true, 'desktop | mobile | tablet | bot | …'],
    [21, 'is_bot', 'boolean', true],
    [22, 'host', 'string', false],
    [23, 'request_id', 'string', false],
    [24, 'ingested_at', 'timestamptz', false],
    [25, 'source_file', 'string', false, 'File the line came from (local ingest)'],
    [26, 'source_line', 'long', false, '1-based line of source_file'],
  ]),
  { partition: [day('request_time')], sort: [asc('request_time')] },
);

export const SILVER_ACCESS_REQUESTS = table(
  'silver',
  'access_requests',
  'One row per logged request, deduplicated by record_id; no raw client IP, referrer URL or user agent',
  columns([
    [1, 'record_id', 'string', true],
    [2, 'request_time', 'timestamptz', true, 'UTC'],
    [3, 'request_date', 'date', true],
    [4, 'log_format', 'string', true],
    [5, 'client_hash', 'string', false],
    [6, 'client_prefix', 'string', false],
    [7, 'method', 'string', false],
    [8, 'path', 'string', false],
    [9, 'route', 'string', true],
    [10, 'query_keys', { type: 'list', element: 'string' }, false],
    [11, 'protocol', 'string', false],
    [12, 'status', 'int', true],
    [13, 'status_class', 'string', true, '1xx … 5xx'],
    [14, 'bytes', 'long', false],
    [15, 'latency_ms', 'double', false],
    [16, 'referrer_host', 'string', false],
    [17, 'ua_family', 'string', true],
    [18, 'ua_os', 'string', true],
    [19, 'ua_device', 'string', true],
    [20, 'is_bot', 'boolean', true],
    [21, 'host', 'string', false],
    [22, 'ingested_at', 'timestamptz', false],
    [23, 'etl_run_id', 'string', true],
  ]),
  { partition: [day('request_time')], sort: [asc('request_time')], key: ['record_id'] },
);

export const SILVER_ACCESS_SESSIONS = table(
  'silver',
  'access_sessions',
  'Sessions inferred from log-only traffic: one client pseudonym + user-agent family, split after 30 minutes of inactivity and at UTC midnight',
  columns([
    [1, 'session_key', 'string', true],
    [2, 'session_date', 'date', true],
    [3, 'client_hash', 'string', true],
    [4, 'ua_family', 'string', true],
    [5, 'ua_device', 'string', true],
    [6, 'is_bot', 'boolean', true],
    [7, 'session_start', 'timestamptz', true],
    [8, 'session_end', 'timestamptz', true],
    [9, 'duration_seconds', 'long', true],
    [10, 'requests', 'long', true],
    [11, 'product_page_requests', 'long', true],
    [12, 'error_requests', 'long', true, 'status >= 400'],
    [13, 'landing_route', 'string', false],
    [14, 'etl_run_id', 'string', true],
  ]),
  { partition: [day('session_start')], key: ['session_key'] },
);

export const GOLD_ACCESS_TRAFFIC = table(
  'gold',
  'access_traffic',
  "Requests, 4xx/5xx rates, bot share and latency percentiles per 5-minute, hour and day bucket, per route and for all routes (route = '*')",
  columns([
    [1, 'grain', 'string', true, '5m | 1h | 1d'],
    [2, 'bucket_start', 'timestamptz', true],
    [3, 'bucket_date', 'date', true],
    [4, 'route', 'string', true, "route template, '*' = all routes"],
    [5, 'requests', 'long', true],
    [6, 'status_4xx', 'long', true],
    [7, 'status_5xx', 'long', true],
    [8, 'rate_4xx', 'double', true],
    [9, 'rate_5xx', 'double', true],
    [10, 'bot_requests', 'long', true],
    [11, 'bytes', 'long', false],
    [12, 'latency_p50_ms', 'double', false, 'approx_percentile (Trino/Athena), approx_quantile locally'],
    [13, 'latency_p95_ms', 'double', false],
    [14, 'latency_p99_ms', 'double', false],
    [15, 'latency_max_ms', 'double', false],
  ]),
  { partition: [month('bucket_date')], key: ['grain', 'bucket_start', 'route'] },
);

export const GOLD_ACCESS_TOP = table(
  'gold',
  'access_top',
  'Per day: top paths, top referrer hosts and slowest routes (p95, routes with at least 5 timed requests)',
  columns([
    [1, 'report_date', 'date', true],
    [2, 'kind', 'string', true, 'path | referrer_host | slowest_route'],
    [3, 'rank', 'int', true],
    [4, 'item', 'string', true],
    [5, 'requests', 'long', true],
    [6, 'latency_p95_ms', 'double', false],
    [7, 'rate_5xx', 'double', true],
  ]),
  { partition: [month('report_date')], key: ['report_date', 'kind', 'rank'] },
);

export const GOLD_ACCESS_DAILY_HEALTH = table(
  'gold',
  'access_daily_health',
  'Daily health summary of the logged traffic, with the events-vs-logs reconciliation of product pages',
  columns([
    [1, 'report_date', 'date', true],
    [2, 'requests', 'long', true],
    [3, 'bot_requests', 'long', true],
    [4, 'bot_share', 'double', true],
    [5, 'rate_4xx', 'double', true],
    [6, 'rate_5xx', 'double', true],
    [7, 'latency_p50_ms', 'double', false],
    [8, 'latency_p95_ms', 'double', false],
    [9, 'latency_p99_ms', 'double', false],
    [10, 'unique_clients', 'long', true, 'distinct client pseudonyms'],
    [11, 'sessions', 'long', true, 'inferred sessions (silver.access_sessions)'],
    [12, 'slowest_route', 'string', false],
    [13, 'slowest_route_p95_ms', 'double', false],
    [14, 'product_page_requests', 'long', true, 'non-bot GET /product/{id} answered < 400'],
    [15, 'product_view_events', 'long', true, 'product_view events in silver.events that day'],
    [16, 'product_view_ratio', 'double', false, 'product_page_requests / product_view_events'],
  ]),
  { partition: [month('report_date')], key: ['report_date'] },
);

/** The access-log tables, bronze → gold. */
export const ACCESS_LOG_TABLES: readonly TableSpec[] = [
  BRONZE_ACCESS_LOGS,
  SILVER_ACCESS_REQUESTS,
  SILVER_ACCESS_SESSIONS,
  GOLD_ACCESS_TRAFFIC,
  GOLD_ACCESS_TOP,
  GOLD_ACCESS_DAILY_HEALTH,
];
export const OPS_ETL_RUNS = table(
  'ops',
  'etl_runs',
  'What each ETL run that did work read from bronze, recorded before its first silver write (athena/etl_02_mark_run.sql): the window and the bronze and OLTP fingerprints (row count, latest arrival). Once the run has completed, a later run whose window it covers and that finds the same fingerprints and nothing else pending has nothing to do and skips silver, gold and maintenance (docs/lakehouse.md, "Nothing new: the idle skip")',
  columns([
    [1, 'run_id', 'string', true],
    [2, 'date_from', 'date', true, "First event date the run read (the pending runs' window)"],
    [3, 'date_to', 'date', true, 'Last event date the run read'],
    [4, 'bronze_rows', 'long', true, 'Rows of bronze.events when the run read it'],
    [5, 'bronze_ingested_max', 'timestamptz', false, 'Latest bronze.events ingested_at then'],
    [6, 'oltp_rows', 'long', true, 'Rows of the bronze.oltp_* and bronze.marketing_* tables then'],
    [7, 'oltp_snapshot_max', 'timestamptz', false, 'Latest OLTP / marketing snapshot_at then'],
    [8, 'marked_at', 'timestamptz', true],
    [9, 'access_log_rows', 'long', false, 'Rows of bronze.access_logs then (docs/access-logs.md)'],
    [10, 'access_log_ingested_max', 'timestamptz', false, 'Latest bronze.access_logs ingested_at then'],
  ]),
  { key: ['run_id'] },
);

// ---------------------------------------------------------------------------------------------
// gold: demand forecasting (docs/forecasting.md). Series are products and categories (`level`).
// ---------------------------------------------------------------------------------------------

export const GOLD_DEMAND_DAILY = table(
  'gold',
  'demand_daily',
  "Net demand per product and per category and day, zero-filled from the first sale to the lake's last day; days the lake has no data at all (gaps) have no row",
  columns([
    [1, 'level', 'string', true, 'product | category'],
    [2, 'item_id', 'string', true, 'product_id, or the category name for level = category'],
    [3, 'category', 'string', true, "The product's latest category ((unknown) when none)"],
    [4, 'demand_date', 'date', true],
    [5, 'units', 'long', true, 'Net demand: placed units minus units of cancellation documents'],
    [6, 'gross_units', 'long', true, 'Units of placed orders'],
    [7, 'returned_units', 'long', true, 'Units of cancellation documents (e.g. UCI C-invoices)'],
    [8, 'revenue', MONEY_TYPE, true, 'Revenue of placed lines'],
    [9, 'orders', 'long', true, 'Placed orders with the item'],
    [10, 'customers', 'long', true, 'Distinct customers of those orders'],
    [11, 'avg_price', 'double', false, 'Average unit price paid (NULL without sales)'],
    [12, 'discount_share', 'double', false, 'Share of those orders carrying a discount code'],
    RUN,
  ]),
  { partition: [month('demand_date')], key: ['level', 'item_id', 'demand_date'] },
);

export const GOLD_DEMAND_FEATURES = table(
  'gold',
  'demand_features',
  'Forecasting features per series and day (history up to and including feature_date): lags, rolling means/std, calendar, relative price, trend, category aggregates',
  columns([
    [1, 'level', 'string', true],
    [2, 'item_id', 'string', true],
    [3, 'category', 'string', true],
    [4, 'feature_date', 'date', true],
    [5, 'units', 'long', true],
    [6, 'lag_1', 'long', false, 'Units 1 day before (NULL: no row — before the first sale or a gap)'],
    [7, 'lag_7', 'long', false],
    [8, 'lag_14', 'long', false],
    [9, 'lag_28', 'long', false],
    [10, 'mean_7', 'double', true, 'Mean units over the 7 days ending at feature_date (days with a row)'],
    [11, 'mean_14', 'double', true],
    [12, 'mean_28', 'double', true],
    [13, 'std_7', 'double', false, 'Sample standard deviation over the same windows'],
    [14, 'std_14', 'double', false],
    [15, 'std_28', 'double', false],
    [16, 'day_of_week', 'int', true, 'ISO: 1 = Monday'],
    [17, 'day_of_month', 'int', true],
    [18, 'month_of_year', 'int', true],
    [19, 'avg_price', 'double', false],
    [20, 'price_ratio', 'double', false, 'avg_price / mean avg_price of the 28 days before'],
    [21, 'discount_share', 'double', false],
    [22, 'history_days', 'int', true, "Days since the series' first sale (trend and new-product flag)"],
    [23, 'days_28', 'int', true, 'Days with a row among the last 28 (fewer: gaps or a young series)'],
    [24, 'category_units', 'long', false, "Units of the series' category that day"],
    [25, 'category_mean_7', 'double', false],
    [26, 'category_mean_28', 'double', false],
    [27, 'share_of_category_28', 'double', false, 'mean_28 / category_mean_28'],
    RUN,
  ]),
  { partition: [month('feature_date')], key: ['level', 'item_id', 'feature_date'] },
);

export const GOLD_DEMAND_FORECAST = table(
  'gold',
  'demand_forecast',
  'Demand forecasts per product and category: 1..7 days ahead of the forecast origin, with an 80 % interval, per model version',
  columns([
    [1, 'level', 'string', true, 'product | category'],
    [2, 'item_id', 'string', true],
    [3, 'category', 'string', true],
    [4, 'origin_date', 'date', true, 'Last day of data the forecast is based on'],
    [5, 'forecast_date', 'date', true, 'Day forecast (origin_date + horizon)'],
    [6, 'horizon', 'int', true, 'Days ahead, 1..7'],
    [7, 'model_version', 'string', true],
    [8, 'model', 'string', true, 'gbm | category_share (new products) | sum (categories)'],
    [9, 'forecast', 'double', true, 'Point forecast, units'],
    [10, 'lower', 'double', true, 'Lower bound of the 80 % interval'],
    [11, 'upper', 'double', true, 'Upper bound of the 80 % interval'],
    [12, 'flags', 'string', false, 'Comma-separated: new_product, stopped, capped_outliers'],
    [13, 'created_at', 'timestamptz', true],
  ]),
  {
    partition: [month('forecast_date')],
    key: ['level', 'item_id', 'forecast_date', 'horizon', 'model_version'],
  },
);

export const GOLD_DEMAND_VS_ACTUAL = table(
  'gold',
  'demand_vs_actual',
  "Forecasts beside what was then sold (net units), once the day's actuals are in the lake",
  columns([
    [1, 'level', 'string', true],
    [2, 'item_id', 'string', true],
    [3, 'category', 'string', true],
    [4, 'forecast_date', 'date', true],
    [5, 'horizon', 'int', true],
    [6, 'model_version', 'string', true],
    [7, 'forecast', 'double', true],
    [8, 'lower', 'double', true],
    [9, 'upper', 'double', true],
    [10, 'actual', 'long', true],
    [11, 'abs_error', 'double', true],
    [12, 'pct_error', 'double', false, '(forecast - actual) / actual; NULL when actual is 0'],
    [13, 'in_interval', 'boolean', true],
    RUN,
  ]),
  {
    partition: [month('forecast_date')],
    key: ['level', 'item_id', 'forecast_date', 'horizon', 'model_version'],
  },
);

/** Every table of the catalog, bronze → ml. */
export const TABLES: readonly TableSpec[] = [
  BRONZE_EVENTS,
  BRONZE_OLTP_CUSTOMERS,
  BRONZE_OLTP_PRODUCTS,
  BRONZE_OLTP_ORDERS,
  BRONZE_OLTP_ORDER_LINES,
  BRONZE_OLTP_REVIEWS,
  BRONZE_OLTP_PAYMENTS,
  BRONZE_MARKETING_LEADS,
  BRONZE_MARKETING_DEALS,
  SILVER_EVENTS,
  SILVER_SESSIONS,
  SILVER_ORDERS,
  SILVER_ORDER_LINES,
  SILVER_DIM_CUSTOMER,
  SILVER_DIM_PRODUCT,
  SILVER_MARKETING_LEADS,
  SILVER_MARKETING_DEALS,
  SILVER_PAYMENTS,
  SILVER_REVIEWS,
  GOLD_DAILY_SALES,
  GOLD_MONTHLY_KPIS,
  GOLD_CONVERSION_FUNNEL,
  GOLD_CATEGORY_REVENUE,
  GOLD_TOP_PRODUCTS,
  GOLD_CUSTOMER_LTV,
  GOLD_REPEAT_PURCHASE,
  GOLD_CANCELLATIONS,
  GOLD_REVIEW_RATINGS,
  GOLD_PRODUCT_RATINGS,
  GOLD_PAYMENT_RECONCILIATION,
  GOLD_CAMPAIGN_ATTRIBUTION,
  GOLD_REC_CLICK_THROUGH,
  GOLD_REC_IMPRESSION_CTR,
  GOLD_MARKETING_FUNNEL,
  GOLD_REC_AB_ARMS,
  GOLD_DEMAND_DAILY,
  GOLD_DEMAND_FEATURES,
  GOLD_DEMAND_FORECAST,
  GOLD_DEMAND_VS_ACTUAL,
  OPS_DATA_QUALITY_RESULTS,
  OPS_REJECTED_EVENTS,
  OPS_ETL_PENDING,
  OPS_ETL_RUNS,
  OPS_EXTRACT_WATERMARKS,
  OPS_EXTRACT_REJECTS,
  ...ML_TABLES,
  ...ACCESS_LOG_TABLES,
];

/** `namespace.name`, the logical identifier SQL uses. */
export function qualifiedName(t: Pick<TableSpec, 'namespace' | 'name'>): string {
  return `${t.namespace}.${t.name}`;
}

const BY_NAME = new Map(TABLES.map((t) => [qualifiedName(t), t]));

export class UnknownTableError extends Error {
  constructor(readonly table: string) {
    super(
      `unknown table ${JSON.stringify(table.slice(0, 120))}: not in the lake catalog (see \`shoplake tables\`)`,
    );
    this.name = 'UnknownTableError';
  }
}

/** Looks a table up by `namespace.name`; throws `UnknownTableError` for anything else. */
export function getTable(qualified: string): TableSpec {
  const t = BY_NAME.get(qualified.toLowerCase());
  if (!t) throw new UnknownTableError(qualified);
  return t;
}

/** True if `namespace.name` is a catalog table. */
export function isCatalogTable(qualified: string): boolean {
  return BY_NAME.has(qualified.toLowerCase());
}
