-- silver.access_sessions, step 2 of 2: sessions inferred from log-only traffic (no session id in
-- a log line): the requests of one client pseudonym with one user-agent family and device class,
-- split after 30 minutes without a request and at UTC midnight. The product-page route list is
-- PRODUCT_PAGE_ROUTES in lambdas/shared/access-log/route.ts (keep in sync).
-- Params: :run_id.
INSERT INTO silver.access_sessions (
  session_key, session_date, client_hash, ua_family, ua_device, is_bot, session_start, session_end,
  duration_seconds, requests, product_page_requests, error_requests, landing_route, etl_run_id
)
WITH days AS (
  SELECT DISTINCT r.request_date FROM silver.access_requests r
  WHERE r.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
req AS (
  SELECT r.client_hash, r.ua_family, r.ua_device, r.is_bot, r.request_time, r.request_date, r.route,
         r.method, r.status
  FROM silver.access_requests r
  WHERE r.request_date IN (SELECT d.request_date FROM days d) AND r.client_hash IS NOT NULL
),
marked AS (
  SELECT
    q.*,
    CASE
      WHEN lag(q.request_time) OVER (
             PARTITION BY q.request_date, q.client_hash, q.ua_family, q.ua_device ORDER BY q.request_time
           ) IS NULL THEN 1
      WHEN date_diff('second', lag(q.request_time) OVER (
             PARTITION BY q.request_date, q.client_hash, q.ua_family, q.ua_device ORDER BY q.request_time
           ), q.request_time) > 1800 THEN 1
      ELSE 0
    END AS starts
  FROM req q
),
numbered AS (
  SELECT
    m.*,
    sum(m.starts) OVER (
      PARTITION BY m.request_date, m.client_hash, m.ua_family, m.ua_device ORDER BY m.request_time
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS session_no
  FROM marked m
)
SELECT
  n.client_hash || '-' || n.ua_family || '-' || n.ua_device || '-'
    || CAST(CAST(to_unixtime(min(n.request_time)) AS bigint) AS varchar),
  n.request_date, n.client_hash, n.ua_family, n.ua_device, bool_or(n.is_bot),
  min(n.request_time), max(n.request_time),
  CAST(date_diff('second', min(n.request_time), max(n.request_time)) AS bigint),
  count(*),
  count_if(n.method = 'GET' AND n.route IN ('/product/{id}')),
  count_if(n.status >= 400),
  min_by(n.route, n.request_time),
  :run_id
FROM numbered n
GROUP BY n.request_date, n.client_hash, n.ua_family, n.ua_device, n.session_no
