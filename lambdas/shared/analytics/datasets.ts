/**
 * The dashboard data sets, declared once: each is one parameterised query in
 * `athena/analytics_<name>.sql` (Trino SQL, `:from`/`:to`/`:category` execution parameters),
 * its result columns, the parameters it accepts and the visuals that show it. The analytics API
 * (`GET /analytics/{dataset}`), the local web dashboard, the QuickSight data sets and dashboard
 * and the OpenAPI document are all built from this list, so they cannot drift.
 *
 * Value conventions of every data set (both engines, JSON and CSV): money is rounded to cents
 * and returned as a number (`CAST(… AS double)` in the SQL, whatever the gold column type);
 * rates are fractions (0.25 = 25 %); months and dates are `YYYY-MM-DD` strings.
 */

/** Query parameters of the analytics API; each data set accepts a subset. */
export const ANALYTICS_PARAMS = ['from', 'to', 'category'] as const;
export type AnalyticsParam = (typeof ANALYTICS_PARAMS)[number];

/** How a column's values look: drives JSON typing, CSV, chart axes and QuickSight types. */
export type ColumnKind = 'date' | 'string' | 'integer' | 'number' | 'money' | 'rate';

export interface DatasetColumn {
  readonly name: string;
  readonly kind: ColumnKind;
  readonly label: string;
}

export const SHEETS = [
  { id: 'monthly', title: 'Monthly business' },
  { id: 'customers', title: 'Customers & marketing' },
  { id: 'products', title: 'Products & recommendations' },
  { id: 'operations', title: 'Operations (access logs)' },
] as const;
export type SheetId = (typeof SHEETS)[number]['id'];

/**
 * - `kpi`: one tile per `values` column: the range's last month and its change against the month
 *   before.
 * - `line` / `bar`: `x` on the category axis, one series per `values` column; with `seriesBy`,
 *   one series per distinct value of that column (e.g. revenue per category, stacked).
 * - `funnel`: the `values` columns summed over the range, as funnel steps.
 * - `table`: the rows, `values` as the shown columns.
 */
export type VisualKind = 'kpi' | 'line' | 'bar' | 'funnel' | 'table';

export interface DatasetVisual {
  readonly id: string;
  readonly sheet: SheetId;
  readonly title: string;
  readonly kind: VisualKind;
  readonly x?: string;
  readonly seriesBy?: string;
  readonly values: readonly string[];
}

export interface AnalyticsDataset {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** SQL file under `athena/`. */
  readonly file: string;
  /** Parameters the query takes; `from`/`to` always (month bounds, inclusive). */
  readonly params: readonly AnalyticsParam[];
  readonly columns: readonly DatasetColumn[];
  readonly visuals: readonly DatasetVisual[];
}

const c = (name: string, kind: ColumnKind, label: string): DatasetColumn => ({ name, kind, label });
const MONTH = c('month', 'date', 'Month');

