-- 006 finishes what 005 meant to do. Queueing orders scheduled task
-- instances by priority_weight (missing ones last), then by dag_id,
-- run_id, task_id and map_index so that the order is total; 005's index
-- covered only the priority, so among equal priorities (every task of a
-- large fan-out) the database still read and sorted every scheduled task
-- instance at each pass. This index follows the whole order, expression
-- included, so a pass reads only the rows it returns. (Claims order
-- queued instances their own way and sort them; there are few.)
-- Building it locks task_instance against writes while it reads the
-- table: with a large imported history, migrate with the schedulers and
-- workers stopped, as for any upgrade.
DROP INDEX ti_state_priority;
CREATE INDEX ti_state_priority ON task_instance
    (state, (priority_weight IS NULL), priority_weight DESC, dag_id, run_id, task_id, map_index);
