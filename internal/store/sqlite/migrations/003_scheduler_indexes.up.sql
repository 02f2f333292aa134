-- The scheduler looks runs up by state with a bound parameter, which
-- SQLite cannot match to the partial indexes above (their predicate is a
-- literal): without this index every pass would scan all runs.
CREATE INDEX idx_dag_run_state_execution_date ON dag_run (state, execution_date);