export const ANALYTICS_DATASETS: readonly AnalyticsDataset[] = [
  {
    name: 'monthly_kpis',
    title: 'Monthly KPIs',
    description:
      'Revenue, net revenue, orders, units, AOV, active/new/returning customers, repeat, conversion and cancellation rates per month (shop-wide).',
    file: 'analytics_monthly_kpis.sql',
    params: ['from', 'to'],
    columns: [
      MONTH,
      c('revenue', 'money', 'Revenue'),
      c('net_revenue', 'money', 'Net revenue'),
      c('orders', 'integer', 'Orders'),
      c('units', 'integer', 'Units'),
      c('avg_order_value', 'money', 'Average order value'),
      c('active_customers', 'integer', 'Active customers'),
      c('new_customers', 'integer', 'New customers'),
      c('returning_customers', 'integer', 'Returning customers'),
      c('repeat_rate', 'rate', 'Repeat-purchase rate'),
      c('sessions', 'integer', 'Sessions'),
      c('conversion_rate', 'rate', 'Conversion rate'),
      c('cancelled_orders', 'integer', 'Cancelled orders'),
      c('cancellation_rate', 'rate', 'Cancellation rate'),
    ],
    visuals: [
      {
        id: 'kpi-tiles',
        sheet: 'monthly',
        title: 'This month',
        kind: 'kpi',
        values: [
          'revenue',
          'net_revenue',
          'orders',
          'avg_order_value',
          'conversion_rate',
          'cancellation_rate',
        ],
      },
      {
        id: 'revenue',
        sheet: 'monthly',
        title: 'Revenue and net revenue',
        kind: 'line',
        x: 'month',
        values: ['revenue', 'net_revenue'],
      },
      {
        id: 'orders-units',
        sheet: 'monthly',
        title: 'Orders and units',
        kind: 'bar',
        x: 'month',
        values: ['orders', 'units'],
      },
      {
        id: 'rates',
        sheet: 'monthly',
        title: 'Conversion and cancellation rate',
        kind: 'line',
        x: 'month',
        values: ['conversion_rate', 'cancellation_rate'],
      },
      {
        id: 'customer-tiles',
        sheet: 'customers',
        title: 'Customers this month',
        kind: 'kpi',
        values: ['active_customers', 'new_customers', 'returning_customers', 'repeat_rate'],
      },
      {
        id: 'customers',
        sheet: 'customers',
        title: 'New and returning customers',
        kind: 'bar',
        x: 'month',
        values: ['new_customers', 'returning_customers'],
      },
      {
        id: 'repeat-rate',
        sheet: 'customers',
        title: 'Repeat-purchase rate and AOV',
        kind: 'line',
        x: 'month',
        values: ['repeat_rate', 'avg_order_value'],
      },
    ],
  },
  {
    name: 'conversion_funnel',
    title: 'Conversion funnel',
    description: 'Sessions that viewed → carted → checked out → purchased, per month, with step rates.',
    file: 'analytics_conversion_funnel.sql',
    params: ['from', 'to'],
    columns: [
      MONTH,
      c('sessions', 'integer', 'Sessions'),
      c('viewed', 'integer', 'Viewed a product'),
      c('carted', 'integer', 'Added to cart'),
      c('checked_out', 'integer', 'Began checkout'),
      c('purchased', 'integer', 'Purchased'),
      c('view_to_cart', 'rate', 'View → cart'),
      c('cart_to_checkout', 'rate', 'Cart → checkout'),
      c('checkout_to_purchase', 'rate', 'Checkout → purchase'),
      c('session_conversion', 'rate', 'Session conversion'),
    ],
    visuals: [
      {
        id: 'funnel',
        sheet: 'monthly',
        title: 'Conversion funnel (sessions)',
        kind: 'funnel',
        values: ['sessions', 'viewed', 'carted', 'checked_out', 'purchased'],
      },
    ],
  },
  {
    name: 'demand_vs_actual',
    title: 'Demand forecast vs actual',
    description:
      'Category demand forecasts (horizons 1..7, every model version) beside the units then sold, per week: WAPE and 80 % interval coverage (docs/forecasting.md).',
    file: 'analytics_demand_vs_actual.sql',
    params: ['from', 'to', 'category'],
    columns: [
      c('week', 'date', 'Week'),
      c('category', 'string', 'Category'),
      c('forecast', 'number', 'Forecast units'),
      c('actual', 'integer', 'Actual units'),
      c('wape', 'rate', 'WAPE'),
      c('coverage', 'rate', '80 % interval coverage'),
    ],
    visuals: [
      {
        id: 'demand-vs-actual',
        sheet: 'products',
        title: 'Demand forecast vs actual per week',
        kind: 'table',
        values: ['week', 'category', 'forecast', 'actual', 'wape', 'coverage'],
      },
    ],
  },
  {
    name: 'category_revenue',
    title: 'Revenue by category',
    description: 'Revenue, units and orders per category and month, with month-over-month growth.',
    file: 'analytics_category_revenue.sql',
    params: ['from', 'to', 'category'],
    columns: [
      MONTH,
      c('category', 'string', 'Category'),
      c('revenue', 'money', 'Revenue'),
      c('units', 'integer', 'Units'),
      c('orders', 'integer', 'Orders'),
      c('prev_month_revenue', 'money', 'Previous month revenue'),
      c('mom_growth', 'rate', 'Month-over-month growth'),
    ],
    visuals: [
      {
        id: 'category-revenue',
        sheet: 'monthly',
        title: 'Revenue by category per month',
        kind: 'bar',
        x: 'month',
        seriesBy: 'category',
        values: ['revenue'],
      },
      {
        id: 'category-growth',
        sheet: 'monthly',
        title: 'Category growth month over month',
        kind: 'table',
        values: ['month', 'category', 'revenue', 'prev_month_revenue', 'mom_growth'],
      },
    ],
  },
  {
    name: 'top_products',
    title: 'Top products',
    description: "The 20 products with the most revenue over the range (from gold's monthly top-20 lists).",
    file: 'analytics_top_products.sql',
    params: ['from', 'to', 'category'],
    columns: [
      c('rank', 'integer', 'Rank'),
      c('product_id', 'string', 'Product'),
      c('category', 'string', 'Category'),
      c('revenue', 'money', 'Revenue'),
      c('units', 'integer', 'Units'),
      c('orders', 'integer', 'Orders'),
      c('months_in_top', 'integer', 'Months in top 20'),
    ],
    visuals: [
      {
        id: 'top-products',
        sheet: 'products',
        title: 'Top products by revenue',
        kind: 'bar',
        x: 'product_id',
        values: ['revenue'],
      },
      {
        id: 'top-products-table',
        sheet: 'products',
        title: 'Top products',
        kind: 'table',
        values: ['rank', 'product_id', 'category', 'revenue', 'units', 'orders'],
      },
    ],
  },
  {
    name: 'top_customers',
    title: 'Top customers by lifetime value',
    description: 'The 50 customers with the highest lifetime value among those who ordered in the range.',
    file: 'analytics_top_customers.sql',
    params: ['from', 'to'],
    columns: [
      c('rank', 'integer', 'Rank'),
      c('customer_id', 'string', 'Customer'),
      c('country', 'string', 'Country'),
      c('first_order_date', 'date', 'First order'),
      c('last_order_date', 'date', 'Last order'),
      c('orders', 'integer', 'Orders'),
      c('revenue', 'money', 'Revenue'),
      c('cancelled_revenue', 'money', 'Cancelled'),
      c('lifetime_value', 'money', 'Lifetime value'),
      c('avg_order_value', 'money', 'AOV'),
    ],
    visuals: [
      {
        id: 'top-customers',
        sheet: 'customers',
        title: 'Top customers by lifetime value',
        kind: 'table',
        values: [
          'rank',
          'customer_id',
          'country',
          'orders',
          'lifetime_value',
          'avg_order_value',
          'last_order_date',
        ],
      },
    ],
  },
  {
    name: 'review_ratings',
    title: 'Review ratings',
    description: 'Reviews per month with the average rating and the 1–5 star distribution.',
    file: 'analytics_review_ratings.sql',
    params: ['from', 'to', 'category'],
    columns: [
      MONTH,
      c('reviews', 'integer', 'Reviews'),
      c('avg_rating', 'number', 'Average rating'),
      c('rating_1', 'integer', '1 star'),
      c('rating_2', 'integer', '2 stars'),
      c('rating_3', 'integer', '3 stars'),
      c('rating_4', 'integer', '4 stars'),
      c('rating_5', 'integer', '5 stars'),
    ],
    visuals: [
      {
        id: 'ratings',
        sheet: 'products',
        title: 'Review ratings per month',
        kind: 'bar',
        x: 'month',
        values: ['rating_1', 'rating_2', 'rating_3', 'rating_4', 'rating_5'],
      },
      {
        id: 'avg-rating',
        sheet: 'products',
        title: 'Average rating',
        kind: 'line',
        x: 'month',
        values: ['avg_rating'],
      },
    ],
  },
  {
    name: 'campaign_attribution',
    title: 'Campaign attribution',
    description: 'Sessions, converted sessions and revenue per campaign (first touch) over the range.',
    file: 'analytics_campaign_attribution.sql',
    params: ['from', 'to'],
    columns: [
      c('utm_source', 'string', 'Source'),
      c('utm_campaign', 'string', 'Campaign'),
      c('sessions', 'integer', 'Sessions'),
      c('converted_sessions', 'integer', 'Converted sessions'),
      c('revenue', 'money', 'Revenue'),
      c('conversion_rate', 'rate', 'Conversion rate'),
    ],
    visuals: [
      {
        id: 'campaign-revenue',
        sheet: 'customers',
        title: 'Revenue by campaign',
        kind: 'bar',
        x: 'utm_campaign',
        values: ['revenue'],
      },
      {
        id: 'campaigns',
        sheet: 'customers',
        title: 'Campaigns',
        kind: 'table',
        values: [
          'utm_source',
          'utm_campaign',
          'sessions',
          'converted_sessions',
          'conversion_rate',
          'revenue',
        ],
      },
    ],
  },
  {
    name: 'rec_click_through',
    title: 'Recommendation click-through',
    description:
      'Recommendation clicks per month, their share of product views, and carts/purchases that followed.',
    file: 'analytics_rec_click_through.sql',
    params: ['from', 'to'],
    columns: [
      MONTH,
      c('product_views', 'integer', 'Product views'),
      c('rec_clicks', 'integer', 'Recommendation clicks'),
      c('click_through_share', 'rate', 'Share of product views'),
      c('rec_sessions', 'integer', 'Sessions with a click'),
      c('rec_sessions_converted', 'integer', 'Of which converted'),
      c('rec_carted_products', 'integer', 'Clicked products carted'),
      c('rec_purchased_products', 'integer', 'Clicked products purchased'),
    ],
    visuals: [
      {
        id: 'rec-clicks',
        sheet: 'products',
        title: 'Recommendation clicks and what followed',
        kind: 'bar',
        x: 'month',
        values: ['rec_clicks', 'rec_carted_products', 'rec_purchased_products'],
      },
      {
        id: 'rec-share',
        sheet: 'products',
        title: 'Recommendation share of product views',
        kind: 'line',
        x: 'month',
        values: ['click_through_share'],
      },
    ],
  },
  {
    name: 'rec_impression_ctr',
    title: 'Recommendation CTR by position',
    description:
      'True click-through rate of recommendations per month, model version and position: impressions shown and clicks on them.',
    file: 'analytics_rec_impression_ctr.sql',
    params: ['from', 'to'],
    columns: [
      MONTH,
      c('model_version', 'string', 'Model version'),
      c('position', 'integer', 'Position'),
      c('impressions', 'integer', 'Impressions'),
      c('clicks', 'integer', 'Clicks'),
      c('ctr', 'rate', 'CTR'),
    ],
    visuals: [
      {
        id: 'rec-impression-ctr',
        sheet: 'products',
        title: 'Recommendation CTR by model version and position',
        kind: 'table',
        values: ['month', 'model_version', 'position', 'impressions', 'clicks', 'ctr'],
      },
    ],
  },
  {
    name: 'rec_ab_test',
    title: 'Recommendation A/B tests',
    description:
      'A/B tests between model versions, per arm: impressions, CTR, add-to-cart and conversion rates with 95% intervals; treatment rows add the difference to the control and its p-value.',
    file: 'analytics_rec_ab_test.sql',
    params: ['from', 'to'],
    columns: [
      c('experiment', 'string', 'A/B test'),
      c('arm', 'string', 'Arm'),
      c('model_version', 'string', 'Model version'),
      c('first_day', 'date', 'First impression'),
      c('last_day', 'date', 'Last impression'),
      c('shoppers', 'integer', 'Shoppers'),
      c('impressions', 'integer', 'Impressions'),
      c('clicks', 'integer', 'Clicked impressions'),
      c('ctr', 'rate', 'CTR'),
      c('ctr_low', 'rate', 'CTR, 95% low'),
      c('ctr_high', 'rate', 'CTR, 95% high'),
      c('ctr_diff', 'rate', 'CTR: B − A'),
      c('ctr_diff_low', 'rate', 'CTR: B − A, 95% low'),
      c('ctr_diff_high', 'rate', 'CTR: B − A, 95% high'),
      c('ctr_p_value', 'number', 'CTR: p-value'),
      c('carts', 'integer', 'Carted impressions'),
      c('cart_rate', 'rate', 'Add-to-cart rate'),
      c('cart_rate_low', 'rate', 'Add-to-cart rate, 95% low'),
      c('cart_rate_high', 'rate', 'Add-to-cart rate, 95% high'),
      c('cart_rate_diff', 'rate', 'Add-to-cart rate: B − A'),
      c('cart_rate_diff_low', 'rate', 'Add-to-cart rate: B − A, 95% low'),
      c('cart_rate_diff_high', 'rate', 'Add-to-cart rate: B − A, 95% high'),
      c('cart_rate_p_value', 'number', 'Add-to-cart rate: p-value'),
      c('conversions', 'integer', 'Converted impressions'),
      c('conversion_rate', 'rate', 'Conversion rate'),
      c('conversion_rate_low', 'rate', 'Conversion rate, 95% low'),
      c('conversion_rate_high', 'rate', 'Conversion rate, 95% high'),
      c('conversion_rate_diff', 'rate', 'Conversion rate: B − A'),
      c('conversion_rate_diff_low', 'rate', 'Conversion rate: B − A, 95% low'),
      c('conversion_rate_diff_high', 'rate', 'Conversion rate: B − A, 95% high'),
      c('conversion_rate_p_value', 'number', 'Conversion rate: p-value'),
    ],
    visuals: [
      {
        id: 'rec-ab-test',
        sheet: 'products',
        title: 'Recommendation A/B tests (per arm)',
        kind: 'table',
        values: [
          'experiment',
          'arm',
          'model_version',
          'impressions',
          'ctr',
          'ctr_p_value',
          'cart_rate',
          'cart_rate_p_value',
          'conversion_rate',
          'conversion_rate_p_value',
        ],
      },
    ],
  },
  {
    name: 'access_daily_health',
    title: 'Traffic health per day',
    description:
      'Per day of logged traffic (web server and API access logs): requests, 4xx/5xx rates, bot share, latency percentiles, clients, inferred sessions, and product-page requests per product_view event.',
    file: 'analytics_access_daily_health.sql',
    params: ['from', 'to'],
    columns: [
      c('day', 'date', 'Day'),
      c('requests', 'integer', 'Requests'),
      c('rate_4xx', 'rate', '4xx rate'),
      c('rate_5xx', 'rate', '5xx rate'),
      c('bot_share', 'rate', 'Bot share'),
      c('latency_p50_ms', 'number', 'Latency p50 (ms)'),
      c('latency_p95_ms', 'number', 'Latency p95 (ms)'),
      c('latency_p99_ms', 'number', 'Latency p99 (ms)'),
      c('unique_clients', 'integer', 'Clients'),
      c('sessions', 'integer', 'Sessions (inferred)'),
      c('product_view_ratio', 'number', 'Product pages per product_view event'),
    ],
    visuals: [
      {
        id: 'ops-requests',
        sheet: 'operations',
        title: 'Requests per day',
        kind: 'bar',
        x: 'day',
        values: ['requests'],
      },
      {
        id: 'ops-error-rates',
        sheet: 'operations',
        title: 'Error rates and bot share',
        kind: 'line',
        x: 'day',
        values: ['rate_4xx', 'rate_5xx', 'bot_share'],
      },
      {
        id: 'ops-latency',
        sheet: 'operations',
        title: 'Latency percentiles (ms)',
        kind: 'line',
        x: 'day',
        values: ['latency_p50_ms', 'latency_p95_ms', 'latency_p99_ms'],
      },
      {
        id: 'ops-health',
        sheet: 'operations',
        title: 'Daily health summary',
        kind: 'table',
        values: ['day', 'requests', 'rate_5xx', 'latency_p95_ms', 'sessions', 'product_view_ratio'],
      },
    ],
  },
  {
    name: 'access_slowest_routes',
    title: 'Slowest routes',
    description:
      'Routes (ids collapsed) by their worst daily p95 latency over the range, among the daily slowest-20 lists, with requests and 5xx rate.',
    file: 'analytics_access_slowest_routes.sql',
    params: ['from', 'to'],
    columns: [
      c('route', 'string', 'Route'),
      c('latency_p95_ms', 'number', 'Worst daily p95 (ms)'),
      c('requests', 'integer', 'Requests'),
      c('rate_5xx', 'rate', '5xx rate'),
      c('days', 'integer', 'Days in the slowest 20'),
    ],
    visuals: [
      {
        id: 'ops-slowest-routes',
        sheet: 'operations',
        title: 'Slowest routes (p95)',
        kind: 'bar',
        x: 'route',
        values: ['latency_p95_ms'],
      },
    ],
  },
  {
    name: 'access_top_items',
    title: 'Top paths and referrers',
    description:
      'The most requested paths and the most frequent referrer hosts over the range (from the daily top-20 lists).',
    file: 'analytics_access_top_items.sql',
    params: ['from', 'to'],
    columns: [
      c('kind', 'string', 'Kind'),
      c('item', 'string', 'Path / referrer host'),
      c('requests', 'integer', 'Requests'),
    ],
    visuals: [
      {
        id: 'ops-top-items',
        sheet: 'operations',
        title: 'Top paths and referrer hosts',
        kind: 'table',
        values: ['kind', 'item', 'requests'],
      },
    ],
  },
  {
    name: 'categories',
    title: 'Categories',
    description: 'Product categories with revenue in the range (the category filter offers these).',
    file: 'analytics_categories.sql',
    params: ['from', 'to'],
    columns: [c('category', 'string', 'Category'), c('revenue', 'money', 'Revenue')],
    visuals: [],
  },
];

export const ANALYTICS_DATASET_NAMES = ANALYTICS_DATASETS.map((d) => d.name);

/** The data set called `name`, or undefined. */
export function analyticsDataset(name: string): AnalyticsDataset | undefined {
  return ANALYTICS_DATASETS.find((d) => d.name === name);
}
