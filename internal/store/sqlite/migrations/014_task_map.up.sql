-- 014 adds Airflow's task_map (2.3+): per task instance whose XCom a
-- mapped task expands over, the length of the value it pushed and, for a
-- dict, its keys. Windsock's scheduler measures the XCom itself when it
-- expands, so nothing of the engine reads this table: it holds what
-- `windsock db import` brought from an Airflow database, so that the
-- history keeps it and an export can give it back.

CREATE TABLE task_map (
    dag_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    map_index INTEGER NOT NULL,
    length INTEGER NOT NULL,
    keys TEXT,
    CONSTRAINT task_map_pkey PRIMARY KEY (dag_id, task_id, run_id, map_index),
    CONSTRAINT task_map_length_not_negative CHECK (length >= 0),
    CONSTRAINT task_map_task_instance_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE ON UPDATE CASCADE
);
