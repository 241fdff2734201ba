-- Dashboard data set `conversion_funnel`: sessions that viewed a product → added to cart → began
-- checkout → purchased, per month (sums of gold's daily funnel), with the step rates.
-- Params: :from, :to.
SELECT
  m.month,
  m.sessions,
  m.viewed,
  m.carted,
  m.checked_out,
  m.purchased,
  round(CAST(m.carted AS double) / nullif(m.viewed, 0), 4) AS view_to_cart,
  round(CAST(m.checked_out AS double) / nullif(m.carted, 0), 4) AS cart_to_checkout,
  round(CAST(m.purchased AS double) / nullif(m.checked_out, 0), 4) AS checkout_to_purchase,
  round(CAST(m.purchased AS double) / nullif(m.sessions, 0), 4) AS session_conversion
FROM (
  SELECT
    CAST(date_trunc('month', f.funnel_date) AS date) AS month,
    sum(f.sessions) AS sessions,
    sum(f.viewed) AS viewed,
    sum(f.carted) AS carted,
    sum(f.checked_out) AS checked_out,
    sum(f.purchased) AS purchased
  FROM gold.conversion_funnel f
  WHERE CAST(date_trunc('month', f.funnel_date) AS date) BETWEEN CAST(:from AS date) AND CAST(:to AS date)
  GROUP BY CAST(date_trunc('month', f.funnel_date) AS date)
) m
ORDER BY m.month
