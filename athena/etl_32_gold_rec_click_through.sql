-- gold.rec_click_through per day and model version, for the days with new events: product views
-- that came from a recommendation (they carry the response's rec_id, `<model version>:<12 hex>`,
-- so the version is read from the id itself: 'none' = served without a model, 'unknown' = an id
-- of another shape), and whether the clicked product was then carted / purchased in the same
-- client session. product_views is the day's total, the denominator of click_through_share.
-- A day without recommendation clicks has no row. Params: :run_id.
MERGE INTO gold.rec_click_through t
USING (
  WITH affected AS (
    SELECT DISTINCT e.event_date AS d FROM silver.events e WHERE e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  ),
  day_events AS (
    SELECT * FROM silver.events e WHERE e.event_date IN (SELECT d FROM affected)
  ),
  rec_events AS (
    SELECT
      e.event_date,
      -- Trino's regexp_extract gives NULL on no match, DuckDB's '': both become 'unknown'.
      coalesce(nullif(regexp_extract(e.rec_id, '^(.+):[0-9a-f]{12}$', 1), ''), 'unknown') AS model_version,
      e.session_id,
      e.product_id
    FROM day_events e
    WHERE e.event_type = 'product_view' AND e.rec_id IS NOT NULL
  ),
  clicks AS (
    SELECT DISTINCT event_date, model_version, session_id, product_id FROM rec_events
  ),
  day_views AS (
    SELECT e.event_date, count(*) AS product_views
    FROM day_events e
    WHERE e.event_type = 'product_view'
    GROUP BY e.event_date
  ),
  rec_views AS (
    SELECT event_date, model_version, count(*) AS rec_clicks, count(DISTINCT session_id) AS rec_sessions
    FROM rec_events
    GROUP BY 1, 2
  ),
  carted AS (
    SELECT c.event_date, c.model_version, count(*) AS n
    FROM clicks c
    WHERE EXISTS (
      SELECT 1 FROM silver.events a
      WHERE a.session_id = c.session_id AND a.product_id = c.product_id AND a.event_type = 'add_to_cart'
    )
    GROUP BY 1, 2
  ),
  purchased AS (
    SELECT c.event_date, c.model_version, count(*) AS n
    FROM clicks c
    WHERE EXISTS (
      SELECT 1 FROM silver.orders o
      JOIN silver.order_lines l ON l.order_id = o.order_id
      WHERE o.session_id = c.session_id AND o.status = 'placed' AND l.product_id = c.product_id
    )
    GROUP BY 1, 2
  ),
  converted AS (
    SELECT s.event_date, s.model_version, count(*) AS n
    FROM (SELECT DISTINCT event_date, model_version, session_id FROM clicks) s
    WHERE EXISTS (
      SELECT 1 FROM silver.events p WHERE p.session_id = s.session_id AND p.event_type = 'purchase'
    )
    GROUP BY 1, 2
  )
  SELECT
    r.event_date,
    r.model_version,
    v.product_views,
    r.rec_clicks,
    CAST(r.rec_clicks AS double) / nullif(v.product_views, 0) AS click_through_share,
    r.rec_sessions,
    coalesce(conv.n, 0) AS rec_sessions_converted,
    coalesce(cart.n, 0) AS rec_carted_products,
    coalesce(purch.n, 0) AS rec_purchased_products
  FROM rec_views r
  JOIN day_views v ON v.event_date = r.event_date
  LEFT JOIN converted conv ON conv.event_date = r.event_date AND conv.model_version = r.model_version
  LEFT JOIN carted cart ON cart.event_date = r.event_date AND cart.model_version = r.model_version
  LEFT JOIN purchased purch ON purch.event_date = r.event_date AND purch.model_version = r.model_version
) s
ON t.event_date = s.event_date AND t.model_version = s.model_version
WHEN MATCHED THEN
  UPDATE SET product_views = s.product_views, rec_clicks = s.rec_clicks, click_through_share = s.click_through_share,
    rec_sessions = s.rec_sessions, rec_sessions_converted = s.rec_sessions_converted,
    rec_carted_products = s.rec_carted_products, rec_purchased_products = s.rec_purchased_products,
    etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (event_date, model_version, product_views, rec_clicks, click_through_share, rec_sessions,
          rec_sessions_converted, rec_carted_products, rec_purchased_products, etl_run_id)
  VALUES (s.event_date, s.model_version, s.product_views, s.rec_clicks, s.click_through_share, s.rec_sessions,
          s.rec_sessions_converted, s.rec_carted_products, s.rec_purchased_products, :run_id)
