-- Dashboard data set `campaign_attribution`: sessions, converted sessions and revenue per
-- campaign (first touch of the session) over the month range. Params: :from, :to.
SELECT
  a.utm_source,
  a.utm_campaign,
  a.sessions,
  a.converted_sessions,
  round(CAST(a.revenue AS double), 2) AS revenue,
  round(CAST(a.converted_sessions AS double) / nullif(a.sessions, 0), 4) AS conversion_rate
FROM (
  SELECT
    c.utm_source,
    c.utm_campaign,
    sum(c.sessions) AS sessions,
    sum(c.converted_sessions) AS converted_sessions,
    sum(c.revenue) AS revenue
  FROM gold.campaign_attribution c
  WHERE c.month BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  GROUP BY c.utm_source, c.utm_campaign
) a
ORDER BY a.revenue DESC, a.sessions DESC, a.utm_source, a.utm_campaign
