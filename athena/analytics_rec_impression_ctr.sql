-- Dashboard data set `rec_impression_ctr`: the true recommendation click-through rate per month,
-- model version and position (gold.rec_impression_ctr: impressions shown, and of those the
-- ones whose item at that position was clicked). Params: :from, :to.
SELECT
  m.month,
  m.model_version,
  m.position,
  m.impressions,
  m.clicks,
  round(CAST(m.clicks AS double) / nullif(m.impressions, 0), 4) AS ctr
FROM (
  SELECT
    CAST(date_trunc('month', c.event_date) AS date) AS month,
    c.model_version,
    c.position,
    sum(c.impressions) AS impressions,
    sum(c.clicks) AS clicks
  FROM gold.rec_impression_ctr c
  WHERE CAST(date_trunc('month', c.event_date) AS date) BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  GROUP BY CAST(date_trunc('month', c.event_date) AS date), c.model_version, c.position
) m
ORDER BY m.month, m.model_version, m.position
