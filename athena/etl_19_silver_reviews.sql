-- silver.reviews: the current state of the OLTP reviews (bronze.oltp_reviews is a change log: the
-- latest row per review). New reviews and reviews whose values changed (e.g. hidden by
-- moderation, rating edited) are upserted; a review whose latest bronze row is a delete marker
-- stays, with is_deleted true. Changed rows get etl_run_id (gold.product_ratings recomputes their
-- products). Params: :run_id.
MERGE INTO silver.reviews t
USING (
  WITH latest AS (
    SELECT r.review_id, r.product_id, r.customer_id, r.order_id, r.rating, r.title, r.body, r.status, r.created_at,
           CAST(r.created_at AS date) AS review_date, r.updated_at, coalesce(r.is_deleted, false) AS is_deleted
    FROM (
      SELECT x.*, row_number() OVER (PARTITION BY x.review_id ORDER BY x.snapshot_at DESC) AS rn
      FROM bronze.oltp_reviews x
    ) r
    WHERE r.rn = 1
  )
  SELECT l.*
  FROM latest l
  LEFT JOIN silver.reviews cur ON cur.review_id = l.review_id
  WHERE cur.review_id IS NULL
     OR cur.is_deleted <> l.is_deleted
     OR cur.product_id IS DISTINCT FROM l.product_id
     OR cur.customer_id IS DISTINCT FROM l.customer_id
     OR cur.order_id IS DISTINCT FROM l.order_id
     OR cur.rating IS DISTINCT FROM l.rating
     OR cur.title IS DISTINCT FROM l.title
     OR cur.body IS DISTINCT FROM l.body
     OR cur.status IS DISTINCT FROM l.status
     OR cur.created_at IS DISTINCT FROM l.created_at
) s
ON t.review_id = s.review_id
WHEN MATCHED THEN
  UPDATE SET product_id = s.product_id, customer_id = s.customer_id, order_id = s.order_id, rating = s.rating,
    title = s.title, body = s.body, status = s.status, created_at = s.created_at, review_date = s.review_date,
    updated_at = s.updated_at, is_deleted = s.is_deleted, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (review_id, product_id, customer_id, order_id, rating, title, body, status, created_at, review_date,
          updated_at, is_deleted, etl_run_id)
  VALUES (s.review_id, s.product_id, s.customer_id, s.order_id, s.rating, s.title, s.body, s.status, s.created_at,
          s.review_date, s.updated_at, s.is_deleted, :run_id)
