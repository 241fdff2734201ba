-- bronze → silver.events: valid events of the pending runs' windows (this run's and those of
-- earlier runs that did not complete, ops.etl_pending), deduplicated by event_id (the first
-- arrival wins), inserted only if silver does not hold the event_id yet, so a rerun after a
-- crash inserts exactly the missing rows. Late and out-of-order events land in the partition of
-- their own event_time. The rows inserted here carry etl_run_id = :run_id; every later step
-- consumes the rows of all pending runs. Params: :run_id.
INSERT INTO silver.events (
  schema_version, event_id, event_type, event_time, session_id, user_id, product_id, category, price,
  quantity, currency, order_id, order_status, items, rating, text, query, page_type, referrer,
  utm_source, utm_medium, utm_campaign, discount_code, device, rec_id, attributes,
  ingested_at, event_date, revenue, etl_run_id
)
WITH candidates AS (
  SELECT b.*
  FROM bronze.events b
  WHERE CAST(b.event_time AS date) BETWEEN (SELECT min(w.date_from) FROM ops.etl_pending w)
                                        AND (SELECT max(w.date_to) FROM ops.etl_pending w)
    AND b.event_type IN ('page_view', 'product_view', 'search', 'add_to_cart', 'remove_from_cart',
                         'begin_checkout', 'purchase', 'review')
    AND NOT (b.event_type IN ('product_view', 'add_to_cart', 'remove_from_cart', 'review') AND b.product_id IS NULL)
    AND NOT (b.event_type = 'purchase' AND (b.order_id IS NULL OR b.items IS NULL OR cardinality(b.items) = 0))
    AND NOT (b.event_type = 'review' AND (b.rating IS NULL OR b.rating < 1 OR b.rating > 5))
    AND coalesce(b.price, 0) >= 0
    AND coalesce(b.quantity, 1) >= 1
    AND NOT (b.ingested_at IS NOT NULL AND b.event_time > b.ingested_at + INTERVAL '1' DAY)
),
-- Only ids that arrived more than once need an arrival order (keeps the sort small).
repeated AS (
  SELECT event_id FROM candidates GROUP BY event_id HAVING count(*) > 1
),
valid AS (
  SELECT c.*, 1 AS arrival
  FROM candidates c
  WHERE NOT EXISTS (SELECT 1 FROM repeated x WHERE x.event_id = c.event_id)
  UNION ALL
  SELECT r.*
  FROM (
    SELECT
      c.*,
      row_number() OVER (
        PARTITION BY c.event_id
        ORDER BY coalesce(c.ingested_at, c.event_time), c.source_file, c.event_time
      ) AS arrival
    FROM candidates c
    JOIN repeated x ON x.event_id = c.event_id
  ) r
  WHERE r.arrival = 1
),
purchase_revenue AS (
  -- Exact money: prices enter as decimal (the contract allows at most 4 places), sums are
  -- decimal, the cast to 2 places rounds half away from zero on Trino and DuckDB alike.
  SELECT p.event_id, CAST(sum(l.quantity * CAST(l.price AS decimal(38,4))) AS decimal(38,2)) AS revenue
  FROM valid p
  CROSS JOIN UNNEST(p.items) AS l(product_id, quantity, price, category)
  WHERE p.event_type = 'purchase' AND p.arrival = 1
  GROUP BY p.event_id
)
SELECT
  coalesce(v.schema_version, 1), v.event_id, v.event_type, v.event_time, v.session_id, v.user_id, v.product_id,
  v.category, v.price, coalesce(v.quantity, 1), v.currency, v.order_id,
  CASE WHEN v.event_type = 'purchase' THEN coalesce(v.order_status, 'placed') END,
  v.items, v.rating, v.text, v.query, v.page_type, v.referrer, v.utm_source, v.utm_medium, v.utm_campaign,
  v.discount_code, v.device, v.rec_id, v.attributes,
  v.ingested_at,
  CAST(v.event_time AS date),
  r.revenue,
  :run_id
FROM valid v
LEFT JOIN purchase_revenue r ON r.event_id = v.event_id
WHERE v.arrival = 1
  AND NOT EXISTS (SELECT 1 FROM silver.events s WHERE s.event_id = v.event_id)
