-- gold.marketing_funnel, step 2 of 2: the MQL → closed-deal funnel per first-contact month and
-- origin: leads, the deals those leads closed (whenever they closed), conversion rate, the
-- exact median days to close (mean of the middle two for an even count) and the deals'
-- declared monthly revenue. Deals without a known lead have no cohort and are not counted.
-- Params: :run_id.
INSERT INTO gold.marketing_funnel (month, origin, leads, deals, conversion_rate, median_days_to_close,
                                   declared_monthly_revenue, etl_run_id)
WITH cohort AS (
  SELECT l.first_contact_month AS month, l.origin, l.mql_id, d.mql_id AS deal_id, d.days_to_close,
         d.declared_monthly_revenue
  FROM silver.marketing_leads l
  LEFT JOIN silver.marketing_deals d ON d.mql_id = l.mql_id
  WHERE l.first_contact_month IS NOT NULL
),
ranked AS (
  SELECT c.month, c.origin, c.days_to_close,
         row_number() OVER (PARTITION BY c.month, c.origin ORDER BY c.days_to_close) AS rn,
         count(*) OVER (PARTITION BY c.month, c.origin) AS n
  FROM cohort c
  WHERE c.deal_id IS NOT NULL AND c.days_to_close IS NOT NULL
),
medians AS (
  SELECT month, origin, avg(CAST(days_to_close AS double)) AS median_days
  FROM ranked
  WHERE 2 * rn BETWEEN n AND n + 2
  GROUP BY month, origin
)
SELECT
  c.month,
  c.origin,
  count(*),
  count(c.deal_id),
  CAST(count(c.deal_id) AS double) / count(*),
  max(m.median_days),
  CAST(coalesce(sum(c.declared_monthly_revenue), 0) AS decimal(38,2)),
  :run_id
FROM cohort c
LEFT JOIN medians m ON m.month = c.month AND m.origin = c.origin
GROUP BY c.month, c.origin
