-- silver.order_lines, step 1 of 2: remove the lines of orders touched in the pending runs.
-- Params: none.
DELETE FROM silver.order_lines
WHERE order_id IN (SELECT o.order_id FROM silver.orders o WHERE o.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend))
