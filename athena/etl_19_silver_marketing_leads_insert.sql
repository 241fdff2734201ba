-- silver.marketing_leads, step 2 of 2: the current version of every lead in
-- bronze.marketing_leads (a change log: latest row per mql_id, unless a delete marker).
-- A lead without an origin is reported under 'unknown' (as the Olist data set labels them).
-- Params: :run_id.
INSERT INTO silver.marketing_leads (mql_id, first_contact_date, first_contact_month, landing_page_id, origin, etl_run_id)
WITH cur AS (
  SELECT b.*, row_number() OVER (PARTITION BY b.mql_id ORDER BY b.snapshot_at DESC) AS rn
  FROM bronze.marketing_leads b
)
SELECT
  c.mql_id,
  c.first_contact_date,
  CAST(date_trunc('month', c.first_contact_date) AS date),
  c.landing_page_id,
  coalesce(nullif(trim(c.origin), ''), 'unknown'),
  :run_id
FROM cur c
WHERE c.rn = 1 AND NOT coalesce(c.is_deleted, false)
