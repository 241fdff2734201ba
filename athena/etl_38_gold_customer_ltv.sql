-- gold.customer_ltv for the customers whose orders changed in the pending runs: lifetime placed
-- revenue net of cancellation documents, with the customer's current country. Params: :run_id.
MERGE INTO gold.customer_ltv t
USING (
  WITH affected AS (
    SELECT DISTINCT o.customer_id FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND o.customer_id IS NOT NULL
  ),
  agg AS (
    SELECT
      o.customer_id,
      min(o.order_date) AS first_order_date,
      max(o.order_date) AS last_order_date,
      count_if(o.status = 'placed') AS orders,
      coalesce(sum(CASE WHEN o.status = 'placed' THEN o.amount END), 0) AS revenue,
      coalesce(sum(CASE WHEN o.status = 'cancelled' THEN o.amount END), 0) AS cancelled_revenue,
      -- only cancellation documents (event-only cancelled orders) refund earlier revenue
      coalesce(sum(CASE WHEN o.status = 'cancelled' AND o.source = 'event' THEN o.amount END), 0) AS refunded
    FROM silver.orders o
    WHERE o.customer_id IN (SELECT customer_id FROM affected)
    GROUP BY o.customer_id
  )
  SELECT
    a.customer_id, a.first_order_date, a.last_order_date, a.orders, CAST(a.revenue AS decimal(38,2)) AS revenue,
    CAST(a.cancelled_revenue AS decimal(38,2)) AS cancelled_revenue,
    CAST(a.revenue - a.refunded AS decimal(38,2)) AS lifetime_value,
    -- Average order value, exact and identical on Trino and DuckDB: integer cents rounded half
    -- up ((2c + n) / 2n, integer division), then scaled back. Decimal / integer is a decimal on
    -- Trino but a double on DuckDB, so the plain division would differ between engines.
    CAST(CAST((2 * CAST(a.revenue * 100 AS bigint) + a.orders) / (2 * nullif(a.orders, 0)) AS decimal(38,0)) * 0.01
         AS decimal(38,2)) AS avg_order_value,
    c.country
  FROM agg a
  LEFT JOIN silver.dim_customer c ON c.customer_id = a.customer_id AND c.is_current
) s
ON t.customer_id = s.customer_id
WHEN MATCHED THEN
  UPDATE SET first_order_date = s.first_order_date, last_order_date = s.last_order_date, orders = s.orders,
    revenue = s.revenue, cancelled_revenue = s.cancelled_revenue, lifetime_value = s.lifetime_value,
    avg_order_value = s.avg_order_value, country = s.country, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (customer_id, first_order_date, last_order_date, orders, revenue, cancelled_revenue, lifetime_value,
          avg_order_value, country, etl_run_id)
  VALUES (s.customer_id, s.first_order_date, s.last_order_date, s.orders, s.revenue, s.cancelled_revenue,
          s.lifetime_value, s.avg_order_value, s.country, :run_id)
