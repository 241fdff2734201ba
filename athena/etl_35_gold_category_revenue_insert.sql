-- gold.category_revenue, step 2 of 2: revenue by category for the months dropped in step 1,
-- with month-over-month growth against the month before. Params: :run_id.
INSERT INTO gold.category_revenue (month, category, revenue, units, orders, prev_month_revenue, mom_growth, etl_run_id)
WITH touched AS (
  SELECT DISTINCT CAST(date_trunc('month', o.order_date) AS date) AS m FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
affected AS (
  SELECT m FROM touched
  UNION
  SELECT CAST(date_add('month', 1, m) AS date) FROM touched
),
monthly AS (
  SELECT
    CAST(date_trunc('month', l.order_date) AS date) AS m,
    coalesce(l.category, '(unknown)') AS category,
    sum(l.line_amount) AS revenue,
    sum(l.quantity) AS units,
    count(DISTINCT l.order_id) AS orders
  FROM silver.order_lines l
  WHERE l.status = 'placed'
    AND CAST(date_trunc('month', l.order_date) AS date) IN (
      SELECT m FROM affected UNION SELECT CAST(date_add('month', -1, m) AS date) FROM affected
    )
  GROUP BY CAST(date_trunc('month', l.order_date) AS date), coalesce(l.category, '(unknown)')
)
SELECT
  cur.m,
  cur.category,
  CAST(cur.revenue AS decimal(38,2)),
  cur.units,
  cur.orders,
  CAST(prev.revenue AS decimal(38,2)),
  CAST(cur.revenue - prev.revenue AS double) / CAST(nullif(prev.revenue, 0) AS double),
  :run_id
FROM monthly cur
LEFT JOIN monthly prev ON prev.category = cur.category AND prev.m = CAST(date_add('month', -1, cur.m) AS date)
WHERE cur.m IN (SELECT m FROM affected)
