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
  ]),
  { partition: [day('snapshot_at')], key: ['snapshot_at', 'order_id', 'line_no'] },
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
    [6, 'oltp_rows', 'long', true, 'Rows of the bronze.oltp_* tables then'],
    [7, 'oltp_snapshot_max', 'timestamptz', false, 'Latest OLTP snapshot_at then'],
    [8, 'marked_at', 'timestamptz', true],
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
  SILVER_EVENTS,
  SILVER_SESSIONS,
  SILVER_ORDERS,
  SILVER_ORDER_LINES,
  SILVER_DIM_CUSTOMER,
  SILVER_DIM_PRODUCT,
  GOLD_DAILY_SALES,
  GOLD_MONTHLY_KPIS,
  GOLD_CONVERSION_FUNNEL,
  GOLD_CATEGORY_REVENUE,
  GOLD_TOP_PRODUCTS,
  GOLD_CUSTOMER_LTV,
  GOLD_REPEAT_PURCHASE,
  GOLD_CANCELLATIONS,
  GOLD_REVIEW_RATINGS,
  GOLD_CAMPAIGN_ATTRIBUTION,
  GOLD_REC_CLICK_THROUGH,
  GOLD_REC_IMPRESSION_CTR,
  GOLD_REC_AB_ARMS,
  GOLD_DEMAND_DAILY,
  GOLD_DEMAND_FEATURES,
  GOLD_DEMAND_FORECAST,
  GOLD_DEMAND_VS_ACTUAL,
  OPS_DATA_QUALITY_RESULTS,
  OPS_REJECTED_EVENTS,
  OPS_ETL_PENDING,
  OPS_ETL_RUNS,
  ...ML_TABLES,
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
