-- 005 lets the scheduler read the highest-priority scheduled task
-- instances without sorting every scheduled one: each queueing pass reads
-- only as many as there are open slots (plus a few), so its cost follows
-- what can run now, not how many wait.
CREATE INDEX ti_state_priority ON task_instance (state, priority_weight);
