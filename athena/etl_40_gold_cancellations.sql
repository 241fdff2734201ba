-- gold.cancellations for the months whose orders changed in the pending runs. Params: :run_id.
MERGE INTO gold.cancellations t
USING (
  WITH affected AS (
    SELECT DISTINCT CAST(date_trunc('month', o.order_date) AS date) AS m FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  )
  SELECT
    CAST(date_trunc('month', o.order_date) AS date) AS month,
    count_if(o.status = 'placed') AS placed_orders,
    count_if(o.status = 'cancelled') AS cancelled_orders,
    coalesce(sum(CASE WHEN o.status = 'cancelled' THEN o.units END), 0) AS cancelled_units,
    CAST(coalesce(sum(CASE WHEN o.status = 'cancelled' THEN o.amount END), 0) AS decimal(38,2)) AS cancelled_value,
    CAST(count_if(o.status = 'cancelled') AS double) / nullif(count(*), 0) AS cancellation_rate
  FROM silver.orders o
  WHERE CAST(date_trunc('month', o.order_date) AS date) IN (SELECT m FROM affected)
  GROUP BY CAST(date_trunc('month', o.order_date) AS date)
) s
ON t.month = s.month
WHEN MATCHED THEN
  UPDATE SET placed_orders = s.placed_orders, cancelled_orders = s.cancelled_orders,
    cancelled_units = s.cancelled_units, cancelled_value = s.cancelled_value,
    cancellation_rate = s.cancellation_rate, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (month, placed_orders, cancelled_orders, cancelled_units, cancelled_value, cancellation_rate, etl_run_id)
  VALUES (s.month, s.placed_orders, s.cancelled_orders, s.cancelled_units, s.cancelled_value, s.cancellation_rate, :run_id)
