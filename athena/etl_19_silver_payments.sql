-- silver.payments: the current state of the OLTP payments (bronze.oltp_payments is a change log:
-- the latest row per payment). New payments and payments whose values changed since silver last
-- saw them are upserted; a payment whose latest bronze row is a delete marker stays, with
-- is_deleted true (its order is then reconciled without it). Changed rows get etl_run_id, which
-- is what gold.payment_reconciliation recomputes from. Params: :run_id.
MERGE INTO silver.payments t
USING (
  WITH latest AS (
    SELECT p.payment_id, p.order_id, p.method, p.status, CAST(p.amount AS decimal(38,2)) AS amount, p.currency,
           p.paid_at, p.updated_at, coalesce(p.is_deleted, false) AS is_deleted
    FROM (
      SELECT x.*, row_number() OVER (PARTITION BY x.payment_id ORDER BY x.snapshot_at DESC) AS rn
      FROM bronze.oltp_payments x
    ) p
    WHERE p.rn = 1
  )
  SELECT l.*
  FROM latest l
  LEFT JOIN silver.payments cur ON cur.payment_id = l.payment_id
  WHERE cur.payment_id IS NULL
     OR cur.is_deleted <> l.is_deleted
     OR cur.order_id IS DISTINCT FROM l.order_id
     OR cur.method IS DISTINCT FROM l.method
     OR cur.status IS DISTINCT FROM l.status
     OR cur.amount IS DISTINCT FROM l.amount
     OR cur.currency IS DISTINCT FROM l.currency
     OR cur.paid_at IS DISTINCT FROM l.paid_at
) s
ON t.payment_id = s.payment_id
WHEN MATCHED THEN
  UPDATE SET order_id = s.order_id, method = s.method, status = s.status, amount = s.amount, currency = s.currency,
    paid_at = s.paid_at, updated_at = s.updated_at, is_deleted = s.is_deleted, etl_run_id = :run_id
WHEN NOT MATCHED THEN
  INSERT (payment_id, order_id, method, status, amount, currency, paid_at, updated_at, is_deleted, etl_run_id)
  VALUES (s.payment_id, s.order_id, s.method, s.status, s.amount, s.currency, s.paid_at, s.updated_at, s.is_deleted,
          :run_id)
