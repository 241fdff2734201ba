-- Dashboard data set `access_daily_health` (lambdas/shared/analytics/datasets.ts): one row per
-- day of logged traffic from gold.access_daily_health. Rates are fractions; latencies in ms.
-- Params: :from, :to (first day of the first / last month; the last month is included whole).
SELECT
  h.report_date AS day,
  h.requests,
  round(h.rate_4xx, 4) AS rate_4xx,
  round(h.rate_5xx, 4) AS rate_5xx,
  round(h.bot_share, 4) AS bot_share,
  round(h.latency_p50_ms, 1) AS latency_p50_ms,
  round(h.latency_p95_ms, 1) AS latency_p95_ms,
  round(h.latency_p99_ms, 1) AS latency_p99_ms,
  h.unique_clients,
  h.sessions,
  round(h.product_view_ratio, 4) AS product_view_ratio
FROM gold.access_daily_health h
WHERE h.report_date >= CAST(:from AS date)
  AND h.report_date < CAST(date_add('month', 1, CAST(:to AS date)) AS date)
ORDER BY h.report_date
