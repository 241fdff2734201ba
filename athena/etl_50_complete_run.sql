-- Completes this run and every earlier pending run it finished: all gold steps have committed
-- the changes of the pending runs, so their ops.etl_pending rows are removed (one commit).
-- Runs registered after this one (none while the lease is held) stay pending. Params: :run_id.
DELETE FROM ops.etl_pending
WHERE registered_at <= (SELECT max(p.registered_at) FROM ops.etl_pending p WHERE p.run_id = :run_id)
