-- bronze.oltp_products (a change log, see etl_12) → silver.dim_product with price history
-- (SCD Type 2 on name, category and price; previous_price is the price of the version before).
-- Stock is not a tracked attribute: it is the stock at the last bronze row of the version.
-- A delete marker closes the current version and starts none.
-- row_hash is the MD5 of canonical text: decimals cast to varchar keep their scale
-- ('38.9900') on Trino/Athena and DuckDB alike, where CAST(double AS varchar) gives '3.899E1'
-- on Trino and '38.99' on DuckDB.
-- Params: none.
MERGE INTO silver.dim_product t
USING (
  WITH priced AS (
    SELECT p.snapshot_at, p.product_id, p.name, p.category, CAST(p.price AS decimal(18,4)) AS price, p.currency,
           p.stock, coalesce(p.is_deleted, false) AS is_deleted
    FROM bronze.oltp_products p
  ),
  snap AS (
    SELECT
      p.*,
      CASE WHEN p.is_deleted THEN 'deleted'
           ELSE to_hex(md5(to_utf8(concat_ws('|', coalesce(p.name, ''), coalesce(p.category, ''),
                                   coalesce(CAST(p.price AS varchar), ''), coalesce(p.currency, '')))))
      END AS row_hash
    FROM priced p
  ),
  changes AS (
    SELECT snap.*, lag(snap.row_hash) OVER (PARTITION BY snap.product_id ORDER BY snap.snapshot_at) AS prev_hash
    FROM snap
  ),
  versions AS (
    SELECT * FROM changes WHERE prev_hash IS NULL OR prev_hash <> row_hash
  ),
  ranged AS (
    SELECT
      v.*,
      lag(v.price) OVER (PARTITION BY v.product_id ORDER BY v.snapshot_at) AS previous_price,
      lead(v.snapshot_at) OVER (PARTITION BY v.product_id ORDER BY v.snapshot_at) AS valid_to
    FROM versions v
  ),
  stock_at_end AS (
    SELECT r.product_id, r.snapshot_at, max_by(x.stock, x.snapshot_at) AS stock
    FROM ranged r
    JOIN snap x
      ON x.product_id = r.product_id AND NOT x.is_deleted AND x.snapshot_at >= r.snapshot_at
     AND (r.valid_to IS NULL OR x.snapshot_at < r.valid_to)
    GROUP BY r.product_id, r.snapshot_at
  )
  SELECT
    r.product_id || '@' || date_format(r.snapshot_at, '%Y-%m-%dT%H:%i:%S') AS product_sk,
    r.product_id, r.name, r.category, r.price, r.currency, r.previous_price,
    st.stock,
    r.snapshot_at AS valid_from, r.valid_to, r.valid_to IS NULL AS is_current, r.row_hash
  FROM ranged r
  LEFT JOIN stock_at_end st ON st.product_id = r.product_id AND st.snapshot_at = r.snapshot_at
  WHERE r.row_hash <> 'deleted'
) s
ON t.product_sk = s.product_sk
WHEN MATCHED AND (t.valid_to IS DISTINCT FROM s.valid_to OR t.is_current <> s.is_current
                  OR t.stock IS DISTINCT FROM s.stock) THEN
  UPDATE SET valid_to = s.valid_to, is_current = s.is_current, stock = s.stock
WHEN NOT MATCHED THEN
  INSERT (product_sk, product_id, name, category, price, currency, previous_price, stock, valid_from, valid_to, is_current, row_hash)
  VALUES (s.product_sk, s.product_id, s.name, s.category, s.price, s.currency, s.previous_price, s.stock,
          s.valid_from, s.valid_to, s.is_current, s.row_hash)
