-- Extract summary and idle check, read by the state machine (getQueryResults) after Extract.
-- On AWS Firehose has already written bronze.events (and the OLTP extract job the bronze
-- snapshots); locally the runner loads landing files and PGlite snapshots first.
--
-- idle (the FIRST column: the generated Choice reads it by position and checks its name) is true
-- when this run has nothing to do: it is the only pending run (ops.etl_pending), and the
-- latest completed run that read bronze (ops.etl_runs, athena/etl_02_mark_run.sql) covered this
-- window and saw the same bronze.events, bronze.oltp_* / marketing_* and bronze.access_logs fingerprints
-- (row count and latest arrival) as now, so every row silver could read has been read. An idle run skips silver,
-- the quality checks, gold and maintenance and completes. Everything here is a count or a
-- max over whole tables (cheap on both engines): no join of bronze with silver and no
-- per-row expression (a window filter on CAST(event_time AS date) alone cost 20x the rest).
-- Columns after idle: the fingerprints, the number of pending runs and their window.
-- Params: none.
WITH pending AS (
  SELECT count(*) AS runs, min(date_from) AS date_from, max(date_to) AS date_to FROM ops.etl_pending
),
bronze AS (
  SELECT count(*) AS total_rows, max(b.ingested_at) AS ingested_max FROM bronze.events b
),
access_logs AS (
  SELECT count(*) AS total_rows, max(a.ingested_at) AS ingested_max FROM bronze.access_logs a
),
oltp AS (
  SELECT sum(o.n) AS total_rows, max(o.m) AS snapshot_max
  FROM (
    SELECT count(*) AS n, max(snapshot_at) AS m FROM bronze.oltp_customers
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_products
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_orders
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_order_lines
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_reviews
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.oltp_payments
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.marketing_leads
    UNION ALL SELECT count(*), max(snapshot_at) FROM bronze.marketing_deals
  ) o
),
last_read AS (
  SELECT r.*
  FROM ops.etl_runs r
  WHERE NOT EXISTS (SELECT 1 FROM ops.etl_pending q WHERE q.run_id = r.run_id)
  ORDER BY r.marked_at DESC, r.run_id DESC
  LIMIT 1
)
SELECT
  coalesce(
    p.runs = 1
    AND l.date_from <= p.date_from AND l.date_to >= p.date_to
    AND l.bronze_rows = b.total_rows AND l.bronze_ingested_max IS NOT DISTINCT FROM b.ingested_max
    AND l.oltp_rows = o.total_rows AND l.oltp_snapshot_max IS NOT DISTINCT FROM o.snapshot_max
    AND l.access_log_rows = a.total_rows AND l.access_log_ingested_max IS NOT DISTINCT FROM a.ingested_max,
    false
  ) AS idle,
  b.total_rows AS bronze_rows,
  b.ingested_max AS bronze_ingested_max,
  o.total_rows AS oltp_rows,
  p.runs AS pending_runs,
  p.date_from AS window_from,
  p.date_to AS window_to
FROM pending p
CROSS JOIN bronze b
CROSS JOIN oltp o
CROSS JOIN access_logs a
LEFT JOIN last_read l ON TRUE
