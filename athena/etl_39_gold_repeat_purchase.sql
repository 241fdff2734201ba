-- gold.repeat_purchase for the months whose orders changed in the pending runs: customers with a placed
-- order in the month, how many had ordered before the month (returning), how many ordered
-- twice or more within it. Params: :run_id.
MERGE INTO gold.repeat_purchase t
USING (
  WITH affected AS (
    SELECT DISTINCT CAST(date_trunc('month', o.order_date) AS date) AS m FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  ),
  first_order AS (
    SELECT o.customer_id, min(CAST(date_trunc('month', o.order_date) AS date)) AS first_m
    FROM silver.orders o
    WHERE o.status = 'placed' AND o.customer_id IS NOT NULL
    GROUP BY o.customer_id
  ),
  per_customer AS (
    SELECT CAST(date_trunc('month', o.order_date) AS date) AS m, o.customer_id, count(*) AS orders
    FROM silver.orders o
    WHERE o.status = 'placed' AND o.customer_id IS NOT NULL
      AND CAST(date_trunc('month', o.order_date) AS date) IN (SELECT m FROM affected)
    GROUP BY CAST(date_trunc('month', o.order_date) AS date), o.customer_id
  )
  SELECT
    p.m AS month,
    count(*) AS customers,
    count_if(f.first_m < p.m) AS returning_customers,
    count_if(p.orders >= 2) AS multi_order_customers,
    CAST(count_if(f.first_m < p.m) AS double) / nullif(count(*), 0) AS repeat_purchase_rate
  FROM per_customer p
  JOIN first_order f ON f.customer_id = p.customer_id
  GROUP BY p.m
) s
ON t.month = s.month
WHEN MATCHED THEN
  UPDATE SET customers = s.customers, returning_customers = s.returning_customers,
    multi_order_customers = s.multi_order_customers, repeat_purchase_rate = s.repeat_purchase_rate,
    etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (month, customers, returning_customers, multi_order_customers, repeat_purchase_rate, etl_run_id)
  VALUES (s.month, s.customers, s.returning_customers, s.multi_order_customers, s.repeat_purchase_rate, :run_id)
