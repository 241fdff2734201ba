-- gold.demand_features, step 1 of 2: drop the days gold.demand_daily recomputed (the earliest
-- order date the pending runs touched onwards; windows reach at most 28 days back, so later days
-- are the only dependants). Params: none.
DELETE FROM gold.demand_features
WHERE feature_date >= (
  SELECT min(o.order_date) FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
)
