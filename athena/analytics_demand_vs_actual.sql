-- Dashboard data set `demand_vs_actual`: category demand forecasts beside what was then sold,
-- per ISO week (Monday) and category, pooled over horizons 1..7 and model versions: forecast and
-- actual units, WAPE and the share of actuals inside the 80 % interval.
-- Params: :from, :to (months, inclusive), :category (NULL = every category).
SELECT
  CAST(date_trunc('week', v.forecast_date) AS date) AS week,
  v.category,
  round(sum(v.forecast), 1) AS forecast,
  sum(v.actual) AS actual,
  round(sum(v.abs_error) / nullif(CAST(sum(v.actual) AS double), 0), 4) AS wape,
  round(CAST(count_if(v.in_interval) AS double) / count(*), 4) AS coverage
FROM gold.demand_vs_actual v
WHERE v.level = 'category'
  AND v.forecast_date >= CAST(:from AS date)
  AND v.forecast_date < date_add('month', 1, CAST(:to AS date))
  AND (CAST(:category AS varchar) IS NULL OR v.category = CAST(:category AS varchar))
GROUP BY CAST(date_trunc('week', v.forecast_date) AS date), v.category
ORDER BY week, v.category
