-- gold.access_daily_health, step 1 of 2: remove the days whose requests or product_view events
-- changed in the pending runs; step 2 (etl_79) recomputes them.
-- Params: none.
DELETE FROM gold.access_daily_health
WHERE report_date IN (
  SELECT r.request_date FROM silver.access_requests r
  WHERE r.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  UNION
  SELECT e.event_date FROM silver.events e
  WHERE e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND e.event_type = 'product_view'
)
