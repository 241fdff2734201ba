-- gold.monthly_kpis for the months whose orders or sessions changed in the pending runs.
-- revenue: placed orders; net_revenue: minus cancellations; new customers: first placed order
-- in the month; returning: active - new. Params: :run_id.
MERGE INTO gold.monthly_kpis t
USING (
  WITH affected AS (
    SELECT DISTINCT CAST(date_trunc('month', o.order_date) AS date) AS m FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
    UNION
    SELECT DISTINCT CAST(date_trunc('month', s.session_date) AS date) FROM silver.sessions s WHERE s.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  ),
  first_order AS (
    SELECT o.customer_id, min(CAST(date_trunc('month', o.order_date) AS date)) AS first_m
    FROM silver.orders o
    WHERE o.status = 'placed' AND o.customer_id IS NOT NULL
    GROUP BY o.customer_id
  ),
  o AS (
    SELECT CAST(date_trunc('month', x.order_date) AS date) AS m, x.status, x.source, x.amount, x.units, x.customer_id
    FROM silver.orders x
    WHERE CAST(date_trunc('month', x.order_date) AS date) IN (SELECT m FROM affected)
  ),
  om AS (
    SELECT
      o.m,
      coalesce(sum(CASE WHEN o.status = 'placed' THEN o.amount END), 0) AS revenue,
      -- cancellation documents refund revenue; OLTP-cancelled orders are just not revenue
      coalesce(sum(CASE WHEN o.status = 'placed' THEN o.amount WHEN o.source = 'event' THEN -o.amount ELSE 0 END), 0)
        AS net_revenue,
      count_if(o.status = 'placed') AS orders,
      coalesce(sum(CASE WHEN o.status = 'placed' THEN o.units END), 0) AS units,
      count(DISTINCT CASE WHEN o.status = 'placed' THEN o.customer_id END) AS active_customers,
      count(DISTINCT CASE WHEN o.status = 'placed' AND f.first_m = o.m THEN o.customer_id END) AS new_customers,
      count_if(o.status = 'cancelled') AS cancelled_orders
    FROM o
    LEFT JOIN first_order f ON f.customer_id = o.customer_id
    GROUP BY o.m
  ),
  sm AS (
    SELECT CAST(date_trunc('month', s.session_date) AS date) AS m, count(*) AS sessions,
           count_if(s.purchases > 0) AS converted
    FROM silver.sessions s
    WHERE CAST(date_trunc('month', s.session_date) AS date) IN (SELECT m FROM affected)
    GROUP BY CAST(date_trunc('month', s.session_date) AS date)
  )
  SELECT
    coalesce(om.m, sm.m) AS month,
    CAST(coalesce(om.revenue, 0) AS decimal(38,2)) AS revenue,
    CAST(coalesce(om.net_revenue, 0) AS decimal(38,2)) AS net_revenue,
    coalesce(om.orders, 0) AS orders,
    coalesce(om.units, 0) AS units,
    -- Average order value, exact and identical on Trino and DuckDB: integer cents rounded half
    -- up ((2c + n) / 2n, integer division), then scaled back. Decimal / integer is a decimal on
    -- Trino but a double on DuckDB, so the plain division would differ between engines.
    CAST(CAST((2 * CAST(om.revenue * 100 AS bigint) + om.orders) / (2 * nullif(om.orders, 0)) AS decimal(38,0)) * 0.01
         AS decimal(38,2)) AS avg_order_value,
    coalesce(om.active_customers, 0) AS active_customers,
    coalesce(om.new_customers, 0) AS new_customers,
    coalesce(om.active_customers - om.new_customers, 0) AS returning_customers,
    coalesce(om.cancelled_orders, 0) AS cancelled_orders,
    CAST(om.cancelled_orders AS double) / nullif(om.orders + om.cancelled_orders, 0) AS cancellation_rate,
    coalesce(sm.sessions, 0) AS sessions,
    CAST(sm.converted AS double) / nullif(sm.sessions, 0) AS conversion_rate
  FROM om
  FULL OUTER JOIN sm ON sm.m = om.m
) s
ON t.month = s.month
WHEN MATCHED THEN
  UPDATE SET revenue = s.revenue, net_revenue = s.net_revenue, orders = s.orders, units = s.units,
    avg_order_value = s.avg_order_value, active_customers = s.active_customers, new_customers = s.new_customers,
    returning_customers = s.returning_customers, cancelled_orders = s.cancelled_orders,
    cancellation_rate = s.cancellation_rate, sessions = s.sessions, conversion_rate = s.conversion_rate,
    etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (month, revenue, net_revenue, orders, units, avg_order_value, active_customers, new_customers,
          returning_customers, cancelled_orders, cancellation_rate, sessions, conversion_rate, etl_run_id)
  VALUES (s.month, s.revenue, s.net_revenue, s.orders, s.units, s.avg_order_value, s.active_customers,
          s.new_customers, s.returning_customers, s.cancelled_orders, s.cancellation_rate, s.sessions,
          s.conversion_rate, :run_id)
