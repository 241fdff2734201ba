-- silver.sessions, step 1 of 2: remove the sessions of every client session_id that received
-- new events in the pending runs (a late event can merge or split 30-minute sessions); step 2
-- (etl_15) recomputes them from all their events.
-- Params: none.
DELETE FROM silver.sessions
WHERE session_id IN (SELECT DISTINCT e.session_id FROM silver.events e WHERE e.etl_run_id IN (SELECT pend.run_id FROM ops.etl_pending pend))
