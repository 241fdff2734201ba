-- Dashboard data set `review_ratings`: reviews per month with the average rating (weighted by
-- reviews) and the 1–5 star distribution. Params: :from, :to, :category (NULL = every category).
SELECT
  r.month,
  sum(r.reviews) AS reviews,
  round(sum(CAST(r.avg_rating AS double) * r.reviews) / nullif(sum(r.reviews), 0), 3) AS avg_rating,
  sum(r.rating_1) AS rating_1,
  sum(r.rating_2) AS rating_2,
  sum(r.rating_3) AS rating_3,
  sum(r.rating_4) AS rating_4,
  sum(r.rating_5) AS rating_5
FROM gold.review_ratings r
WHERE r.month BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  AND (CAST(:category AS varchar) IS NULL OR r.category = CAST(:category AS varchar))
GROUP BY r.month
ORDER BY r.month
