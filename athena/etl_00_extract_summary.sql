-- Extract summary: what bronze holds for the run window that silver has not seen yet.
-- On AWS Firehose has already written bronze.events (and the OLTP extract job the bronze
-- snapshots); locally the runner loads landing files and PGlite snapshots first.
-- Params: :date_from, :date_to (YYYY-MM-DD, inclusive).
SELECT
  count(*) AS bronze_events,
  count_if(s.event_id IS NULL) AS unseen_events,
  CAST(min(b.event_time) AS date) AS first_date,
  CAST(max(b.event_time) AS date) AS last_date
FROM bronze.events b
LEFT JOIN (SELECT DISTINCT event_id FROM silver.events) s ON s.event_id = b.event_id
WHERE CAST(b.event_time AS date) BETWEEN CAST(:date_from AS date) AND CAST(:date_to AS date)
