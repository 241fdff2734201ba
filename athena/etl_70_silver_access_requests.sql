-- bronze.access_logs → silver.access_requests: the parsed requests of the pending runs' windows
-- (ops.etl_pending), deduplicated by record_id (first arrival wins), inserted only if silver does
-- not hold the record yet (a rerun inserts exactly the missing rows). Silver never receives the
-- raw client IP, referrer URL or user agent: only the salted pseudonym (client_hash), the
-- truncated network (client_prefix), the referrer host and the user-agent class.
-- Params: :run_id.
INSERT INTO silver.access_requests (
  record_id, request_time, request_date, log_format, client_hash, client_prefix, method, path, route,
  query_keys, protocol, status, status_class, bytes, latency_ms, referrer_host, ua_family, ua_os,
  ua_device, is_bot, host, ingested_at, etl_run_id
)
WITH candidates AS (
  SELECT b.*
  FROM bronze.access_logs b
  WHERE CAST(b.request_time AS date) BETWEEN (SELECT min(w.date_from) FROM ops.etl_pending w)
                                          AND (SELECT max(w.date_to) FROM ops.etl_pending w)
),
ranked AS (
  SELECT
    c.*,
    row_number() OVER (
      PARTITION BY c.record_id
      ORDER BY coalesce(c.ingested_at, c.request_time), c.source_file, c.source_line
    ) AS arrival
  FROM candidates c
)
SELECT
  r.record_id, r.request_time, CAST(r.request_time AS date), r.log_format, r.client_hash, r.client_prefix,
  r.method, r.path, r.route, r.query_keys, r.protocol, r.status,
  CAST(r.status / 100 AS varchar) || 'xx',
  r.bytes, r.latency_ms, r.referrer_host, r.ua_family, r.ua_os, r.ua_device, r.is_bot, r.host,
  r.ingested_at, :run_id
FROM ranked r
WHERE r.arrival = 1
  AND NOT EXISTS (SELECT 1 FROM silver.access_requests s WHERE s.record_id = r.record_id)
