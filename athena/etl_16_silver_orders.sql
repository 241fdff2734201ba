-- silver.orders: orders reconciled from purchase events and the OLTP orders' current state
-- (bronze.oltp_orders is a change log: the latest row per order, unless a delete marker).
-- Affected orders: those with new purchase events in the pending runs, and those whose OLTP row is new
-- or changed (status or total). Purchase events of one order (an order split over several
-- events) are aggregated; OLTP is the system of record for status and customer, events give
-- the lines when present. Cancellations keep status 'cancelled'. Touched rows get etl_run_id.
-- Params: :run_id.
MERGE INTO silver.orders t
USING (
  WITH latest_oltp AS (
    SELECT o.order_id, o.customer_id, o.status, o.order_time, o.total_amount, o.currency
    FROM (
      SELECT x.*, row_number() OVER (PARTITION BY x.order_id ORDER BY x.snapshot_at DESC) AS rn
      FROM bronze.oltp_orders x
    ) o
    WHERE o.rn = 1 AND NOT coalesce(o.is_deleted, false)
  ),
  oltp_changed AS (
    SELECT o.order_id
    FROM latest_oltp o LEFT JOIN silver.orders s ON s.order_id = o.order_id
    WHERE s.order_id IS NULL OR s.status <> o.status
       OR (s.oltp_amount IS NULL AND o.total_amount IS NOT NULL)
       OR s.oltp_amount <> CAST(o.total_amount AS decimal(38,2))
  ),
  affected AS (
    SELECT DISTINCT e.order_id FROM silver.events e WHERE e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND e.event_type = 'purchase'
    UNION
    SELECT order_id FROM oltp_changed
  ),
  ev_lines AS (
    SELECT e.order_id, e.user_id, e.event_time, e.order_status, e.currency, e.session_id, e.discount_code,
           l.quantity, l.price
    FROM silver.events e
    CROSS JOIN UNNEST(e.items) AS l(product_id, quantity, price, category)
    WHERE e.event_type = 'purchase' AND e.order_id IN (SELECT order_id FROM affected)
  ),
  ev AS (
    SELECT
      order_id,
      max(user_id) AS customer_id,
      min(event_time) AS order_time,
      CASE WHEN count_if(order_status = 'cancelled') > 0 THEN 'cancelled' ELSE 'placed' END AS status,
      count(*) AS line_count,
      sum(quantity) AS units,
      CAST(sum(quantity * CAST(price AS decimal(38,4))) AS decimal(38,2)) AS amount,
      max(currency) AS currency,
      min(session_id) AS session_id,
      max(discount_code) AS discount_code
    FROM ev_lines
    GROUP BY order_id
  ),
  o AS (
    SELECT * FROM latest_oltp WHERE order_id IN (SELECT order_id FROM affected)
  ),
  ol AS (
    SELECT l.order_id, count(*) AS line_count, sum(l.quantity) AS units, CAST(sum(l.quantity * CAST(l.unit_price AS decimal(38,4))) AS decimal(38,2)) AS amount
    FROM (
      SELECT x.*, row_number() OVER (PARTITION BY x.order_id, x.line_no ORDER BY x.snapshot_at DESC) AS rn
      FROM bronze.oltp_order_lines x
      WHERE x.order_id IN (SELECT order_id FROM affected)
    ) l
    WHERE l.rn = 1 AND NOT coalesce(l.is_deleted, false)
    GROUP BY l.order_id
  )
  SELECT
    coalesce(ev.order_id, o.order_id) AS order_id,
    coalesce(o.customer_id, ev.customer_id) AS customer_id,
    coalesce(ev.order_time, o.order_time) AS order_time,
    CAST(coalesce(ev.order_time, o.order_time) AS date) AS order_date,
    coalesce(o.status, ev.status) AS status,
    CASE
      WHEN ev.order_id IS NOT NULL AND o.order_id IS NOT NULL THEN 'both'
      WHEN ev.order_id IS NOT NULL THEN 'event'
      ELSE 'oltp'
    END AS source,
    coalesce(ev.line_count, ol.line_count, 0) AS line_count,
    coalesce(ev.units, ol.units, 0) AS units,
    CAST(coalesce(ev.amount, ol.amount, CAST(o.total_amount AS decimal(38,2)), 0) AS decimal(38,2)) AS amount,
    CAST(o.total_amount AS decimal(38,2)) AS oltp_amount,
    CASE WHEN ev.order_id IS NOT NULL AND o.order_id IS NOT NULL
         THEN abs(ev.amount - CAST(o.total_amount AS decimal(38,2))) < 0.01 END
      AS amount_matches,
    coalesce(ev.currency, o.currency) AS currency,
    ev.session_id,
    ev.discount_code
  FROM ev
  FULL OUTER JOIN o ON o.order_id = ev.order_id
  LEFT JOIN ol ON ol.order_id = coalesce(ev.order_id, o.order_id)
) s
ON t.order_id = s.order_id
WHEN MATCHED THEN
  UPDATE SET customer_id = s.customer_id, order_time = s.order_time, order_date = s.order_date, status = s.status,
    source = s.source, line_count = s.line_count, units = s.units, amount = s.amount, oltp_amount = s.oltp_amount,
    amount_matches = s.amount_matches, currency = s.currency, session_id = s.session_id,
    discount_code = s.discount_code, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (order_id, customer_id, order_time, order_date, status, source, line_count, units, amount, oltp_amount,
          amount_matches, currency, session_id, discount_code, etl_run_id)
  VALUES (s.order_id, s.customer_id, s.order_time, s.order_date, s.status, s.source, s.line_count, s.units, s.amount,
          s.oltp_amount, s.amount_matches, s.currency, s.session_id, s.discount_code, :run_id)
