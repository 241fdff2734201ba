-- gold.rec_click_through per day for the days with new events: product views that came from a
-- recommendation (rec_id), and whether the clicked product was then carted / purchased in the
-- same client session. Params: :run_id.
MERGE INTO gold.rec_click_through t
USING (
  WITH affected AS (
    SELECT DISTINCT e.event_date AS d FROM silver.events e WHERE e.etl_run_id = :run_id
  ),
  day_events AS (
    SELECT * FROM silver.events e WHERE e.event_date IN (SELECT d FROM affected)
  ),
  clicks AS (
    SELECT DISTINCT e.event_date, e.session_id, e.product_id
    FROM day_events e
    WHERE e.event_type = 'product_view' AND e.rec_id IS NOT NULL
  ),
  carted AS (
    SELECT DISTINCT c.event_date, c.session_id, c.product_id
    FROM clicks c
    JOIN silver.events a ON a.session_id = c.session_id AND a.product_id = c.product_id AND a.event_type = 'add_to_cart'
  ),
  purchased AS (
    SELECT DISTINCT c.event_date, c.session_id, c.product_id
    FROM clicks c
    JOIN silver.orders o ON o.session_id = c.session_id AND o.status = 'placed'
    JOIN silver.order_lines l ON l.order_id = o.order_id AND l.product_id = c.product_id
  ),
  converted AS (
    SELECT DISTINCT c.event_date, c.session_id
    FROM clicks c
    JOIN silver.events p ON p.session_id = c.session_id AND p.event_type = 'purchase'
  ),
  views AS (
    SELECT
      e.event_date,
      count_if(e.event_type = 'product_view') AS product_views,
      count_if(e.event_type = 'product_view' AND e.rec_id IS NOT NULL) AS rec_clicks,
      count(DISTINCT CASE WHEN e.event_type = 'product_view' AND e.rec_id IS NOT NULL THEN e.session_id END) AS rec_sessions
    FROM day_events e
    GROUP BY e.event_date
  ),
  conv AS (SELECT event_date, count(*) AS n FROM converted GROUP BY event_date),
  cart AS (SELECT event_date, count(*) AS n FROM carted GROUP BY event_date),
  purch AS (SELECT event_date, count(*) AS n FROM purchased GROUP BY event_date)
  SELECT
    v.event_date,
    v.product_views,
    v.rec_clicks,
    CAST(v.rec_clicks AS double) / nullif(v.product_views, 0) AS click_through_share,
    v.rec_sessions,
    coalesce(conv.n, 0) AS rec_sessions_converted,
    coalesce(cart.n, 0) AS rec_carted_products,
    coalesce(purch.n, 0) AS rec_purchased_products
  FROM views v
  LEFT JOIN conv ON conv.event_date = v.event_date
  LEFT JOIN cart ON cart.event_date = v.event_date
  LEFT JOIN purch ON purch.event_date = v.event_date
) s
ON t.event_date = s.event_date
WHEN MATCHED THEN
  UPDATE SET product_views = s.product_views, rec_clicks = s.rec_clicks, click_through_share = s.click_through_share,
    rec_sessions = s.rec_sessions, rec_sessions_converted = s.rec_sessions_converted,
    rec_carted_products = s.rec_carted_products, rec_purchased_products = s.rec_purchased_products,
    etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (event_date, product_views, rec_clicks, click_through_share, rec_sessions, rec_sessions_converted,
          rec_carted_products, rec_purchased_products, etl_run_id)
  VALUES (s.event_date, s.product_views, s.rec_clicks, s.click_through_share, s.rec_sessions,
          s.rec_sessions_converted, s.rec_carted_products, s.rec_purchased_products, :run_id)
