-- Dashboard data set `rec_ab_test`: A/B tests between model versions, one row per test and arm
-- (gold.rec_ab_arms, per impression): CTR, add-to-cart and conversion rates with 95% Wilson
-- intervals, and on treatment rows (arm B) the difference to the control with its 95% interval
-- and two-proportion z-test p-value. Tests with impressions in the month range. Params: :from, :to.
SELECT
  a.experiment,
  a.arm,
  a.model_version,
  a.first_day,
  a.last_day,
  a.shoppers,
  a.impressions,
  a.clicks,
  round(a.ctr, 4) AS ctr,
  round(a.ctr_low, 4) AS ctr_low,
  round(a.ctr_high, 4) AS ctr_high,
  round(a.ctr_diff, 4) AS ctr_diff,
  round(a.ctr_diff_low, 4) AS ctr_diff_low,
  round(a.ctr_diff_high, 4) AS ctr_diff_high,
  round(a.ctr_p_value, 6) AS ctr_p_value,
  a.carts,
  round(a.cart_rate, 4) AS cart_rate,
  round(a.cart_rate_low, 4) AS cart_rate_low,
  round(a.cart_rate_high, 4) AS cart_rate_high,
  round(a.cart_rate_diff, 4) AS cart_rate_diff,
  round(a.cart_rate_diff_low, 4) AS cart_rate_diff_low,
  round(a.cart_rate_diff_high, 4) AS cart_rate_diff_high,
  round(a.cart_rate_p_value, 6) AS cart_rate_p_value,
  a.conversions,
  round(a.conversion_rate, 4) AS conversion_rate,
  round(a.conversion_rate_low, 4) AS conversion_rate_low,
  round(a.conversion_rate_high, 4) AS conversion_rate_high,
  round(a.conversion_rate_diff, 4) AS conversion_rate_diff,
  round(a.conversion_rate_diff_low, 4) AS conversion_rate_diff_low,
  round(a.conversion_rate_diff_high, 4) AS conversion_rate_diff_high,
  round(a.conversion_rate_p_value, 6) AS conversion_rate_p_value
FROM gold.rec_ab_arms a
WHERE a.last_day >= CAST(:from AS date)
  AND a.first_day < date_add('month', 1, CAST(:to AS date))
ORDER BY a.first_day DESC, a.experiment, a.arm
