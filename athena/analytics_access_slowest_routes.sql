-- Dashboard data set `access_slowest_routes`: routes of gold's daily slowest-20 lists over the
-- range, by their worst daily p95 latency; requests summed, 5xx rate weighted by requests.
-- Params: :from, :to (first day of the first / last month; the last month is included whole).
SELECT
  t.item AS route,
  round(max(t.latency_p95_ms), 1) AS latency_p95_ms,
  sum(t.requests) AS requests,
  round(sum(t.rate_5xx * t.requests) / CAST(sum(t.requests) AS double), 4) AS rate_5xx,
  count(*) AS days
FROM gold.access_top t
WHERE t.kind = 'slowest_route'
  AND t.report_date >= CAST(:from AS date)
  AND t.report_date < CAST(date_add('month', 1, CAST(:to AS date)) AS date)
GROUP BY t.item
ORDER BY latency_p95_ms DESC, route
LIMIT 20
