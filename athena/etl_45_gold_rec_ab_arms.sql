-- gold.rec_ab_arms: A/B tests between model versions, one row per test and arm. The unit is the
-- impression (a `recommendation_impression` event, one per rec_id however often it was re-sent;
-- its test and arm are attributes['ab_experiment'] / ['ab_arm'], validated at ingest). Per arm:
--   clicks      = impressions with a product view carrying the rec_id on an item they showed;
--   carts       = impressions with a clicked item added to cart, at or after the click, in the
--                 session of the click;
--   conversions = impressions with a clicked item in a placed order, at or after the click, in
--                 the session of the click.
-- Each rate has a 95% Wilson interval; treatment (B) rows also carry the difference to the
-- control (A) with a 95% normal-approximation (unpooled) interval and the two-sided p-value of
-- the pooled two-proportion z-test. Impressions of one shopper are treated as independent
-- trials (the usual approximation; the intervals are narrower than a per-shopper analysis).
-- Recomputes, over their whole history, the tests with an impression in a session or with a
-- rec_id that the pending runs' events or orders touch. Params: :run_id.
MERGE INTO gold.rec_ab_arms t
USING (
  WITH pending_events AS (
    SELECT e.session_id, e.rec_id
    FROM silver.events e
    WHERE e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  ),
  pending_sessions AS (
    SELECT session_id FROM pending_events
    UNION
    SELECT o.session_id
    FROM silver.orders o
    WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND o.session_id IS NOT NULL
  ),
  affected AS (
    SELECT DISTINCT element_at(i.attributes, 'ab_experiment') AS experiment
    FROM silver.events i
    WHERE i.event_type = 'recommendation_impression'
      AND element_at(i.attributes, 'ab_experiment') IS NOT NULL
      AND (
        i.session_id IN (SELECT session_id FROM pending_sessions)
        OR i.rec_id IN (SELECT rec_id FROM pending_events WHERE rec_id IS NOT NULL)
      )
  ),
  impressions AS (
    SELECT
      i.rec_id,
      min(element_at(i.attributes, 'ab_experiment')) AS experiment,
      min(element_at(i.attributes, 'ab_arm')) AS arm,
      min(element_at(i.attributes, 'model_version')) AS model_version,
      min(element_at(i.attributes, 'rec_items')) AS rec_items,
      min(coalesce(i.user_id, concat('session:', i.session_id))) AS shopper,
      min(i.event_date) AS event_date
    FROM silver.events i
    WHERE i.event_type = 'recommendation_impression'
      AND element_at(i.attributes, 'ab_experiment') IN (SELECT experiment FROM affected)
    GROUP BY i.rec_id
  ),
  shown AS (
    SELECT m.rec_id, p.product_id
    FROM impressions m
    CROSS JOIN UNNEST(split(m.rec_items, ',')) AS p(product_id)
  ),
  clicks AS (
    SELECT c.rec_id, c.product_id, c.session_id, min(c.event_time) AS clicked_at
    FROM silver.events c
    JOIN shown s ON s.rec_id = c.rec_id AND s.product_id = c.product_id
    WHERE c.event_type = 'product_view'
    GROUP BY c.rec_id, c.product_id, c.session_id
  ),
  clicked AS (
    SELECT DISTINCT rec_id FROM clicks
  ),
  carted AS (
    SELECT DISTINCT c.rec_id
    FROM clicks c
    JOIN silver.events a ON a.session_id = c.session_id AND a.product_id = c.product_id
    WHERE a.event_type = 'add_to_cart' AND a.event_time >= c.clicked_at
  ),
  converted AS (
    SELECT DISTINCT c.rec_id
    FROM clicks c
    JOIN silver.orders o ON o.session_id = c.session_id
    JOIN silver.order_lines l ON l.order_id = o.order_id AND l.product_id = c.product_id
    WHERE o.status = 'placed' AND o.order_time >= c.clicked_at
  ),
  arms AS (
    SELECT
      m.experiment,
      m.arm,
      CASE WHEN count(DISTINCT m.model_version) = 1 THEN min(m.model_version) ELSE 'mixed' END AS model_version,
      min(m.event_date) AS first_day,
      max(m.event_date) AS last_day,
      count(DISTINCT m.shopper) AS shoppers,
      count(*) AS impressions,
      count(k.rec_id) AS clicks,
      count(a.rec_id) AS carts,
      count(v.rec_id) AS conversions
    FROM impressions m
    LEFT JOIN clicked k ON k.rec_id = m.rec_id
    LEFT JOIN carted a ON a.rec_id = m.rec_id
    LEFT JOIN converted v ON v.rec_id = m.rec_id
    WHERE m.arm IS NOT NULL
    GROUP BY m.experiment, m.arm
  ),
  -- Per metric (1 = ctr, 2 = cart rate, 3 = conversion rate): this arm's successes x and trials n,
  -- and the control's (c_x, c_n) on treatment rows.
  cells AS (
    SELECT
      a.experiment,
      a.arm,
      g.metric,
      CAST(a.impressions AS double) AS n,
      CAST(CASE g.metric WHEN 1 THEN a.clicks WHEN 2 THEN a.carts ELSE a.conversions END AS double) AS x,
      CAST(c.impressions AS double) AS c_n,
      CAST(CASE g.metric WHEN 1 THEN c.clicks WHEN 2 THEN c.carts ELSE c.conversions END AS double) AS c_x
    FROM arms a
    CROSS JOIN UNNEST(sequence(1, 3)) AS g(metric)
    LEFT JOIN arms c ON c.experiment = a.experiment AND c.arm = 'A' AND a.arm <> 'A'
  ),
  rates AS (
    SELECT
      experiment,
      arm,
      metric,
      n,
      x / n AS p,
      c_n,
      c_x / c_n AS c_p,
      (x + c_x) / (n + c_n) AS pooled,
      -- z of a two-sided 95% interval
      CAST(1.959963984540054 AS double) AS z
    FROM cells
  ),
  stats AS (
    SELECT
      experiment,
      arm,
      metric,
      p AS rate,
      (p + z * z / (2 * n) - z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS low,
      (p + z * z / (2 * n) + z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS high,
      p - c_p AS diff,
      p - c_p - z * sqrt(p * (1 - p) / n + c_p * (1 - c_p) / c_n) AS diff_low,
      p - c_p + z * sqrt(p * (1 - p) / n + c_p * (1 - c_p) / c_n) AS diff_high,
      -- NULL when the pooled rate is 0 or 1 (no variance: nothing to test).
      2 * normal_cdf(0, 1, -abs(p - c_p) / nullif(sqrt(pooled * (1 - pooled) * (1 / n + 1 / c_n)), 0)) AS p_value
    FROM rates
  )
  SELECT
    a.experiment,
    a.arm,
    a.model_version,
    a.first_day,
    a.last_day,
    a.shoppers,
    a.impressions,
    a.clicks,
    s1.rate AS ctr,
    s1.low AS ctr_low,
    s1.high AS ctr_high,
    s1.diff AS ctr_diff,
    s1.diff_low AS ctr_diff_low,
    s1.diff_high AS ctr_diff_high,
    s1.p_value AS ctr_p_value,
    a.carts,
    s2.rate AS cart_rate,
    s2.low AS cart_rate_low,
    s2.high AS cart_rate_high,
    s2.diff AS cart_rate_diff,
    s2.diff_low AS cart_rate_diff_low,
    s2.diff_high AS cart_rate_diff_high,
    s2.p_value AS cart_rate_p_value,
    a.conversions,
    s3.rate AS conversion_rate,
    s3.low AS conversion_rate_low,
    s3.high AS conversion_rate_high,
    s3.diff AS conversion_rate_diff,
    s3.diff_low AS conversion_rate_diff_low,
    s3.diff_high AS conversion_rate_diff_high,
    s3.p_value AS conversion_rate_p_value
  FROM arms a
  JOIN stats s1 ON s1.experiment = a.experiment AND s1.arm = a.arm AND s1.metric = 1
  JOIN stats s2 ON s2.experiment = a.experiment AND s2.arm = a.arm AND s2.metric = 2
  JOIN stats s3 ON s3.experiment = a.experiment AND s3.arm = a.arm AND s3.metric = 3
) s
ON t.experiment = s.experiment AND t.arm = s.arm
WHEN MATCHED THEN
  UPDATE SET model_version = s.model_version, first_day = s.first_day, last_day = s.last_day,
    shoppers = s.shoppers, impressions = s.impressions, clicks = s.clicks, ctr = s.ctr,
    ctr_low = s.ctr_low, ctr_high = s.ctr_high, ctr_diff = s.ctr_diff, ctr_diff_low = s.ctr_diff_low,
    ctr_diff_high = s.ctr_diff_high, ctr_p_value = s.ctr_p_value, carts = s.carts, cart_rate = s.cart_rate,
    cart_rate_low = s.cart_rate_low, cart_rate_high = s.cart_rate_high, cart_rate_diff = s.cart_rate_diff,
    cart_rate_diff_low = s.cart_rate_diff_low, cart_rate_diff_high = s.cart_rate_diff_high,
    cart_rate_p_value = s.cart_rate_p_value, conversions = s.conversions, conversion_rate = s.conversion_rate,
    conversion_rate_low = s.conversion_rate_low, conversion_rate_high = s.conversion_rate_high,
    conversion_rate_diff = s.conversion_rate_diff, conversion_rate_diff_low = s.conversion_rate_diff_low,
    conversion_rate_diff_high = s.conversion_rate_diff_high,
    conversion_rate_p_value = s.conversion_rate_p_value, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (experiment, arm, model_version, first_day, last_day, shoppers, impressions, clicks, ctr, ctr_low,
          ctr_high, ctr_diff, ctr_diff_low, ctr_diff_high, ctr_p_value, carts, cart_rate, cart_rate_low,
          cart_rate_high, cart_rate_diff, cart_rate_diff_low, cart_rate_diff_high, cart_rate_p_value,
          conversions, conversion_rate, conversion_rate_low, conversion_rate_high, conversion_rate_diff,
          conversion_rate_diff_low, conversion_rate_diff_high, conversion_rate_p_value, etl_run_id)
  VALUES (s.experiment, s.arm, s.model_version, s.first_day, s.last_day, s.shoppers, s.impressions, s.clicks,
          s.ctr, s.ctr_low, s.ctr_high, s.ctr_diff, s.ctr_diff_low, s.ctr_diff_high, s.ctr_p_value, s.carts,
          s.cart_rate, s.cart_rate_low, s.cart_rate_high, s.cart_rate_diff, s.cart_rate_diff_low,
          s.cart_rate_diff_high, s.cart_rate_p_value, s.conversions, s.conversion_rate, s.conversion_rate_low,
          s.conversion_rate_high, s.conversion_rate_diff, s.conversion_rate_diff_low, s.conversion_rate_diff_high,
          s.conversion_rate_p_value, :run_id)
