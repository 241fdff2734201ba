-- Recommender training, step 1: snapshot the interactions of one training run into
-- ml.interactions (one Iceberg snapshot per run; the registry records its id).
-- Product views and add-to-cart events, plus one row per line of placed purchases; the
-- shopper is the user, or `session:<id>` for anonymous sessions. Event-type weights
-- (view < cart < purchase) are parameters so they can be tuned per run.
-- Parameters (each used once, so Athena's positional ExecutionParameters follow this order):
--   :model_version, :since (ISO-8601 timestamp), :w_view, :w_cart, :w_purchase
INSERT INTO ml.interactions (model_version, shopper, item_id, event_type, weight, event_time, session_id, category)
WITH params AS (
  SELECT
    CAST(:model_version AS varchar) AS model_version,
    from_iso8601_timestamp(:since) AS since,
    CAST(:w_view AS double) AS w_view,
    CAST(:w_cart AS double) AS w_cart,
    CAST(:w_purchase AS double) AS w_purchase
),
product_events AS (
  SELECT
    p.model_version,
    coalesce(e.user_id, concat('session:', e.session_id)) AS shopper,
    e.product_id AS item_id,
    CASE WHEN e.event_type = 'product_view' THEN 'view' ELSE 'cart' END AS event_type,
    CASE WHEN e.event_type = 'product_view' THEN p.w_view ELSE p.w_cart END AS weight,
    e.event_time,
    e.session_id,
    e.category
  FROM silver.events e
  CROSS JOIN params p
  WHERE e.event_type IN ('product_view', 'add_to_cart')
    AND e.product_id IS NOT NULL
    AND e.event_time >= p.since
),
purchase_lines AS (
  SELECT
    p.model_version,
    coalesce(e.user_id, concat('session:', e.session_id)) AS shopper,
    l.product_id AS item_id,
    'purchase' AS event_type,
    p.w_purchase AS weight,
    e.event_time,
    e.session_id,
    coalesce(l.category, e.category) AS category
  FROM silver.events e
  CROSS JOIN params p
  CROSS JOIN UNNEST(e.items) AS l (product_id, quantity, price, category)
  WHERE e.event_type = 'purchase'
    AND coalesce(e.order_status, 'placed') <> 'cancelled'
    AND e.event_time >= p.since
)
SELECT model_version, shopper, item_id, event_type, weight, event_time, session_id, category FROM product_events
UNION ALL
SELECT model_version, shopper, item_id, event_type, weight, event_time, session_id, category FROM purchase_lines
