-- gold.access_traffic, step 2 of 2: per 5-minute, hour and day bucket (UTC), per route template
-- and for all routes (route = '*'): requests, 4xx/5xx counts and rates, bot requests, bytes and
-- latency percentiles. approx_percentile is Trino's (Athena's) sketch; locally the shim maps it
-- to DuckDB's approx_quantile (both are approximate: docs/access-logs.md states the tolerance).
-- Params: none.
INSERT INTO gold.access_traffic (
  grain, bucket_start, bucket_date, route, requests, status_4xx, status_5xx, rate_4xx, rate_5xx,
  bot_requests, bytes, latency_p50_ms, latency_p95_ms, latency_p99_ms, latency_max_ms
)
WITH days AS (
  SELECT DISTINCT r.request_date FROM silver.access_requests r
  WHERE r.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
req AS (
  SELECT r.request_time, r.request_date, r.route, r.status, r.is_bot, r.bytes, r.latency_ms
  FROM silver.access_requests r
  WHERE r.request_date IN (SELECT d.request_date FROM days d)
),
keyed AS (
  SELECT q.request_time, q.request_date, q.route AS route_key, q.status, q.is_bot, q.bytes, q.latency_ms FROM req q
  UNION ALL
  SELECT q.request_time, q.request_date, '*' AS route_key, q.status, q.is_bot, q.bytes, q.latency_ms FROM req q
),
grains AS (
  SELECT * FROM (VALUES ('5m', 300), ('1h', 3600), ('1d', 86400)) AS g (grain, seconds)
),
bucketed AS (
  SELECT
    g.grain,
    from_unixtime(floor(to_unixtime(k.request_time) / g.seconds) * g.seconds) AS bucket_start,
    k.request_date, k.route_key, k.status, k.is_bot, k.bytes, k.latency_ms
  FROM keyed k
  CROSS JOIN grains g
)
SELECT
  b.grain, b.bucket_start, b.request_date, b.route_key,
  count(*),
  count_if(b.status BETWEEN 400 AND 499),
  count_if(b.status >= 500),
  CAST(count_if(b.status BETWEEN 400 AND 499) AS double) / CAST(count(*) AS double),
  CAST(count_if(b.status >= 500) AS double) / CAST(count(*) AS double),
  count_if(b.is_bot),
  sum(b.bytes),
  approx_percentile(b.latency_ms, 0.5),
  approx_percentile(b.latency_ms, 0.95),
  approx_percentile(b.latency_ms, 0.99),
  max(b.latency_ms)
FROM bucketed b
GROUP BY b.grain, b.bucket_start, b.request_date, b.route_key
