-- gold.category_revenue, step 1 of 2: drop the months whose orders changed in this run and the
-- month after each (its month-over-month growth depends on them). Params: :run_id.
DELETE FROM gold.category_revenue
WHERE month IN (
  SELECT DISTINCT CAST(date_trunc('month', o.order_date) AS date) FROM silver.orders o WHERE o.etl_run_id = :run_id
  UNION
  SELECT DISTINCT CAST(date_add('month', 1, date_trunc('month', o.order_date)) AS date)
  FROM silver.orders o WHERE o.etl_run_id = :run_id
)
