-- gold.top_products, step 2 of 2: the 20 products with the highest placed revenue of each
-- affected month (ties broken by product_id). Params: :run_id.
INSERT INTO gold.top_products (month, rank, product_id, category, revenue, units, orders, etl_run_id)
WITH affected AS (
  SELECT DISTINCT CAST(date_trunc('month', o.order_date) AS date) AS m FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
p AS (
  SELECT
    CAST(date_trunc('month', l.order_date) AS date) AS m,
    l.product_id,
    max(l.category) AS category,
    sum(l.line_amount) AS revenue,
    sum(l.quantity) AS units,
    count(DISTINCT l.order_id) AS orders
  FROM silver.order_lines l
  WHERE l.status = 'placed' AND CAST(date_trunc('month', l.order_date) AS date) IN (SELECT m FROM affected)
  GROUP BY CAST(date_trunc('month', l.order_date) AS date), l.product_id
),
ranked AS (
  SELECT p.*, row_number() OVER (PARTITION BY p.m ORDER BY p.revenue DESC, p.product_id) AS rnk FROM p
)
SELECT r.m, CAST(r.rnk AS integer), r.product_id, r.category, CAST(r.revenue AS decimal(38,2)), r.units, r.orders, :run_id
FROM ranked r
WHERE r.rnk <= 20
