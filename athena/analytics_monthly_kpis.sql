-- Dashboard data set `monthly_kpis` (lambdas/shared/analytics/datasets.ts): one row per month of
-- the shop-wide KPIs. Money is rounded to cents and returned as double (a JSON number); rates
-- are fractions (0.25 = 25 %). Params: :from, :to (first day of the first / last month).
SELECT
  k.month,
  round(CAST(k.revenue AS double), 2) AS revenue,
  round(CAST(k.net_revenue AS double), 2) AS net_revenue,
  k.orders,
  k.units,
  round(CAST(k.avg_order_value AS double), 2) AS avg_order_value,
  k.active_customers,
  k.new_customers,
  k.returning_customers,
  round(CAST(r.repeat_purchase_rate AS double), 4) AS repeat_rate,
  k.sessions,
  round(CAST(k.conversion_rate AS double), 4) AS conversion_rate,
  k.cancelled_orders,
  round(CAST(k.cancellation_rate AS double), 4) AS cancellation_rate
FROM gold.monthly_kpis k
LEFT JOIN gold.repeat_purchase r ON r.month = k.month
WHERE k.month BETWEEN CAST(:from AS date) AND CAST(:to AS date)
ORDER BY k.month
