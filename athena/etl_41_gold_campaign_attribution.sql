-- gold.campaign_attribution per month and campaign (first touch of the session), for the
-- months whose sessions changed in this run. Params: :run_id.
MERGE INTO gold.campaign_attribution t
USING (
  WITH affected AS (
    SELECT DISTINCT CAST(date_trunc('month', e.event_date) AS date) AS m
    FROM silver.events e
    WHERE e.session_id IN (SELECT n.session_id FROM silver.events n WHERE n.etl_run_id = :run_id)
  )
  SELECT
    CAST(date_trunc('month', s.session_date) AS date) AS month,
    coalesce(s.utm_source, '(direct)') AS utm_source,
    coalesce(s.utm_campaign, '(none)') AS utm_campaign,
    count(*) AS sessions,
    count_if(s.purchases > 0) AS converted_sessions,
    coalesce(sum(s.revenue), 0) AS revenue,
    CAST(count_if(s.purchases > 0) AS double) / nullif(count(*), 0) AS conversion_rate
  FROM silver.sessions s
  WHERE CAST(date_trunc('month', s.session_date) AS date) IN (SELECT m FROM affected)
  GROUP BY CAST(date_trunc('month', s.session_date) AS date), coalesce(s.utm_source, '(direct)'),
           coalesce(s.utm_campaign, '(none)')
) s
ON t.month = s.month AND t.utm_source = s.utm_source AND t.utm_campaign = s.utm_campaign
WHEN MATCHED THEN
  UPDATE SET sessions = s.sessions, converted_sessions = s.converted_sessions, revenue = s.revenue,
    conversion_rate = s.conversion_rate, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (month, utm_source, utm_campaign, sessions, converted_sessions, revenue, conversion_rate, etl_run_id)
  VALUES (s.month, s.utm_source, s.utm_campaign, s.sessions, s.converted_sessions, s.revenue, s.conversion_rate, :run_id)
