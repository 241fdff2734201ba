-- bronze.access_logs retention: rows hold raw client IPs, referrers and user agents, so they are
-- deleted 30 days after arrival (ACCESS_LOG_BRONZE_RETENTION_DAYS in lambdas/shared/catalog/
-- tables.ts; docs/access-logs.md). Runs after silver took the window's rows; the table
-- maintenance (OPTIMIZE + VACUUM) then removes the data files physically.
-- Params: none.
DELETE FROM bronze.access_logs
WHERE ingested_at < current_timestamp - INTERVAL '30' DAY
