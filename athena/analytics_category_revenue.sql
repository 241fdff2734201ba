-- Dashboard data set `category_revenue`: revenue per category and month with the growth against
-- the category's previous month (gold computes it per month; nothing is summed across months).
-- Params: :from, :to, :category (NULL = every category).
SELECT
  c.month,
  c.category,
  round(CAST(c.revenue AS double), 2) AS revenue,
  c.units,
  c.orders,
  round(CAST(c.prev_month_revenue AS double), 2) AS prev_month_revenue,
  round(CAST(c.mom_growth AS double), 4) AS mom_growth
FROM gold.category_revenue c
WHERE c.month BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  AND (CAST(:category AS varchar) IS NULL OR c.category = CAST(:category AS varchar))
ORDER BY c.month, c.revenue DESC, c.category
