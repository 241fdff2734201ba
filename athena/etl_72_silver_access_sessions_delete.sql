-- silver.access_sessions, step 1 of 2: remove the sessions of every day that received new
-- requests in the pending runs; step 2 (etl_73) infers them again from all that day's requests.
-- Params: none.
DELETE FROM silver.access_sessions
WHERE session_date IN (
  SELECT DISTINCT r.request_date FROM silver.access_requests r
  WHERE r.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
)
