-- gold.campaign_attribution, step 2 of 2: sessions, conversions and revenue per campaign (first
-- touch of the session) for the months dropped in step 1. Params: :run_id.
INSERT INTO gold.campaign_attribution (month, utm_source, utm_campaign, sessions, converted_sessions, revenue,
                                       conversion_rate, etl_run_id)
WITH affected AS (
  SELECT DISTINCT CAST(date_trunc('month', e.event_date) AS date) AS m
  FROM silver.events e
  WHERE e.session_id IN (SELECT n.session_id FROM silver.events n WHERE n.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend))
)
SELECT
  CAST(date_trunc('month', s.session_date) AS date),
  coalesce(s.utm_source, '(direct)'),
  coalesce(s.utm_campaign, '(none)'),
  count(*),
  count_if(s.purchases > 0),
  CAST(coalesce(sum(s.revenue), 0) AS decimal(38,2)),
  CAST(count_if(s.purchases > 0) AS double) / nullif(count(*), 0),
  :run_id
FROM silver.sessions s
WHERE CAST(date_trunc('month', s.session_date) AS date) IN (SELECT m FROM affected)
GROUP BY CAST(date_trunc('month', s.session_date) AS date), coalesce(s.utm_source, '(direct)'),
         coalesce(s.utm_campaign, '(none)')
