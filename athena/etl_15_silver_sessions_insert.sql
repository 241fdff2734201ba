-- silver.sessions, step 2 of 2: sessionize the affected client sessions. A session ends after
-- 30 minutes without events; anonymous events are stitched to the user who logged in during
-- the same client session (is_stitched marks sessions where that happened).
-- Params: :run_id.
INSERT INTO silver.sessions (
  session_key, session_id, user_id, is_stitched, session_start, session_end, session_date, duration_seconds,
  event_count, product_views, add_to_carts, checkouts, purchases, revenue, utm_source, utm_campaign, device,
  rec_clicks, etl_run_id
)
WITH affected AS (
  SELECT DISTINCT e.session_id FROM silver.events e WHERE e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
ev AS (
  SELECT
    e.session_id, e.user_id, e.event_id, e.event_type, e.event_time, e.utm_source, e.utm_campaign, e.device,
    e.rec_id, e.revenue,
    max(e.user_id) OVER (PARTITION BY e.session_id) AS stitched_user,
    lag(e.event_time) OVER (PARTITION BY e.session_id ORDER BY e.event_time, e.event_id) AS prev_time
  FROM silver.events e
  WHERE e.session_id IN (SELECT session_id FROM affected)
),
numbered AS (
  SELECT
    ev.*,
    sum(CASE WHEN ev.prev_time IS NULL OR date_diff('second', ev.prev_time, ev.event_time) > 1800 THEN 1 ELSE 0 END)
      OVER (PARTITION BY ev.session_id ORDER BY ev.event_time, ev.event_id
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS seq
  FROM ev
)
SELECT
  n.session_id || '#' || CAST(n.seq AS varchar) AS session_key,
  n.session_id,
  max(n.stitched_user) AS user_id,
  max(n.stitched_user) IS NOT NULL AND count_if(n.user_id IS NULL) > 0 AS is_stitched,
  min(n.event_time) AS session_start,
  max(n.event_time) AS session_end,
  CAST(min(n.event_time) AS date) AS session_date,
  date_diff('second', min(n.event_time), max(n.event_time)) AS duration_seconds,
  count(*) AS event_count,
  count_if(n.event_type = 'product_view') AS product_views,
  count_if(n.event_type = 'add_to_cart') AS add_to_carts,
  count_if(n.event_type = 'begin_checkout') AS checkouts,
  count_if(n.event_type = 'purchase') AS purchases,
  CAST(coalesce(sum(n.revenue), 0) AS decimal(38,2)) AS revenue,
  min_by(n.utm_source, CASE WHEN n.utm_source IS NOT NULL THEN n.event_time END) AS utm_source,
  min_by(n.utm_campaign, CASE WHEN n.utm_campaign IS NOT NULL THEN n.event_time END) AS utm_campaign,
  min_by(n.device, CASE WHEN n.device IS NOT NULL THEN n.event_time END) AS device,
  count_if(n.rec_id IS NOT NULL) AS rec_clicks,
  :run_id AS etl_run_id
FROM numbered n
GROUP BY n.session_id, n.seq
