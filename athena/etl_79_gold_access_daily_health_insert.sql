-- gold.access_daily_health, step 2 of 2: one row per day with logged traffic whose requests or
-- product_view events changed in the pending runs: volume, bot share, 4xx/5xx rates, latency
-- percentiles, distinct clients, inferred sessions, the slowest route (gold.access_top), and the
-- events-vs-logs reconciliation: non-bot GET requests to product pages answered < 400 against
-- product_view events (PRODUCT_PAGE_ROUTES in lambdas/shared/access-log/route.ts; keep in sync).
-- Params: none.
INSERT INTO gold.access_daily_health (
  report_date, requests, bot_requests, bot_share, rate_4xx, rate_5xx, latency_p50_ms, latency_p95_ms,
  latency_p99_ms, unique_clients, sessions, slowest_route, slowest_route_p95_ms, product_page_requests,
  product_view_events, product_view_ratio
)
WITH days AS (
  SELECT r.request_date AS d FROM silver.access_requests r
  WHERE r.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  UNION
  SELECT e.event_date FROM silver.events e
  WHERE e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND e.event_type = 'product_view'
),
daily AS (
  SELECT
    r.request_date AS d,
    count(*) AS requests,
    count_if(r.is_bot) AS bot_requests,
    count_if(r.status BETWEEN 400 AND 499) AS s4xx,
    count_if(r.status >= 500) AS s5xx,
    approx_percentile(r.latency_ms, 0.5) AS p50,
    approx_percentile(r.latency_ms, 0.95) AS p95,
    approx_percentile(r.latency_ms, 0.99) AS p99,
    count(DISTINCT r.client_hash) AS clients,
    count_if(NOT r.is_bot AND r.method = 'GET' AND r.route IN ('/product/{id}') AND r.status < 400) AS product_pages
  FROM silver.access_requests r
  WHERE r.request_date IN (SELECT x.d FROM days x)
  GROUP BY r.request_date
),
sessions AS (
  SELECT s.session_date AS d, count(*) AS n
  FROM silver.access_sessions s
  WHERE s.session_date IN (SELECT x.d FROM days x)
  GROUP BY s.session_date
),
views AS (
  SELECT e.event_date AS d, count(*) AS n
  FROM silver.events e
  WHERE e.event_type = 'product_view' AND e.event_date IN (SELECT x.d FROM days x)
  GROUP BY e.event_date
),
slowest AS (
  SELECT t.report_date AS d, t.item, t.latency_p95_ms
  FROM gold.access_top t
  WHERE t.kind = 'slowest_route' AND t.rank = 1 AND t.report_date IN (SELECT x.d FROM days x)
)
SELECT
  a.d, a.requests, a.bot_requests,
  CAST(a.bot_requests AS double) / CAST(a.requests AS double),
  CAST(a.s4xx AS double) / CAST(a.requests AS double),
  CAST(a.s5xx AS double) / CAST(a.requests AS double),
  a.p50, a.p95, a.p99, a.clients, coalesce(s.n, 0), w.item, w.latency_p95_ms,
  a.product_pages, coalesce(v.n, 0),
  CAST(a.product_pages AS double) / CAST(NULLIF(coalesce(v.n, 0), 0) AS double)
FROM daily a
LEFT JOIN sessions s ON s.d = a.d
LEFT JOIN views v ON v.d = a.d
LEFT JOIN slowest w ON w.d = a.d
