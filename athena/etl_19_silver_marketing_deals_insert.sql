-- silver.marketing_deals, step 2 of 2: the current version of every closed deal (latest row
-- per mql_id of bronze.marketing_deals, unless a delete marker), with the days from the
-- lead's first contact to the won date. A deal whose lead is unknown is kept (has_lead false).
-- Params: :run_id.
INSERT INTO silver.marketing_deals (mql_id, seller_id, sdr_id, sr_id, won_date, business_segment, lead_type,
                                    lead_behaviour_profile, business_type, declared_product_catalog_size,
                                    declared_monthly_revenue, has_lead, days_to_close, etl_run_id)
WITH cur AS (
  SELECT b.*, row_number() OVER (PARTITION BY b.mql_id ORDER BY b.snapshot_at DESC) AS rn
  FROM bronze.marketing_deals b
)
SELECT
  d.mql_id, d.seller_id, d.sdr_id, d.sr_id, d.won_date, d.business_segment, d.lead_type,
  d.lead_behaviour_profile, d.business_type, d.declared_product_catalog_size,
  CAST(d.declared_monthly_revenue AS decimal(38,2)),
  l.mql_id IS NOT NULL,
  CAST(date_diff('day', l.first_contact_date, CAST(d.won_date AS date)) AS integer),
  :run_id
FROM cur d
LEFT JOIN silver.marketing_leads l ON l.mql_id = d.mql_id
WHERE d.rn = 1 AND NOT coalesce(d.is_deleted, false)
