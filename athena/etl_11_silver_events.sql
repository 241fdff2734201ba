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
    AND (CASE
      -- contract rules: begin. The same block, character for character, in etl_10 and etl_11
      -- (test/unit/asl-etl.test.ts checks it): the event contract (lambdas/shared/event-schema.ts,
      -- LIMITS) for rows that reached bronze without it (a landing line DuckDB reads whole). Ids,
      -- lengths, ranges and enums; lengths count code points (zod counts UTF-16 units). Control
      -- characters and per-line checks of purchase items are left to ingest / the Firehose
      -- transformation / the landing line check: as SQL they cost more than the rest of the step.
      WHEN b.event_type NOT IN ('page_view', 'product_view', 'search', 'add_to_cart', 'remove_from_cart',
                                'begin_checkout', 'purchase', 'review', 'recommendation_impression') THEN 'unknown_event_type'
      WHEN b.event_type IN ('product_view', 'add_to_cart', 'remove_from_cart', 'review')
           AND b.product_id IS NULL THEN 'missing_product_id'
      WHEN b.event_type = 'purchase' AND b.order_id IS NULL THEN 'missing_order_id'
      WHEN b.event_type = 'purchase' AND (b.items IS NULL OR cardinality(b.items) = 0) THEN 'missing_purchase_lines'
      WHEN b.event_type = 'review' AND (b.rating IS NULL OR b.rating < 1 OR b.rating > 5) THEN 'missing_rating'
      WHEN b.price < 0 OR b.quantity < 1 THEN 'invalid_field'
      WHEN b.ingested_at IS NOT NULL AND b.event_time > b.ingested_at + INTERVAL '1' DAY THEN 'future_event_time'
      WHEN NOT regexp_like(b.event_id, '^[A-Za-z0-9._:-]{1,64}$') OR b.event_id IN ('.', '..') THEN 'invalid_field: event_id is not an id (1-64 of A-Za-z0-9._:-)'
      WHEN NOT regexp_like(b.session_id, '^[A-Za-z0-9._:-]{1,64}$') OR b.session_id IN ('.', '..') THEN 'invalid_field: session_id is not an id (1-64 of A-Za-z0-9._:-)'
      WHEN b.user_id IS NOT NULL AND (NOT regexp_like(b.user_id, '^[A-Za-z0-9._:-]{1,64}$') OR b.user_id IN ('.', '..')) THEN 'invalid_field: user_id is not an id (1-64 of A-Za-z0-9._:-)'
      WHEN b.product_id IS NOT NULL AND (NOT regexp_like(b.product_id, '^[A-Za-z0-9._:-]{1,64}$') OR b.product_id IN ('.', '..')) THEN 'invalid_field: product_id is not an id (1-64 of A-Za-z0-9._:-)'
      WHEN b.order_id IS NOT NULL AND (NOT regexp_like(b.order_id, '^[A-Za-z0-9._:-]{1,64}$') OR b.order_id IN ('.', '..')) THEN 'invalid_field: order_id is not an id (1-64 of A-Za-z0-9._:-)'
      WHEN b.rec_id IS NOT NULL AND (NOT regexp_like(b.rec_id, '^[A-Za-z0-9._:-]{1,64}$') OR b.rec_id IN ('.', '..')) THEN 'invalid_field: rec_id is not an id (1-64 of A-Za-z0-9._:-)'
      WHEN length(b.category) NOT BETWEEN 1 AND 200 THEN 'invalid_field: category is not 1-200 characters'
      WHEN length(b.page_type) NOT BETWEEN 1 AND 64 THEN 'invalid_field: page_type is not 1-64 characters'
      WHEN length(b.referrer) NOT BETWEEN 1 AND 1000 THEN 'invalid_field: referrer is not 1-1000 characters'
      WHEN length(b.utm_source) NOT BETWEEN 1 AND 200 THEN 'invalid_field: utm_source is not 1-200 characters'
      WHEN length(b.utm_medium) NOT BETWEEN 1 AND 200 THEN 'invalid_field: utm_medium is not 1-200 characters'
      WHEN length(b.utm_campaign) NOT BETWEEN 1 AND 200 THEN 'invalid_field: utm_campaign is not 1-200 characters'
      WHEN length(b.discount_code) NOT BETWEEN 1 AND 64 THEN 'invalid_field: discount_code is not 1-64 characters'
      WHEN length(b.device) NOT BETWEEN 1 AND 64 THEN 'invalid_field: device is not 1-64 characters'
      WHEN length(b.text) NOT BETWEEN 0 AND 5000 THEN 'invalid_field: text is not 0-5000 characters'
      WHEN length(b.query) NOT BETWEEN 0 AND 1000 THEN 'invalid_field: query is not 0-1000 characters'
      WHEN length(b.currency) <> 3 OR upper(b.currency) <> b.currency THEN 'invalid_field: currency is not an ISO 4217 code'
      WHEN b.order_status NOT IN ('placed', 'cancelled') THEN 'invalid_field: order_status is not placed or cancelled'
      WHEN b.price > 1000000000 THEN 'invalid_field: price is over 1000000000'
      WHEN b.quantity > 100000 THEN 'invalid_field: quantity is over 100000'
      WHEN cardinality(b.items) > 100 THEN 'invalid_field: more than 100 purchase lines'
      WHEN cardinality(map_keys(b.attributes)) > 50 THEN 'invalid_attributes: more than 50 extra fields'
      -- contract rules: end
    END) IS NULL
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
