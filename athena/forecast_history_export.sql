-- The forecast model step's input: every series' features from :date_from on (the model step
-- builds its targets and horizon features from them). Read by the model step from Athena's
-- result CSV. Params: :date_from.
SELECT
  f.level, f.item_id, f.category, CAST(f.feature_date AS varchar) AS feature_date, f.units,
  f.lag_1, f.lag_7, f.lag_14, f.lag_28, f.mean_7, f.mean_14, f.mean_28, f.std_7, f.std_14, f.std_28,
  f.day_of_week, f.day_of_month, f.month_of_year, f.avg_price, f.price_ratio, f.discount_share,
  f.history_days, f.days_28, f.category_units, f.category_mean_7, f.category_mean_28, f.share_of_category_28
FROM gold.demand_features f
WHERE f.feature_date >= CAST(:date_from AS date)
ORDER BY f.level, f.item_id, f.feature_date
