-- 009 gives the API's cross-DAG lists an index in their default order, so
-- that a page (and the offset before it) is read off the index instead of
-- joining and sorting every row. With 50,000 task instances a deep page of
-- GET /dags/~/dagRuns/~/taskInstances went from a quarter of a second of
-- CPU (more with the joins done for every skipped row) to a few
-- milliseconds.
--
-- task_instance's default order is dag_id, run_id, task_id, map_index;
-- ti_dag_run (dag_id, run_id) is a prefix of it and goes, so inserts keep
-- writing as many indexes as before. None of these columns ever changes,
-- so state changes write nothing more.
CREATE INDEX ti_dag_run_task ON task_instance (dag_id, run_id, task_id, map_index);
DROP INDEX ti_dag_run;
-- dag_run's default order is execution_date, id; neither changes after
-- insert.
CREATE INDEX idx_dag_run_execution_date ON dag_run (execution_date, id);
