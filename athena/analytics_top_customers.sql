-- Dashboard data set `top_customers`: the 50 customers with the highest lifetime value (placed
-- orders net of cancellations, all time) among those who ordered within the month range.
-- Params: :from, :to.
SELECT
  row_number() OVER (ORDER BY l.lifetime_value DESC, l.customer_id) AS rank,
  l.customer_id,
  l.country,
  l.first_order_date,
  l.last_order_date,
  l.orders,
  round(CAST(l.revenue AS double), 2) AS revenue,
  round(CAST(l.cancelled_revenue AS double), 2) AS cancelled_revenue,
  round(CAST(l.lifetime_value AS double), 2) AS lifetime_value,
  round(CAST(l.avg_order_value AS double), 2) AS avg_order_value
FROM gold.customer_ltv l
WHERE l.last_order_date >= CAST(:from AS date)
  AND l.first_order_date < date_add('month', 1, CAST(:to AS date))
ORDER BY rank
LIMIT 50
