-- silver.marketing_deals, step 1 of 2: rebuilt from bronze's current state every run.
-- Params: none.
DELETE FROM silver.marketing_deals WHERE mql_id IS NOT NULL
