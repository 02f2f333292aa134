-- The scheduler looks runs up by state with a bound parameter, which a
-- prepared statement's generic plan cannot match to 001's partial indexes
-- on dag_run (their predicate is a literal): without this index a pass
-- could scan all runs. Same index as SQLite's 003.
CREATE INDEX idx_dag_run_state_execution_date ON dag_run (state, execution_date);
