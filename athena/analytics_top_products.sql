-- Dashboard data set `top_products`: the 20 products with the most revenue over the month range,
-- ranked from gold's monthly top-20 lists (a product's revenue counts in the months it was in
-- that month's top 20). Params: :from, :to, :category (NULL = every category).
SELECT
  row_number() OVER (ORDER BY t.revenue DESC, t.product_id) AS rank,
  t.product_id,
  t.category,
  round(CAST(t.revenue AS double), 2) AS revenue,
  t.units,
  t.orders,
  t.months_in_top
FROM (
  SELECT
    p.product_id,
    max(p.category) AS category,
    sum(p.revenue) AS revenue,
    sum(p.units) AS units,
    sum(p.orders) AS orders,
    count(*) AS months_in_top
  FROM gold.top_products p
  WHERE p.month BETWEEN CAST(:from AS date) AND CAST(:to AS date)
    AND (CAST(:category AS varchar) IS NULL OR p.category = CAST(:category AS varchar))
  GROUP BY p.product_id
) t
ORDER BY rank
LIMIT 20
