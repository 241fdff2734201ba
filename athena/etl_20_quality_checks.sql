-- Data-quality checks of this run → ops.data_quality_results. A failed 'blocking' check stops
-- the run before gold (etl_21_quality_gate.sql); 'warning' checks are recorded only.
-- Each check: observed value, threshold, passed. Params: :run_id.
INSERT INTO ops.data_quality_results (run_id, checked_at, check_name, table_name, severity, passed, observed, threshold, detail)
WITH run_events AS (
  SELECT * FROM silver.events WHERE etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
run_orders AS (
  SELECT * FROM silver.orders WHERE etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
run_lines AS (
  SELECT * FROM silver.order_lines WHERE etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
run_payments AS (
  SELECT * FROM silver.payments
  WHERE etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND NOT is_deleted
),
run_reviews AS (
  SELECT * FROM silver.reviews
  WHERE etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND NOT is_deleted
),
checks AS (
  SELECT 'silver_events_new_rows' AS check_name, 'silver.events' AS table_name, 'warning' AS severity,
         CAST(count(*) AS double) AS observed, 1.0E0 AS threshold, count(*) >= 1 AS passed,
         'events inserted by this run (0: nothing new arrived)' AS detail
  FROM run_events
  UNION ALL
  SELECT 'silver_events_unique_event_id', 'silver.events', 'blocking',
         CAST(count(*) - count(DISTINCT event_id) AS double), 0.0E0, count(*) = count(DISTINCT event_id),
         'rows minus distinct event_id over the whole table'
  FROM silver.events
  UNION ALL
  SELECT 'silver_events_required_not_null', 'silver.events', 'blocking',
         CAST(count_if(event_id IS NULL OR event_type IS NULL OR event_time IS NULL OR session_id IS NULL) AS double),
         0.0E0, count_if(event_id IS NULL OR event_type IS NULL OR event_time IS NULL OR session_id IS NULL) = 0,
         'new rows missing event_id, event_type, event_time or session_id'
  FROM run_events
  UNION ALL
  SELECT 'silver_events_price_range', 'silver.events', 'blocking',
         CAST(count_if(price < 0 OR price > 1000000000 OR quantity < 1) AS double), 0.0E0,
         count_if(price < 0 OR price > 1000000000 OR quantity < 1) = 0,
         'new rows with price outside [0, 1e9] or quantity < 1'
  FROM run_events
  UNION ALL
  SELECT 'ops_rejected_share', 'ops.rejected_events', 'warning',
         CAST(r.n AS double) / CAST(greatest(r.n + a.n, 1) AS double), 0.05E0,
         CAST(r.n AS double) / CAST(greatest(r.n + a.n, 1) AS double) <= 0.05,
         'share of this run''s bronze rows rejected by validation'
  FROM (SELECT count(*) AS n FROM ops.rejected_events WHERE run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)) r
  CROSS JOIN (SELECT count(*) AS n FROM run_events) a
  UNION ALL
  SELECT 'silver_orders_amount_range', 'silver.orders', 'blocking',
         CAST(count_if(amount < 0 OR amount > 1000000000) AS double), 0.0E0,
         count_if(amount < 0 OR amount > 1000000000) = 0, 'touched orders with amount outside [0, 1e9]'
  FROM run_orders
  UNION ALL
  SELECT 'silver_orders_status_valid', 'silver.orders', 'blocking',
         CAST(count_if(status NOT IN ('placed', 'cancelled')) AS double), 0.0E0,
         count_if(status NOT IN ('placed', 'cancelled')) = 0, 'touched orders with a status other than placed/cancelled'
  FROM run_orders
  UNION ALL
  SELECT 'silver_orders_reconciled', 'silver.orders', 'warning',
         CAST(count_if(amount_matches = false) AS double), 0.0E0, count_if(amount_matches = false) = 0,
         'touched orders whose event and OLTP totals differ'
  FROM run_orders
  UNION ALL
  SELECT 'silver_order_lines_orphans', 'silver.order_lines', 'blocking',
         CAST(count(*) AS double), 0.0E0, count(*) = 0, 'new lines whose order is not in silver.orders'
  FROM run_lines l
  WHERE NOT EXISTS (SELECT 1 FROM silver.orders o WHERE o.order_id = l.order_id)
  UNION ALL
  SELECT 'silver_order_lines_unknown_product', 'silver.order_lines', 'warning',
         CAST(count(*) AS double), 0.0E0, count(*) = 0, 'new lines whose product is not in dim_product'
  FROM run_lines l
  WHERE NOT EXISTS (SELECT 1 FROM silver.dim_product p WHERE p.product_id = l.product_id)
  UNION ALL
  SELECT 'silver_orders_unknown_customer', 'silver.orders', 'warning',
         CAST(count(*) AS double), 0.0E0, count(*) = 0, 'touched orders whose customer is not in dim_customer'
  FROM run_orders o
  WHERE o.customer_id IS NOT NULL
    AND NOT EXISTS (SELECT 1 FROM silver.dim_customer c WHERE c.customer_id = o.customer_id)
  UNION ALL
  SELECT 'silver_payments_amount_range', 'silver.payments', 'blocking',
         CAST(count_if(amount IS NULL OR amount < 0 OR amount > 1000000000) AS double), 0.0E0,
         count_if(amount IS NULL OR amount < 0 OR amount > 1000000000) = 0,
         'changed payments with no amount or an amount outside [0, 1e9]'
  FROM run_payments
  UNION ALL
  SELECT 'silver_payments_status_valid', 'silver.payments', 'blocking',
         CAST(count_if(status IS NULL OR status NOT IN ('authorized', 'captured', 'refunded', 'failed')) AS double), 0.0E0,
         count_if(status IS NULL OR status NOT IN ('authorized', 'captured', 'refunded', 'failed')) = 0,
         'changed payments with a status other than authorized/captured/refunded/failed'
  FROM run_payments
  UNION ALL
  SELECT 'silver_payments_unknown_order', 'silver.payments', 'warning',
         CAST(count(*) AS double), 0.0E0, count(*) = 0,
         'changed payments whose order is not in silver.orders (gold.payment_reconciliation status no_order)'
  FROM run_payments p
  WHERE NOT EXISTS (SELECT 1 FROM silver.orders o WHERE o.order_id = p.order_id)
  UNION ALL
  SELECT 'silver_reviews_rating_range', 'silver.reviews', 'blocking',
         CAST(count_if(rating IS NULL OR rating < 1 OR rating > 5) AS double), 0.0E0,
         count_if(rating IS NULL OR rating < 1 OR rating > 5) = 0, 'changed reviews with a rating outside 1..5'
  FROM run_reviews
  UNION ALL
  SELECT 'silver_reviews_unknown_product', 'silver.reviews', 'warning',
         CAST(count(*) AS double), 0.0E0, count(*) = 0, 'changed reviews whose product is not in dim_product'
  FROM run_reviews r
  WHERE NOT EXISTS (SELECT 1 FROM silver.dim_product p WHERE p.product_id = r.product_id)
  UNION ALL
  SELECT 'silver_sessions_duration_range', 'silver.sessions', 'blocking',
         CAST(count_if(duration_seconds < 0 OR event_count < 1) AS double), 0.0E0,
         count_if(duration_seconds < 0 OR event_count < 1) = 0, 'sessions with negative duration or no events'
  FROM silver.sessions WHERE etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  UNION ALL
  SELECT 'silver_dim_customer_one_current', 'silver.dim_customer', 'blocking',
         CAST(count(*) AS double), 0.0E0, count(*) = 0,
         'customers without exactly one current version (none only when deleted in the source: every version closed)'
  FROM (SELECT customer_id FROM silver.dim_customer GROUP BY customer_id
        HAVING count_if(is_current) > 1 OR count_if(is_current) <> count_if(valid_to IS NULL)) x
  UNION ALL
  SELECT 'silver_dim_customer_contiguous', 'silver.dim_customer', 'blocking',
         CAST(count(*) AS double), 0.0E0, count(*) = 0, 'versions whose valid_to is not the next valid_from'
  FROM (
    SELECT valid_to, lead(valid_from) OVER (PARTITION BY customer_id ORDER BY valid_from) AS next_from
    FROM silver.dim_customer
  ) x
  -- The last version ends open (current) or at the customer's deletion in the source.
  WHERE x.next_from IS NOT NULL AND x.valid_to IS DISTINCT FROM x.next_from
  UNION ALL
  SELECT 'bronze_oltp_customers_unique', 'bronze.oltp_customers', 'blocking',
         CAST(count(*) AS double), 0.0E0, count(*) = 0, 'customer ids appearing twice in one OLTP snapshot'
  FROM (SELECT snapshot_at, customer_id FROM bronze.oltp_customers GROUP BY snapshot_at, customer_id HAVING count(*) > 1) x
  UNION ALL
  SELECT 'bronze_oltp_products_unique', 'bronze.oltp_products', 'blocking',
         CAST(count(*) AS double), 0.0E0, count(*) = 0, 'product ids appearing twice in one OLTP snapshot'
  FROM (SELECT snapshot_at, product_id FROM bronze.oltp_products GROUP BY snapshot_at, product_id HAVING count(*) > 1) x
  UNION ALL
  SELECT 'silver_dim_product_one_current', 'silver.dim_product', 'blocking',
         CAST(count(*) AS double), 0.0E0, count(*) = 0,
         'products without exactly one current version (none only when deleted in the source: every version closed)'
  FROM (SELECT product_id FROM silver.dim_product GROUP BY product_id
        HAVING count_if(is_current) > 1 OR count_if(is_current) <> count_if(valid_to IS NULL)) x
  UNION ALL
  -- Access logs vs clickstream (docs/access-logs.md): a warning, not blocking, since logs and
  -- tracker events legitimately differ (ad blockers drop tracker calls, caches serve pages).
  SELECT 'access_logs_product_views_reconciled', 'silver.access_requests', 'warning',
         coalesce(max(abs(x.ratio - 1.0E0)), 0.0E0), 0.2E0, coalesce(max(abs(x.ratio - 1.0E0)), 0.0E0) <= 0.2E0,
         'largest relative gap between product-page requests (non-bot GET /product/{id} < 400) and product_view events over the days this run touched that have both'
  FROM (
    SELECT CAST(l.n AS double) / CAST(e.n AS double) AS ratio
    FROM (
      SELECT r.request_date AS d, count(*) AS n
      FROM silver.access_requests r
      WHERE NOT r.is_bot AND r.method = 'GET' AND r.route IN ('/product/{id}') AND r.status < 400
        AND r.request_date IN (
          SELECT t.request_date FROM silver.access_requests t
          WHERE t.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
        )
      GROUP BY r.request_date
    ) l
    JOIN (
      SELECT ev.event_date AS d, count(*) AS n FROM silver.events ev
      WHERE ev.event_type = 'product_view'
      GROUP BY ev.event_date
    ) e ON e.d = l.d
  ) x
)
SELECT :run_id, localtimestamp, c.check_name, c.table_name, c.severity, c.passed, c.observed, c.threshold, c.detail
FROM checks c
WHERE NOT EXISTS (
  SELECT 1 FROM ops.data_quality_results d WHERE d.run_id = :run_id AND d.check_name = c.check_name
)
