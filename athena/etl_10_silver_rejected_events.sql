-- bronze → ops.rejected_events: events of the pending runs' windows (ops.etl_pending) that fail
-- silver validation, with the reason. Each (event_id, reason, source_file) is recorded once, so
-- re-runs add nothing. The same rules (keep in sync) admit rows in etl_11_silver_events.sql.
-- Params: :run_id.
INSERT INTO ops.rejected_events (run_id, event_id, event_type, event_time, reason, ingested_at, source_file)
SELECT :run_id, v.event_id, v.event_type, v.event_time, v.reason, v.ingested_at, v.source_file
FROM (
  SELECT
    b.event_id, b.event_type, b.event_time, b.ingested_at, b.source_file,
    CASE
      WHEN b.event_type NOT IN ('page_view', 'product_view', 'search', 'add_to_cart', 'remove_from_cart',
                                'begin_checkout', 'purchase', 'review') THEN 'unknown_event_type'
      WHEN b.event_type IN ('product_view', 'add_to_cart', 'remove_from_cart', 'review')
           AND b.product_id IS NULL THEN 'missing_product_id'
      WHEN b.event_type = 'purchase' AND b.order_id IS NULL THEN 'missing_order_id'
      WHEN b.event_type = 'purchase' AND (b.items IS NULL OR cardinality(b.items) = 0) THEN 'missing_purchase_lines'
      WHEN b.event_type = 'review' AND (b.rating IS NULL OR b.rating < 1 OR b.rating > 5) THEN 'missing_rating'
      WHEN b.price < 0 OR b.quantity < 1 THEN 'invalid_field'
      WHEN b.ingested_at IS NOT NULL AND b.event_time > b.ingested_at + INTERVAL '1' DAY THEN 'future_event_time'
    END AS reason
  FROM bronze.events b
  WHERE CAST(b.event_time AS date) BETWEEN (SELECT min(w.date_from) FROM ops.etl_pending w)
                                        AND (SELECT max(w.date_to) FROM ops.etl_pending w)
) v
WHERE v.reason IS NOT NULL
  AND NOT EXISTS (
    SELECT 1 FROM ops.rejected_events r
    WHERE r.event_id = v.event_id AND r.reason = v.reason
      AND coalesce(r.source_file, '') = coalesce(v.source_file, '')
  )
