-- 010 adds Airflow 2.4+'s dataset tables (data-aware scheduling), as in
-- Airflow 2.10's schema: the datasets DAGs reference, the references
-- (which DAG is scheduled on which dataset, which task updates which),
-- the events of dataset updates, the queue of events waiting for a
-- consumer's run (one row per dataset and consumer) and the events that
-- triggered each run. dataset_event.dataset_id has no foreign key, as in
-- Airflow: events outlive their dataset.

CREATE TABLE dataset (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uri TEXT NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    is_orphaned BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX idx_uri_unique ON dataset (uri);

CREATE TABLE dag_schedule_dataset_reference (
    dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
    dag_id TEXT NOT NULL REFERENCES dag (dag_id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT dsdr_pkey PRIMARY KEY (dataset_id, dag_id)
);
CREATE INDEX idx_dag_schedule_dataset_reference_dag_id ON dag_schedule_dataset_reference (dag_id);

CREATE TABLE task_outlet_dataset_reference (
    dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
    dag_id TEXT NOT NULL REFERENCES dag (dag_id) ON DELETE CASCADE,
    task_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT todr_pkey PRIMARY KEY (dataset_id, dag_id, task_id)
);
CREATE INDEX idx_task_outlet_dataset_reference_dag_id ON task_outlet_dataset_reference (dag_id);

CREATE TABLE dataset_dag_run_queue (
    dataset_id INTEGER NOT NULL REFERENCES dataset (id) ON DELETE CASCADE,
    target_dag_id TEXT NOT NULL REFERENCES dag (dag_id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT datasetdagrunqueue_pkey PRIMARY KEY (dataset_id, target_dag_id)
);
CREATE INDEX idx_dataset_dag_run_queue_target_dag_id ON dataset_dag_run_queue (target_dag_id);

CREATE TABLE dataset_event (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id INTEGER NOT NULL,
    extra TEXT NOT NULL DEFAULT '{}',
    source_task_id TEXT,
    source_dag_id TEXT,
    source_run_id TEXT,
    source_map_index INTEGER DEFAULT -1,
    timestamp TIMESTAMP NOT NULL
);
CREATE INDEX idx_dataset_id_timestamp ON dataset_event (dataset_id, timestamp);

CREATE TABLE dagrun_dataset_event (
    dag_run_id INTEGER NOT NULL REFERENCES dag_run (id) ON DELETE CASCADE,
    event_id INTEGER NOT NULL REFERENCES dataset_event (id) ON DELETE CASCADE,
    CONSTRAINT dagrun_dataset_event_pkey PRIMARY KEY (dag_run_id, event_id)
);
CREATE INDEX idx_dagrun_dataset_events_dag_run_id ON dagrun_dataset_event (dag_run_id);
CREATE INDEX idx_dagrun_dataset_events_event_id ON dagrun_dataset_event (event_id);
