-- gold.access_top, step 2 of 2: per day, the 20 most requested paths, the 20 most frequent
-- referrer hosts and the 20 slowest routes (p95 latency, routes with at least 5 timed requests, so a quiet day still ranks its busy routes).
-- Params: none.
INSERT INTO gold.access_top (report_date, kind, rank, item, requests, latency_p95_ms, rate_5xx)
WITH days AS (
  SELECT DISTINCT r.request_date FROM silver.access_requests r
  WHERE r.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
req AS (
  SELECT r.request_date, r.path, r.route, r.referrer_host, r.status, r.latency_ms
  FROM silver.access_requests r
  WHERE r.request_date IN (SELECT d.request_date FROM days d)
),
counted AS (
  SELECT q.request_date AS d, 'path' AS kind, q.path AS item, count(*) AS requests,
         approx_percentile(q.latency_ms, 0.95) AS p95,
         CAST(count_if(q.status >= 500) AS double) / CAST(count(*) AS double) AS rate_5xx
  FROM req q WHERE q.path IS NOT NULL
  GROUP BY q.request_date, q.path
  UNION ALL
  SELECT q.request_date, 'referrer_host', q.referrer_host, count(*), approx_percentile(q.latency_ms, 0.95),
         CAST(count_if(q.status >= 500) AS double) / CAST(count(*) AS double)
  FROM req q WHERE q.referrer_host IS NOT NULL
  GROUP BY q.request_date, q.referrer_host
),
slow AS (
  SELECT q.request_date AS d, 'slowest_route' AS kind, q.route AS item, count(*) AS requests,
         approx_percentile(q.latency_ms, 0.95) AS p95,
         CAST(count_if(q.status >= 500) AS double) / CAST(count(*) AS double) AS rate_5xx
  FROM req q
  GROUP BY q.request_date, q.route
  HAVING count(q.latency_ms) >= 5
),
ranked AS (
  SELECT c.*, row_number() OVER (PARTITION BY c.d, c.kind ORDER BY c.requests DESC, c.item) AS rnk
  FROM counted c
  UNION ALL
  SELECT s.*, row_number() OVER (PARTITION BY s.d ORDER BY s.p95 DESC, s.item) AS rnk
  FROM slow s
)
SELECT x.d, x.kind, CAST(x.rnk AS integer), x.item, x.requests, x.p95, x.rate_5xx
FROM ranked x
WHERE x.rnk <= 20
