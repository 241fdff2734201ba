-- gold.demand_features, step 2 of 2: forecasting features of every series for the days dropped
-- in step 1, from gold.demand_daily (history up to and including feature_date). Windows are
-- calendar windows (RANGE over the date), so a gap day (no row) is missing, never counted as a
-- zero: lag_k is NULL when day d-k has no row, means/std are over the days that have one, and
-- days_28 says how many did. Holidays depend on the shop's country and are joined when the
-- forecast step exports its training data (athena/forecast_history_export.sql). Params: :run_id.
INSERT INTO gold.demand_features (
  level, item_id, category, feature_date, units, lag_1, lag_7, lag_14, lag_28, mean_7, mean_14, mean_28,
  std_7, std_14, std_28, day_of_week, day_of_month, month_of_year, avg_price, price_ratio, discount_share,
  history_days, days_28, category_units, category_mean_7, category_mean_28, share_of_category_28, etl_run_id
)
WITH since AS (
  SELECT min(o.order_date) AS d FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend)
),
firsts AS (
  SELECT level, item_id, min(demand_date) AS first_day FROM gold.demand_daily GROUP BY level, item_id
),
windowed AS (
  SELECT
    d.level,
    d.item_id,
    d.category,
    d.demand_date,
    d.units,
    d.avg_price,
    d.discount_share,
    sum(d.units) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '1' DAY PRECEDING AND INTERVAL '1' DAY PRECEDING) AS lag_1,
    sum(d.units) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '7' DAY PRECEDING AND INTERVAL '7' DAY PRECEDING) AS lag_7,
    sum(d.units) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '14' DAY PRECEDING AND INTERVAL '14' DAY PRECEDING) AS lag_14,
    sum(d.units) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '28' DAY PRECEDING AND INTERVAL '28' DAY PRECEDING) AS lag_28,
    avg(CAST(d.units AS double)) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '6' DAY PRECEDING AND CURRENT ROW) AS mean_7,
    avg(CAST(d.units AS double)) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '13' DAY PRECEDING AND CURRENT ROW) AS mean_14,
    avg(CAST(d.units AS double)) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '27' DAY PRECEDING AND CURRENT ROW) AS mean_28,
    stddev_samp(CAST(d.units AS double)) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '6' DAY PRECEDING AND CURRENT ROW) AS std_7,
    stddev_samp(CAST(d.units AS double)) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '13' DAY PRECEDING AND CURRENT ROW) AS std_14,
    stddev_samp(CAST(d.units AS double)) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '27' DAY PRECEDING AND CURRENT ROW) AS std_28,
    avg(d.avg_price) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '28' DAY PRECEDING AND INTERVAL '1' DAY PRECEDING) AS trailing_price,
    count(*) OVER (PARTITION BY d.level, d.item_id ORDER BY d.demand_date
      RANGE BETWEEN INTERVAL '27' DAY PRECEDING AND CURRENT ROW) AS days_28
  FROM gold.demand_daily d
  WHERE d.demand_date >= (SELECT date_add('day', -28, since.d) FROM since)
)
SELECT
  w.level,
  w.item_id,
  w.category,
  w.demand_date,
  w.units,
  CAST(w.lag_1 AS bigint),
  CAST(w.lag_7 AS bigint),
  CAST(w.lag_14 AS bigint),
  CAST(w.lag_28 AS bigint),
  w.mean_7,
  w.mean_14,
  w.mean_28,
  w.std_7,
  w.std_14,
  w.std_28,
  CAST(day_of_week(w.demand_date) AS integer),
  CAST(day(w.demand_date) AS integer),
  CAST(month(w.demand_date) AS integer),
  w.avg_price,
  w.avg_price / nullif(w.trailing_price, 0),
  w.discount_share,
  CAST(date_diff('day', f.first_day, w.demand_date) AS integer),
  CAST(w.days_28 AS integer),
  c.units,
  c.mean_7,
  c.mean_28,
  w.mean_28 / nullif(c.mean_28, 0),
  :run_id
FROM windowed w
JOIN firsts f ON f.level = w.level AND f.item_id = w.item_id
LEFT JOIN windowed c ON c.level = 'category' AND c.item_id = w.category AND c.demand_date = w.demand_date
WHERE w.demand_date >= (SELECT since.d FROM since)
