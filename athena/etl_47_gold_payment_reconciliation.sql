-- gold.payment_reconciliation: every OLTP order reconciled with its payments, for the orders whose
-- order row or payments changed in the pending runs (orders known only from purchase events are
-- reconciled once a payment names them). Amount due: the OLTP order total (the purchase events'
-- sum when the OLTP has none) while placed, 0 once cancelled. Captured counts payments that were
-- captured (refunded ones were captured first), refunded the refunded ones; authorized and failed
-- payments move no money. A payment whose order the lake does not know is kept as 'no_order'.
-- Params: :run_id.
MERGE INTO gold.payment_reconciliation t
USING (
  WITH affected AS (
    SELECT p.order_id FROM silver.payments p
    WHERE p.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND p.order_id IS NOT NULL
    UNION
    SELECT o.order_id FROM silver.orders o
    WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend) AND o.source <> 'event'
  ),
  pay AS (
    SELECT
      p.order_id,
      count(*) AS payments,
      sum(CASE WHEN p.status IN ('captured', 'refunded') THEN p.amount ELSE CAST(0 AS decimal(38,2)) END) AS captured,
      sum(CASE WHEN p.status = 'refunded' THEN p.amount ELSE CAST(0 AS decimal(38,2)) END) AS refunded,
      max(p.currency) AS currency
    FROM silver.payments p
    WHERE NOT p.is_deleted AND p.order_id IN (SELECT order_id FROM affected)
    GROUP BY p.order_id
  ),
  rec AS (
    SELECT
      a.order_id,
      o.order_id AS known_order,
      o.order_date,
      o.status AS order_status,
      coalesce(o.currency, pay.currency) AS currency,
      CAST(CASE WHEN o.status = 'placed' THEN coalesce(o.oltp_amount, o.amount) ELSE CAST(0 AS decimal(38,2)) END AS decimal(38,2)) AS amount_due,
      coalesce(pay.payments, 0) AS payments,
      CAST(coalesce(pay.captured, 0) AS decimal(38,2)) AS captured_amount,
      CAST(coalesce(pay.refunded, 0) AS decimal(38,2)) AS refunded_amount
    FROM affected a
    LEFT JOIN silver.orders o ON o.order_id = a.order_id
    LEFT JOIN pay ON pay.order_id = a.order_id
  )
  SELECT
    r.order_id, r.order_date, r.order_status, r.currency, r.amount_due, r.payments, r.captured_amount,
    r.refunded_amount,
    CAST(r.captured_amount - r.refunded_amount AS decimal(38,2)) AS net_paid,
    CAST(r.captured_amount - r.refunded_amount - r.amount_due AS decimal(38,2)) AS difference,
    CASE
      WHEN r.known_order IS NULL THEN 'no_order'
      WHEN r.order_status = 'cancelled' AND r.captured_amount - r.refunded_amount > 0 THEN 'refund_due'
      WHEN r.order_status = 'cancelled' THEN 'refunded'
      WHEN r.captured_amount - r.refunded_amount = r.amount_due THEN 'paid'
      WHEN r.captured_amount - r.refunded_amount = 0 THEN 'unpaid'
      WHEN r.captured_amount - r.refunded_amount < r.amount_due THEN 'underpaid'
      ELSE 'overpaid'
    END AS status
  FROM rec r
) s
ON t.order_id = s.order_id
WHEN MATCHED THEN
  UPDATE SET order_date = s.order_date, order_status = s.order_status, currency = s.currency,
    amount_due = s.amount_due, payments = s.payments, captured_amount = s.captured_amount,
    refunded_amount = s.refunded_amount, net_paid = s.net_paid, difference = s.difference, status = s.status,
    etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (order_id, order_date, order_status, currency, amount_due, payments, captured_amount, refunded_amount,
          net_paid, difference, status, etl_run_id)
  VALUES (s.order_id, s.order_date, s.order_status, s.currency, s.amount_due, s.payments, s.captured_amount,
          s.refunded_amount, s.net_paid, s.difference, s.status, :run_id)
