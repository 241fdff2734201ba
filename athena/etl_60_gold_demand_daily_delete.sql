-- gold.demand_daily, step 1 of 2: drop every day from the earliest order date the pending runs
-- touched onwards. Later days depend on it: a product's first sale (where its zero-filled series
-- starts) and the lake's days may have moved. Params: none.
DELETE FROM gold.demand_daily
WHERE demand_date >= (
  SELECT min(o.order_date) FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
)
