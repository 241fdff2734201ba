-- Quality gate: the blocking checks of this run that failed. Any row stops the run before gold.
-- Params: :run_id.
SELECT check_name, table_name, observed, threshold, detail
FROM ops.data_quality_results
WHERE run_id = :run_id AND severity = 'blocking' AND NOT passed
ORDER BY check_name
