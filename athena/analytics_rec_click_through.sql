-- Dashboard data set `rec_click_through`: recommendation clicks (product views carrying a rec_id)
-- per month over every model version, their share of product views, and what followed in the
-- same session. Params: :from, :to.
SELECT
  m.month,
  m.product_views,
  m.rec_clicks,
  round(CAST(m.rec_clicks AS double) / nullif(m.product_views, 0), 4) AS click_through_share,
  m.rec_sessions,
  m.rec_sessions_converted,
  m.rec_carted_products,
  m.rec_purchased_products
FROM (
  -- product_views is the whole day's count on every model-version row: take it once per day.
  SELECT
    CAST(date_trunc('month', d.event_date) AS date) AS month,
    sum(d.product_views) AS product_views,
    sum(d.rec_clicks) AS rec_clicks,
    sum(d.rec_sessions) AS rec_sessions,
    sum(d.rec_sessions_converted) AS rec_sessions_converted,
    sum(d.rec_carted_products) AS rec_carted_products,
    sum(d.rec_purchased_products) AS rec_purchased_products
  FROM (
    SELECT
      c.event_date,
      max(c.product_views) AS product_views,
      sum(c.rec_clicks) AS rec_clicks,
      sum(c.rec_sessions) AS rec_sessions,
      sum(c.rec_sessions_converted) AS rec_sessions_converted,
      sum(c.rec_carted_products) AS rec_carted_products,
      sum(c.rec_purchased_products) AS rec_purchased_products
    FROM gold.rec_click_through c
    WHERE CAST(date_trunc('month', c.event_date) AS date) BETWEEN CAST(:from AS date) AND CAST(:to AS date)
    GROUP BY c.event_date
  ) d
  GROUP BY CAST(date_trunc('month', d.event_date) AS date)
) m
ORDER BY m.month
