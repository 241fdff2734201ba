-- Dashboard data set `access_top_items`: the 10 most requested paths and the 10 most frequent
-- referrer hosts over the range, summed from gold's daily top-20 lists.
-- Params: :from, :to (first day of the first / last month; the last month is included whole).
SELECT x.kind, x.item, x.requests
FROM (
  SELECT
    t.kind,
    t.item,
    sum(t.requests) AS requests,
    row_number() OVER (PARTITION BY t.kind ORDER BY sum(t.requests) DESC, t.item) AS rnk
  FROM gold.access_top t
  WHERE t.kind IN ('path', 'referrer_host')
    AND t.report_date >= CAST(:from AS date)
    AND t.report_date < CAST(date_add('month', 1, CAST(:to AS date)) AS date)
  GROUP BY t.kind, t.item
) x
WHERE x.rnk <= 10
ORDER BY x.kind, x.requests DESC, x.item
