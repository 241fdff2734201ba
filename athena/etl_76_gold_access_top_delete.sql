-- gold.access_top, step 1 of 2: remove the rankings of every day that received new requests in
-- the pending runs; step 2 (etl_77) ranks those days again.
-- Params: none.
DELETE FROM gold.access_top
WHERE report_date IN (
  SELECT DISTINCT r.request_date FROM silver.access_requests r
  WHERE r.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
)
