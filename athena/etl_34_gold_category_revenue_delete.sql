-- gold.category_revenue, step 1 of 2: drop the months whose orders changed in the pending runs and the
-- month after each (its month-over-month growth depends on them). Params: none.
DELETE FROM gold.category_revenue
WHERE month IN (
  SELECT DISTINCT CAST(date_trunc('month', o.order_date) AS date) FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  UNION
  SELECT DISTINCT CAST(date_add('month', 1, date_trunc('month', o.order_date)) AS date)
  FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
)
