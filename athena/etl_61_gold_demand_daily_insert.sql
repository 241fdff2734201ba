-- gold.demand_daily, step 2 of 2: net demand per product and per category and day, for the days
-- dropped in step 1. A product's series runs from its first sale to the lake's last day and is
-- zero-filled on lake days without its sales. A lake day is a day with any event or order: a day
-- with neither is a gap (no data), not zero sales, and gets no row. Net demand: units of placed
-- orders minus units of cancellation documents (event-only cancelled orders, e.g. UCI C-invoices);
-- an order cancelled in the OLTP system is simply not demand. Params: :run_id.
INSERT INTO gold.demand_daily (
  level, item_id, category, demand_date, units, gross_units, returned_units, revenue, orders, customers,
  avg_price, discount_share, etl_run_id
)
WITH since AS (
  SELECT min(o.order_date) AS d FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
lake_days AS (
  SELECT DISTINCT o.order_date AS d FROM silver.orders o
  UNION
  SELECT DISTINCT CAST(e.event_time AS date) FROM silver.events e
),
lines AS (
  SELECT
    l.product_id,
    coalesce(l.category, '(unknown)') AS category,
    l.order_date,
    l.order_id,
    l.customer_id,
    CASE WHEN l.status = 'placed' THEN l.quantity ELSE 0 END AS gross_units,
    CASE WHEN l.status = 'cancelled' AND o.source = 'event' THEN abs(l.quantity) ELSE 0 END AS returned_units,
    CASE WHEN l.status = 'placed' THEN l.line_amount END AS placed_amount,
    CASE WHEN l.status = 'placed' THEN l.order_id END AS placed_order,
    CASE WHEN l.status = 'placed' AND o.discount_code IS NOT NULL THEN l.order_id END AS discounted_order,
    CASE WHEN l.status = 'placed' THEN l.customer_id END AS placed_customer
  FROM silver.order_lines l
  JOIN silver.orders o ON o.order_id = l.order_id
),
products AS (
  SELECT product_id, max_by(category, order_date) AS category, min(order_date) AS first_day
  FROM lines
  WHERE gross_units > 0
  GROUP BY product_id
),
grid AS (
  SELECT p.product_id, p.category, d.d
  FROM products p
  JOIN lake_days d ON d.d >= p.first_day
  WHERE d.d >= (SELECT since.d FROM since)
),
daily AS (
  SELECT
    product_id,
    order_date,
    sum(gross_units) AS gross_units,
    sum(returned_units) AS returned_units,
    sum(placed_amount) AS revenue,
    count(DISTINCT placed_order) AS orders,
    count(DISTINCT placed_customer) AS customers,
    CAST(sum(placed_amount) AS double) / nullif(CAST(sum(gross_units) AS double), 0) AS avg_price,
    CAST(count(DISTINCT discounted_order) AS double) / nullif(CAST(count(DISTINCT placed_order) AS double), 0)
      AS discount_share
  FROM lines
  WHERE order_date >= (SELECT since.d FROM since)
  GROUP BY product_id, order_date
),
by_product AS (
  SELECT
    g.product_id AS item_id,
    g.category,
    g.d AS demand_date,
    coalesce(x.gross_units, 0) - coalesce(x.returned_units, 0) AS units,
    coalesce(x.gross_units, 0) AS gross_units,
    coalesce(x.returned_units, 0) AS returned_units,
    CAST(coalesce(x.revenue, 0) AS decimal(38,2)) AS revenue,
    coalesce(x.orders, 0) AS orders,
    coalesce(x.customers, 0) AS customers,
    x.avg_price,
    x.discount_share
  FROM grid g
  LEFT JOIN daily x ON x.product_id = g.product_id AND x.order_date = g.d
),
cat_lines AS (
  SELECT p.category, l.order_date, l.gross_units, l.placed_amount, l.placed_order, l.discounted_order, l.placed_customer
  FROM lines l
  JOIN products p ON p.product_id = l.product_id
  WHERE l.order_date >= (SELECT since.d FROM since) AND l.gross_units > 0
),
cat_daily AS (
  SELECT
    category,
    order_date,
    count(DISTINCT placed_order) AS orders,
    count(DISTINCT placed_customer) AS customers,
    CAST(count(DISTINCT discounted_order) AS double) / nullif(CAST(count(DISTINCT placed_order) AS double), 0)
      AS discount_share
  FROM cat_lines
  GROUP BY category, order_date
),
by_category AS (
  SELECT
    b.category AS item_id,
    b.category,
    b.demand_date,
    sum(b.units) AS units,
    sum(b.gross_units) AS gross_units,
    sum(b.returned_units) AS returned_units,
    CAST(sum(b.revenue) AS decimal(38,2)) AS revenue,
    CAST(sum(b.revenue) AS double) / nullif(CAST(sum(b.gross_units) AS double), 0) AS avg_price
  FROM by_product b
  GROUP BY b.category, b.demand_date
)
SELECT 'product', item_id, category, demand_date, CAST(units AS bigint), CAST(gross_units AS bigint),
  CAST(returned_units AS bigint), revenue, CAST(orders AS bigint), CAST(customers AS bigint), avg_price, discount_share, :run_id
FROM by_product
UNION ALL
SELECT 'category', c.item_id, c.category, c.demand_date, CAST(c.units AS bigint), CAST(c.gross_units AS bigint),
  CAST(c.returned_units AS bigint), c.revenue, CAST(coalesce(k.orders, 0) AS bigint), CAST(coalesce(k.customers, 0) AS bigint),
  c.avg_price, k.discount_share, :run_id
FROM by_category c
LEFT JOIN cat_daily k ON k.category = c.category AND k.order_date = c.demand_date
