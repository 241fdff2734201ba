-- Records what this run reads from bronze, after the extract and before its first silver write:
-- the pending runs' window (what the silver steps read) and the fingerprints of bronze.events and
-- bronze.oltp_* / marketing_* (row count, latest arrival; extracts only append). Every row counted here is visible to the silver
-- steps that follow (bronze only grows), so once the run has completed (left ops.etl_pending) a
-- later run that finds the same fingerprints and a window inside this one has nothing to read
-- (athena/etl_00_extract_summary.sql, column idle); bronze.access_logs is fingerprinted the same
-- way, so a run after an access-log-only ingest is not idle. A run that crashes keeps its row but stays
-- pending, so its row is not used until a later run completes. A retry adds nothing.
-- Params: :run_id.
INSERT INTO ops.etl_runs (
  run_id, date_from, date_to, bronze_rows, bronze_ingested_max, oltp_rows, oltp_snapshot_max, marked_at,
  access_log_rows, access_log_ingested_max
)
SELECT :run_id, p.date_from, p.date_to, b.n, b.m, o.n, o.m, localtimestamp, a.n, a.m
FROM (SELECT min(date_from) AS date_from, max(date_to) AS date_to FROM ops.etl_pending) p
CROSS JOIN (SELECT count(*) AS n, max(ingested_at) AS m FROM bronze.events) b
CROSS JOIN (SELECT count(*) AS n, max(ingested_at) AS m FROM bronze.access_logs) a
CROSS JOIN (
  SELECT sum(x.n) AS n, max(x.m) AS m
  FROM (
    SELECT count(*) AS n, max(snapshot_at) AS m FROM bronze.oltp_customers
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_products
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_orders
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_order_lines
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_reviews
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_payments
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.marketing_leads
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.marketing_deals
  ) x
) o
WHERE NOT EXISTS (SELECT 1 FROM ops.etl_runs r WHERE r.run_id = :run_id)
