-- Dashboard data set `categories`: the product categories with revenue in the month range, for
-- the category filter. Params: :from, :to.
SELECT
  c.category,
  round(CAST(sum(c.revenue) AS double), 2) AS revenue
FROM gold.category_revenue c
WHERE c.month BETWEEN CAST(:from AS date) AND CAST(:to AS date)
GROUP BY c.category
ORDER BY c.category
