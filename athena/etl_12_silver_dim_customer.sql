-- bronze.oltp_customers (a change log: full snapshots or incremental extracts, with delete
-- markers) → silver.dim_customer (SCD Type 2).
-- A new version starts at the first bronze row whose tracked attributes differ from the
-- customer's previous row; versions are contiguous (valid_to = next valid_from) and the
-- last one is current. A delete marker (is_deleted, a hard delete in the source) closes the
-- current version (valid_to = the marker's snapshot_at, is_current false) and starts none.
-- Recomputed from all of bronze and merged, so it is idempotent and tolerates snapshots
-- loaded out of order.
-- Params: none.
MERGE INTO silver.dim_customer t
USING (
  WITH snap AS (
    SELECT
      c.*,
      CASE WHEN coalesce(c.is_deleted, false) THEN 'deleted'
           ELSE to_hex(md5(to_utf8(concat_ws('|', coalesce(c.name, ''), coalesce(c.email, ''), coalesce(c.country, ''),
                                   coalesce(c.city, ''), coalesce(c.segment, '')))))
      END AS row_hash
    FROM bronze.oltp_customers c
  ),
  changes AS (
    SELECT snap.*, lag(snap.row_hash) OVER (PARTITION BY snap.customer_id ORDER BY snap.snapshot_at) AS prev_hash
    FROM snap
  ),
  versions AS (
    SELECT * FROM changes WHERE prev_hash IS NULL OR prev_hash <> row_hash
  ),
  ranged AS (
    SELECT v.*, lead(v.snapshot_at) OVER (PARTITION BY v.customer_id ORDER BY v.snapshot_at) AS valid_to
    FROM versions v
  )
  SELECT
    r.customer_id || '@' || date_format(r.snapshot_at, '%Y-%m-%dT%H:%i:%S') AS customer_sk,
    r.customer_id, r.name, r.email, r.country, r.city, r.segment, r.signup_at,
    r.snapshot_at AS valid_from,
    r.valid_to,
    r.valid_to IS NULL AS is_current,
    r.row_hash
  FROM ranged r
  WHERE r.row_hash <> 'deleted'
) s
ON t.customer_sk = s.customer_sk
WHEN MATCHED AND (t.valid_to IS DISTINCT FROM s.valid_to OR t.is_current <> s.is_current) THEN
  UPDATE SET valid_to = s.valid_to, is_current = s.is_current
WHEN NOT MATCHED THEN
  INSERT (customer_sk, customer_id, name, email, country, city, segment, signup_at, valid_from, valid_to, is_current, row_hash)
  VALUES (s.customer_sk, s.customer_id, s.name, s.email, s.country, s.city, s.segment, s.signup_at, s.valid_from,
          s.valid_to, s.is_current, s.row_hash)
