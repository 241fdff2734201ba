-- Registers this run in ops.etl_pending before its first data write: the run's window and id.
-- Every silver → gold step consumes the changes of ALL pending runs (rows stamped with their
-- etl_run_id), so a run that crashed or failed (a step, the quality gate) is finished by the
-- next one; etl_02_complete_run.sql removes the rows once gold has committed. A retry of this
-- statement adds nothing. Params: :run_id, :date_from, :date_to.
INSERT INTO ops.etl_pending (run_id, date_from, date_to, registered_at)
SELECT :run_id, CAST(:date_from AS date), CAST(:date_to AS date), localtimestamp
WHERE NOT EXISTS (SELECT 1 FROM ops.etl_pending p WHERE p.run_id = :run_id)
