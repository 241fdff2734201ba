-- gold.demand_vs_actual: every forecast whose day now has actuals in gold.demand_daily — the ones
-- not compared yet, and those on days the pending runs recomputed (late data changes actuals).
-- A forecast for a gap day (no row in demand_daily) stays uncompared. Params: :run_id.
MERGE INTO gold.demand_vs_actual t
USING (
  WITH since AS (
    SELECT min(o.order_date) AS d FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
  )
  SELECT
    f.level,
    f.item_id,
    f.category,
    f.forecast_date,
    f.horizon,
    f.model_version,
    f.forecast,
    f.lower,
    f.upper,
    a.units AS actual,
    abs(f.forecast - CAST(a.units AS double)) AS abs_error,
    (f.forecast - CAST(a.units AS double)) / nullif(CAST(a.units AS double), 0) AS pct_error,
    CAST(a.units AS double) BETWEEN f.lower AND f.upper AS in_interval
  FROM gold.demand_forecast f
  JOIN gold.demand_daily a ON a.level = f.level AND a.item_id = f.item_id AND a.demand_date = f.forecast_date
  LEFT JOIN gold.demand_vs_actual v
    ON v.level = f.level AND v.item_id = f.item_id AND v.forecast_date = f.forecast_date
   AND v.horizon = f.horizon AND v.model_version = f.model_version
  WHERE v.item_id IS NULL OR f.forecast_date >= (SELECT since.d FROM since)
) s
ON t.level = s.level AND t.item_id = s.item_id AND t.forecast_date = s.forecast_date AND t.horizon = s.horizon
   AND t.model_version = s.model_version
WHEN MATCHED THEN
  UPDATE SET category = s.category, forecast = s.forecast, lower = s.lower, upper = s.upper, actual = s.actual,
    abs_error = s.abs_error, pct_error = s.pct_error, in_interval = s.in_interval, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (level, item_id, category, forecast_date, horizon, model_version, forecast, lower, upper, actual, abs_error,
          pct_error, in_interval, etl_run_id)
  VALUES (s.level, s.item_id, s.category, s.forecast_date, s.horizon, s.model_version, s.forecast, s.lower, s.upper,
          s.actual, s.abs_error, s.pct_error, s.in_interval, :run_id)
