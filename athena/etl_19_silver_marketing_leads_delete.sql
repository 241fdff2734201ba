-- silver.marketing_leads, step 1 of 2: the table is rebuilt from bronze's current state every
-- run (the marketing funnel is small; a deleted or changed lead must not linger).
-- Params: none.
DELETE FROM silver.marketing_leads WHERE mql_id IS NOT NULL
