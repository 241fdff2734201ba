-- gold.campaign_attribution, step 1 of 2: drop the months whose sessions changed in the pending runs
-- (a late event can move a session to another campaign, so rows are rebuilt, not merged).
-- Params: none.
DELETE FROM gold.campaign_attribution
WHERE month IN (
  SELECT DISTINCT CAST(date_trunc('month', e.event_date) AS date)
  FROM silver.events e
  WHERE e.session_id IN (SELECT n.session_id FROM silver.events n WHERE n.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend))
)
