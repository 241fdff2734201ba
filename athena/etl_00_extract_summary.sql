-- Extract summary: what bronze holds for the pending runs' windows (this run's and those of
-- earlier runs that did not complete, ops.etl_pending) that silver has not seen yet.
-- On AWS Firehose has already written bronze.events (and the OLTP extract job the bronze
-- snapshots); locally the runner loads landing files and PGlite snapshots first.
-- Params: none.
SELECT
  count(*) AS bronze_events,
  count_if(s.event_id IS NULL) AS unseen_events,
  CAST(min(b.event_time) AS date) AS first_date,
  CAST(max(b.event_time) AS date) AS last_date
FROM bronze.events b
LEFT JOIN (SELECT DISTINCT event_id FROM silver.events) s ON s.event_id = b.event_id
WHERE CAST(b.event_time AS date) BETWEEN (SELECT min(w.date_from) FROM ops.etl_pending w)
                                        AND (SELECT max(w.date_to) FROM ops.etl_pending w)
