-- gold.top_products, step 1 of 2: drop the rankings of months whose orders changed in the pending runs.
-- Params: none.
DELETE FROM gold.top_products
WHERE month IN (
  SELECT DISTINCT CAST(date_trunc('month', o.order_date) AS date) FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
)
