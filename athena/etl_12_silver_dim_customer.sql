-- bronze.oltp_customers snapshots → silver.dim_customer (SCD Type 2).
-- A new version starts at the first snapshot whose tracked attributes differ from the
-- customer's previous snapshot; versions are contiguous (valid_to = next valid_from) and the
-- last one is current. Recomputed from all snapshots and merged, so it is idempotent and
-- tolerates snapshots loaded out of order.
-- Params: none.
MERGE INTO silver.dim_customer t
USING (
  WITH snap AS (
    SELECT
      c.*,
      to_hex(md5(to_utf8(concat_ws('|', coalesce(c.name, ''), coalesce(c.email, ''), coalesce(c.country, ''),
                                   coalesce(c.city, ''), coalesce(c.segment, ''))))) AS row_hash
    FROM bronze.oltp_customers c
  ),
  changes AS (
    SELECT snap.*, lag(snap.row_hash) OVER (PARTITION BY snap.customer_id ORDER BY snap.snapshot_at) AS prev_hash
    FROM snap
  ),
  versions AS (
    SELECT * FROM changes WHERE prev_hash IS NULL OR prev_hash <> row_hash
  )
  SELECT
    v.customer_id || '@' || date_format(v.snapshot_at, '%Y-%m-%dT%H:%i:%S') AS customer_sk,
    v.customer_id, v.name, v.email, v.country, v.city, v.segment, v.signup_at,
    v.snapshot_at AS valid_from,
    lead(v.snapshot_at) OVER (PARTITION BY v.customer_id ORDER BY v.snapshot_at) AS valid_to,
    lead(v.snapshot_at) OVER (PARTITION BY v.customer_id ORDER BY v.snapshot_at) IS NULL AS is_current,
    v.row_hash
  FROM versions v
) s
ON t.customer_sk = s.customer_sk
WHEN MATCHED AND (t.valid_to IS DISTINCT FROM s.valid_to OR t.is_current <> s.is_current) THEN
  UPDATE SET valid_to = s.valid_to, is_current = s.is_current
WHEN NOT MATCHED THEN
  INSERT (customer_sk, customer_id, name, email, country, city, segment, signup_at, valid_from, valid_to, is_current, row_hash)
  VALUES (s.customer_sk, s.customer_id, s.name, s.email, s.country, s.city, s.segment, s.signup_at, s.valid_from,
          s.valid_to, s.is_current, s.row_hash)
