-- gold.access_traffic, step 1 of 2: remove the buckets of every day that received new requests
-- in the pending runs; step 2 (etl_75) recomputes those days from all their requests.
-- Params: none.
DELETE FROM gold.access_traffic
WHERE bucket_date IN (
  SELECT DISTINCT r.request_date FROM silver.access_requests r
  WHERE r.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
)
