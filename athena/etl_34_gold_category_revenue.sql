-- gold.category_revenue with month-over-month growth, for the months whose orders changed in
-- this run and the month after each (its growth depends on them). Params: :run_id.
MERGE INTO gold.category_revenue t
USING (
  WITH touched AS (
    SELECT DISTINCT CAST(date_trunc('month', o.order_date) AS date) AS m FROM silver.orders o WHERE o.etl_run_id = :run_id
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
    cur.m AS month,
    cur.category,
    cur.revenue,
    cur.units,
    cur.orders,
    prev.revenue AS prev_month_revenue,
    (cur.revenue - prev.revenue) / nullif(prev.revenue, 0) AS mom_growth
  FROM monthly cur
  LEFT JOIN monthly prev ON prev.category = cur.category AND prev.m = CAST(date_add('month', -1, cur.m) AS date)
  WHERE cur.m IN (SELECT m FROM affected)
) s
ON t.month = s.month AND t.category = s.category
WHEN MATCHED THEN
  UPDATE SET revenue = s.revenue, units = s.units, orders = s.orders, prev_month_revenue = s.prev_month_revenue,
    mom_growth = s.mom_growth, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (month, category, revenue, units, orders, prev_month_revenue, mom_growth, etl_run_id)
  VALUES (s.month, s.category, s.revenue, s.units, s.orders, s.prev_month_revenue, s.mom_growth, :run_id)
