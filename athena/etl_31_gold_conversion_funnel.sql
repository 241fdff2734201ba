-- gold.conversion_funnel (view → cart → checkout → purchase, per session) for the days whose
-- sessions changed in the pending runs: the days of every event of a client session with new events.
-- Params: :run_id.
MERGE INTO gold.conversion_funnel t
USING (
  WITH affected AS (
    SELECT DISTINCT e.event_date AS d
    FROM silver.events e
    WHERE e.session_id IN (SELECT n.session_id FROM silver.events n WHERE n.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend))
  ),
  f AS (
    SELECT
      s.session_date AS funnel_date,
      count(*) AS sessions,
      count_if(s.product_views > 0) AS viewed,
      count_if(s.add_to_carts > 0) AS carted,
      count_if(s.checkouts > 0) AS checked_out,
      count_if(s.purchases > 0) AS purchased
    FROM silver.sessions s
    WHERE s.session_date IN (SELECT d FROM affected)
    GROUP BY s.session_date
  )
  SELECT
    f.*,
    CAST(f.carted AS double) / nullif(f.viewed, 0) AS view_to_cart,
    CAST(f.checked_out AS double) / nullif(f.carted, 0) AS cart_to_checkout,
    CAST(f.purchased AS double) / nullif(f.checked_out, 0) AS checkout_to_purchase,
    CAST(f.purchased AS double) / nullif(f.sessions, 0) AS session_conversion
  FROM f
) s
ON t.funnel_date = s.funnel_date
WHEN MATCHED THEN
  UPDATE SET sessions = s.sessions, viewed = s.viewed, carted = s.carted, checked_out = s.checked_out,
    purchased = s.purchased, view_to_cart = s.view_to_cart, cart_to_checkout = s.cart_to_checkout,
    checkout_to_purchase = s.checkout_to_purchase, session_conversion = s.session_conversion, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (funnel_date, sessions, viewed, carted, checked_out, purchased, view_to_cart, cart_to_checkout,
          checkout_to_purchase, session_conversion, etl_run_id)
  VALUES (s.funnel_date, s.sessions, s.viewed, s.carted, s.checked_out, s.purchased, s.view_to_cart,
          s.cart_to_checkout, s.checkout_to_purchase, s.session_conversion, :run_id)
