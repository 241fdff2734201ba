-- silver.order_lines, step 1 of 2: remove the lines of orders touched in this run.
-- Params: :run_id.
DELETE FROM silver.order_lines
WHERE order_id IN (SELECT o.order_id FROM silver.orders o WHERE o.etl_run_id = :run_id)
