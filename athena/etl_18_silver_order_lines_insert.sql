-- silver.order_lines, step 2 of 2: lines of the orders touched in the pending runs, from the purchase
-- events when the order has any (numbered in event order), otherwise from the OLTP lines'
-- current state (latest bronze row per line, unless a delete marker). Category: the line's own, else the product's current category.
-- Params: :run_id.
INSERT INTO silver.order_lines (
  order_id, line_no, product_id, category, quantity, unit_price, line_amount, order_time, order_date, status,
  customer_id, etl_run_id
)
WITH touched AS (
  SELECT o.order_id, o.customer_id, o.order_time, o.order_date, o.status, o.source
  FROM silver.orders o
  WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
ev_lines AS (
  SELECT e.order_id, l.product_id, l.category, l.quantity, l.price AS unit_price, e.event_time, e.event_id
  FROM silver.events e
  CROSS JOIN UNNEST(e.items) AS l(product_id, quantity, price, category)
  WHERE e.event_type = 'purchase' AND e.order_id IN (SELECT order_id FROM touched WHERE source <> 'oltp')
),
oltp_lines AS (
  SELECT l.order_id, l.product_id, CAST(NULL AS varchar) AS category, l.quantity, l.unit_price, l.line_no
  FROM (
    SELECT x.*, row_number() OVER (PARTITION BY x.order_id, x.line_no ORDER BY x.snapshot_at DESC) AS rn
    FROM bronze.oltp_order_lines x
    WHERE x.order_id IN (SELECT order_id FROM touched WHERE source = 'oltp')
  ) l
  WHERE l.rn = 1 AND NOT coalesce(l.is_deleted, false)
),
lines AS (
  SELECT order_id, product_id, category, quantity, unit_price,
         row_number() OVER (PARTITION BY order_id ORDER BY event_time, event_id, product_id, quantity, unit_price) AS line_no
  FROM ev_lines
  UNION ALL
  SELECT order_id, product_id, category, quantity, unit_price, line_no FROM oltp_lines
)
SELECT
  l.order_id, CAST(l.line_no AS integer), l.product_id, coalesce(l.category, p.category), l.quantity,
  CAST(l.unit_price AS decimal(18,4)),
  CAST(l.quantity * CAST(l.unit_price AS decimal(38,4)) AS decimal(38,2)), t.order_time, t.order_date, t.status, t.customer_id, :run_id
FROM lines l
JOIN touched t ON t.order_id = l.order_id
LEFT JOIN silver.dim_product p ON p.product_id = l.product_id AND p.is_current
