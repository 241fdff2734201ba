-- gold.review_ratings per product and month, for the months with new review events.
-- Category: the review's own when it carries one, else the product's current category from
-- silver.dim_product, else the category other events of the product carry (review events
-- usually name only the product).
-- Params: :run_id.
MERGE INTO gold.review_ratings t
USING (
  WITH affected AS (
    SELECT DISTINCT CAST(date_trunc('month', e.event_date) AS date) AS m
    FROM silver.events e
    WHERE e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND e.event_type = 'review'
  ),
  reviewed AS (
    SELECT DISTINCT e.product_id
    FROM silver.events e
    WHERE e.event_type = 'review' AND CAST(date_trunc('month', e.event_date) AS date) IN (SELECT m FROM affected)
  ),
  event_category AS (
    SELECT e.product_id, max(e.category) AS category
    FROM silver.events e
    WHERE e.category IS NOT NULL AND e.product_id IN (SELECT product_id FROM reviewed)
    GROUP BY e.product_id
  )
  SELECT
    CAST(date_trunc('month', e.event_date) AS date) AS month,
    e.product_id,
    coalesce(max(e.category), max(p.category), max(ec.category)) AS category,
    count(*) AS reviews,
    avg(CAST(e.rating AS double)) AS avg_rating,
    count_if(e.rating = 1) AS rating_1,
    count_if(e.rating = 2) AS rating_2,
    count_if(e.rating = 3) AS rating_3,
    count_if(e.rating = 4) AS rating_4,
    count_if(e.rating = 5) AS rating_5
  FROM silver.events e
  LEFT JOIN silver.dim_product p ON p.product_id = e.product_id AND p.is_current
  LEFT JOIN event_category ec ON ec.product_id = e.product_id
  WHERE e.event_type = 'review' AND CAST(date_trunc('month', e.event_date) AS date) IN (SELECT m FROM affected)
  GROUP BY CAST(date_trunc('month', e.event_date) AS date), e.product_id
) s
ON t.month = s.month AND t.product_id = s.product_id
WHEN MATCHED THEN
  UPDATE SET category = s.category, reviews = s.reviews, avg_rating = s.avg_rating, rating_1 = s.rating_1,
    rating_2 = s.rating_2, rating_3 = s.rating_3, rating_4 = s.rating_4, rating_5 = s.rating_5, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (month, product_id, category, reviews, avg_rating, rating_1, rating_2, rating_3, rating_4, rating_5, etl_run_id)
  VALUES (s.month, s.product_id, s.category, s.reviews, s.avg_rating, s.rating_1, s.rating_2, s.rating_3, s.rating_4,
          s.rating_5, :run_id)
