-- gold.daily_sales for the days whose orders this run touched (incremental).
-- Params: :run_id.
MERGE INTO gold.daily_sales t
USING (
  WITH affected AS (
    SELECT DISTINCT o.order_date AS d FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  )
  SELECT
    o.order_date AS sale_date,
    count_if(o.status = 'placed') AS orders,
    coalesce(sum(CASE WHEN o.status = 'placed' THEN o.units END), 0) AS units,
    CAST(coalesce(sum(CASE WHEN o.status = 'placed' THEN o.amount END), 0) AS decimal(38,2)) AS revenue,
    count_if(o.status = 'cancelled') AS cancelled_orders,
    CAST(coalesce(sum(CASE WHEN o.status = 'cancelled' THEN o.amount END), 0) AS decimal(38,2)) AS cancelled_revenue,
    -- Cancellation documents (event-only cancelled orders, e.g. UCI C-invoices) refund earlier
    -- revenue; an order cancelled in the OLTP system is simply not revenue.
    CAST(coalesce(sum(CASE WHEN o.status = 'placed' THEN o.amount WHEN o.source = 'event' THEN -o.amount ELSE 0 END), 0)
      AS decimal(38,2)) AS net_revenue,
    count(DISTINCT CASE WHEN o.status = 'placed' THEN o.customer_id END) AS customers,
    -- Average order value, exact and identical on Trino and DuckDB: integer cents rounded half
    -- up ((2c + n) / 2n, integer division), then scaled back. Decimal / integer is a decimal on
    -- Trino but a double on DuckDB, so the plain division would differ between engines.
    CAST(CAST((2 * CAST(sum(CASE WHEN o.status = 'placed' THEN o.amount END) * 100 AS bigint) + count_if(o.status = 'placed')) / (2 * nullif(count_if(o.status = 'placed'), 0)) AS decimal(38,0)) * 0.01
         AS decimal(38,2)) AS avg_order_value
  FROM silver.orders o
  WHERE o.order_date IN (SELECT d FROM affected)
  GROUP BY o.order_date
) s
ON t.sale_date = s.sale_date
WHEN MATCHED THEN
  UPDATE SET orders = s.orders, units = s.units, revenue = s.revenue, cancelled_orders = s.cancelled_orders,
    cancelled_revenue = s.cancelled_revenue, net_revenue = s.net_revenue, customers = s.customers,
    avg_order_value = s.avg_order_value, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (sale_date, orders, units, revenue, cancelled_orders, cancelled_revenue, net_revenue, customers,
          avg_order_value, etl_run_id)
  VALUES (s.sale_date, s.orders, s.units, s.revenue, s.cancelled_orders, s.cancelled_revenue, s.net_revenue,
          s.customers, s.avg_order_value, :run_id)
