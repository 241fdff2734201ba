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
-- rec_id that the pending runs' events or orders touch. Every CTE is read once (Trino inlines a
-- CTE per reference and caps a query at 150 stages), so the control's counts come from a window.
-- Params: :run_id.
MERGE INTO gold.rec_ab_arms t
USING (
  WITH affected AS (
    SELECT DISTINCT element_at(i.attributes, 'ab_experiment') AS experiment
    FROM silver.events i
    WHERE i.event_type = 'recommendation_impression'
      AND element_at(i.attributes, 'ab_experiment') IS NOT NULL
      AND (
        i.session_id IN (
          SELECT e.session_id FROM silver.events e
          WHERE e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
        )
        OR i.rec_id IN (
          SELECT e.rec_id FROM silver.events e
          WHERE e.rec_id IS NOT NULL AND e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
        )
        OR i.session_id IN (
          SELECT o.session_id FROM silver.orders o
          WHERE o.session_id IS NOT NULL AND o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
        )
      )
  ),
  -- One row per impression (rec_id): a re-sent impression counts once.
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
  -- Each item shown, with its first click per session (NULL: not clicked).
  shown_clicks AS (
    SELECT
      m.rec_id, m.experiment, m.arm, m.model_version, m.shopper, m.event_date, p.product_id,
      c.session_id AS click_session,
      min(c.event_time) AS clicked_at
    FROM impressions m
    CROSS JOIN UNNEST(split(m.rec_items, ',')) AS p(product_id)
    LEFT JOIN silver.events c
      ON c.event_type = 'product_view' AND c.rec_id = m.rec_id AND c.product_id = p.product_id
    WHERE m.arm IS NOT NULL
    GROUP BY m.rec_id, m.experiment, m.arm, m.model_version, m.shopper, m.event_date, p.product_id, c.session_id
  ),
  -- Per shown item: clicked; carted / bought at or after the click in the click's session.
  item_outcomes AS (
    SELECT
      k.rec_id, k.experiment, k.arm, k.model_version, k.shopper, k.event_date,
      max(CASE WHEN k.clicked_at IS NOT NULL THEN 1 ELSE 0 END) AS clicked,
      max(CASE WHEN a.event_time >= k.clicked_at THEN 1 ELSE 0 END) AS carted,
      max(CASE WHEN o.order_time >= k.clicked_at THEN 1 ELSE 0 END) AS converted
    FROM shown_clicks k
    LEFT JOIN silver.events a
      ON a.event_type = 'add_to_cart' AND a.session_id = k.click_session AND a.product_id = k.product_id
    LEFT JOIN (
      SELECT po.session_id, po.order_time, l.product_id
      FROM silver.orders po
      JOIN silver.order_lines l ON l.order_id = po.order_id
      WHERE po.status = 'placed'
    ) o ON o.session_id = k.click_session AND o.product_id = k.product_id
    GROUP BY k.rec_id, k.experiment, k.arm, k.model_version, k.shopper, k.event_date, k.product_id, k.click_session
  ),
  per_impression AS (
    SELECT
      rec_id, experiment, arm, model_version, shopper, event_date,
      max(clicked) AS clicked,
      max(carted) AS carted,
      max(converted) AS converted
    FROM item_outcomes
    GROUP BY rec_id, experiment, arm, model_version, shopper, event_date
  ),
  arms AS (
    SELECT
      experiment,
      arm,
      CASE WHEN min(model_version) = max(model_version) THEN min(model_version) ELSE 'mixed' END AS model_version,
      min(event_date) AS first_day,
      max(event_date) AS last_day,
      count(DISTINCT shopper) AS shoppers,
      count(*) AS impressions,
      sum(clicked) AS clicks,
      sum(carted) AS carts,
      sum(converted) AS conversions
    FROM per_impression
    GROUP BY experiment, arm
  ),
  -- Successes (x1 clicks, x2 carts, x3 conversions) and trials (n) as doubles; on treatment rows
  -- the control's (cx1…, cn), NULL on control rows.
  counts AS (
    SELECT
      a.*,
      CAST(1.959963984540054 AS double) AS z,
      CAST(a.impressions AS double) AS n,
      CAST(a.clicks AS double) AS x1,
      CAST(a.carts AS double) AS x2,
      CAST(a.conversions AS double) AS x3,
      CASE WHEN a.arm <> 'A' THEN CAST(max(CASE WHEN a.arm = 'A' THEN a.impressions END) OVER (PARTITION BY a.experiment) AS double) END AS cn,
      CASE WHEN a.arm <> 'A' THEN CAST(max(CASE WHEN a.arm = 'A' THEN a.clicks END) OVER (PARTITION BY a.experiment) AS double) END AS cx1,
      CASE WHEN a.arm <> 'A' THEN CAST(max(CASE WHEN a.arm = 'A' THEN a.carts END) OVER (PARTITION BY a.experiment) AS double) END AS cx2,
      CASE WHEN a.arm <> 'A' THEN CAST(max(CASE WHEN a.arm = 'A' THEN a.conversions END) OVER (PARTITION BY a.experiment) AS double) END AS cx3
    FROM arms a
  )
  -- Wilson: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n). Difference: p − c_p ± z·sqrt(p(1-p)/n
  -- + c_p(1-c_p)/c_n). p-value: 2·Φ(−|p − c_p| / sqrt(q(1-q)(1/n + 1/c_n))), q the pooled rate
  -- (NULL when q is 0 or 1: nothing to test).
  SELECT
    experiment,
    arm,
    model_version,
    first_day,
    last_day,
    shoppers,
    impressions,
    clicks,
    x1 / n AS ctr,
    ((x1 / n) + z * z / (2 * n) - z * sqrt((x1 / n) * (1 - (x1 / n)) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS ctr_low,
    ((x1 / n) + z * z / (2 * n) + z * sqrt((x1 / n) * (1 - (x1 / n)) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS ctr_high,
    (x1 / n) - (cx1 / cn) AS ctr_diff,
    (x1 / n) - (cx1 / cn) - z * sqrt((x1 / n) * (1 - (x1 / n)) / n + (cx1 / cn) * (1 - (cx1 / cn)) / cn) AS ctr_diff_low,
    (x1 / n) - (cx1 / cn) + z * sqrt((x1 / n) * (1 - (x1 / n)) / n + (cx1 / cn) * (1 - (cx1 / cn)) / cn) AS ctr_diff_high,
    2 * normal_cdf(0, 1, -abs((x1 / n) - (cx1 / cn)) / nullif(sqrt(((x1 + cx1) / (n + cn)) * (1 - ((x1 + cx1) / (n + cn))) * (1 / n + 1 / cn)), 0)) AS ctr_p_value,
    carts,
    x2 / n AS cart_rate,
    ((x2 / n) + z * z / (2 * n) - z * sqrt((x2 / n) * (1 - (x2 / n)) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS cart_rate_low,
    ((x2 / n) + z * z / (2 * n) + z * sqrt((x2 / n) * (1 - (x2 / n)) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS cart_rate_high,
    (x2 / n) - (cx2 / cn) AS cart_rate_diff,
    (x2 / n) - (cx2 / cn) - z * sqrt((x2 / n) * (1 - (x2 / n)) / n + (cx2 / cn) * (1 - (cx2 / cn)) / cn) AS cart_rate_diff_low,
    (x2 / n) - (cx2 / cn) + z * sqrt((x2 / n) * (1 - (x2 / n)) / n + (cx2 / cn) * (1 - (cx2 / cn)) / cn) AS cart_rate_diff_high,
    2 * normal_cdf(0, 1, -abs((x2 / n) - (cx2 / cn)) / nullif(sqrt(((x2 + cx2) / (n + cn)) * (1 - ((x2 + cx2) / (n + cn))) * (1 / n + 1 / cn)), 0)) AS cart_rate_p_value,
    conversions,
    x3 / n AS conversion_rate,
    ((x3 / n) + z * z / (2 * n) - z * sqrt((x3 / n) * (1 - (x3 / n)) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS conversion_rate_low,
    ((x3 / n) + z * z / (2 * n) + z * sqrt((x3 / n) * (1 - (x3 / n)) / n + z * z / (4 * n * n))) / (1 + z * z / n) AS conversion_rate_high,
    (x3 / n) - (cx3 / cn) AS conversion_rate_diff,
    (x3 / n) - (cx3 / cn) - z * sqrt((x3 / n) * (1 - (x3 / n)) / n + (cx3 / cn) * (1 - (cx3 / cn)) / cn) AS conversion_rate_diff_low,
    (x3 / n) - (cx3 / cn) + z * sqrt((x3 / n) * (1 - (x3 / n)) / n + (cx3 / cn) * (1 - (cx3 / cn)) / cn) AS conversion_rate_diff_high,
    2 * normal_cdf(0, 1, -abs((x3 / n) - (cx3 / cn)) / nullif(sqrt(((x3 + cx3) / (n + cn)) * (1 - ((x3 + cx3) / (n + cn))) * (1 / n + 1 / cn)), 0)) AS conversion_rate_p_value
  FROM counts
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
