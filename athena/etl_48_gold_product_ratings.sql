-- gold.product_ratings: the current rating of every product with reviews in the OLTP (the shop's
-- system of record for reviews), recomputed for the products whose reviews changed in the
-- pending runs. Only published, not deleted reviews count; hidden ones are counted apart.
-- Category: the product's current one (silver.dim_product). Params: :run_id.
MERGE INTO gold.product_ratings t
USING (
  WITH affected AS (
    SELECT DISTINCT r.product_id FROM silver.reviews r
    WHERE r.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND r.product_id IS NOT NULL
  ),
  live AS (
    SELECT r.product_id, r.rating, r.created_at, r.status = 'published' AS published
    FROM silver.reviews r
    WHERE NOT r.is_deleted AND r.product_id IN (SELECT product_id FROM affected)
  ),
  agg AS (
    SELECT
      a.product_id,
      count_if(l.published) AS reviews,
      avg(CASE WHEN l.published THEN CAST(l.rating AS double) END) AS avg_rating,
      count_if(l.published AND l.rating = 1) AS rating_1,
      count_if(l.published AND l.rating = 2) AS rating_2,
      count_if(l.published AND l.rating = 3) AS rating_3,
      count_if(l.published AND l.rating = 4) AS rating_4,
      count_if(l.published AND l.rating = 5) AS rating_5,
      count_if(NOT l.published) AS hidden_reviews,
      max(CASE WHEN l.published THEN l.created_at END) AS last_review_at
    FROM affected a
    LEFT JOIN live l ON l.product_id = a.product_id
    GROUP BY a.product_id
  )
  SELECT g.*, p.category
  FROM agg g
  LEFT JOIN silver.dim_product p ON p.product_id = g.product_id AND p.is_current
) s
ON t.product_id = s.product_id
WHEN MATCHED THEN
  UPDATE SET category = s.category, reviews = s.reviews, avg_rating = s.avg_rating, rating_1 = s.rating_1,
    rating_2 = s.rating_2, rating_3 = s.rating_3, rating_4 = s.rating_4, rating_5 = s.rating_5,
    hidden_reviews = s.hidden_reviews, last_review_at = s.last_review_at, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (product_id, category, reviews, avg_rating, rating_1, rating_2, rating_3, rating_4, rating_5, hidden_reviews,
          last_review_at, etl_run_id)
  VALUES (s.product_id, s.category, s.reviews, s.avg_rating, s.rating_1, s.rating_2, s.rating_3, s.rating_4,
          s.rating_5, s.hidden_reviews, s.last_review_at, :run_id)
