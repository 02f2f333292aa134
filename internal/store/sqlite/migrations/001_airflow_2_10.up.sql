-- 001 creates the Airflow 2.10 metadata tables Windsock uses, with Airflow's
-- table, column, key and index names so that metadata export and import can
-- speak Airflow's schema. SQLite types: strings are TEXT (VARCHAR lengths are
-- not enforced by SQLite), JSON columns are TEXT, pickles and blobs BLOB,
-- times TIMESTAMP (the driver parses those back into time.Time; every value is
-- written in UTC). The PostgreSQL copy of this file has the same columns with
-- BIGSERIAL, VARCHAR, JSON, BYTEA and TIMESTAMPTZ.
--
-- The default pool is not inserted here: the application creates it from
-- its configuration (core.default_pool_task_slot_count).

-- FAB security tables (Airflow's auth manager).

CREATE TABLE ab_user (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    first_name TEXT NOT NULL,
    last_name TEXT NOT NULL,
    username TEXT NOT NULL,
    password TEXT,
    active BOOLEAN,
    -- FAB declares email NOT NULL; Windsock stores NULL for "no email" so
    -- that several users may have none.
    email TEXT,
    last_login TIMESTAMP,
    login_count INTEGER,
    fail_login_count INTEGER,
    created_on TIMESTAMP,
    changed_on TIMESTAMP,
    created_by_fk INTEGER REFERENCES ab_user (id),
    changed_by_fk INTEGER REFERENCES ab_user (id),
    CONSTRAINT ab_user_username_uq UNIQUE (username),
    CONSTRAINT ab_user_email_uq UNIQUE (email)
);

CREATE TABLE ab_role (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    CONSTRAINT ab_role_name_uq UNIQUE (name)
);

CREATE TABLE ab_user_role (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER REFERENCES ab_user (id) ON DELETE CASCADE,
    role_id INTEGER REFERENCES ab_role (id) ON DELETE CASCADE,
    CONSTRAINT ab_user_role_user_id_role_id_uq UNIQUE (user_id, role_id)
);

CREATE TABLE ab_permission (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    CONSTRAINT ab_permission_name_uq UNIQUE (name)
);

CREATE TABLE ab_view_menu (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    CONSTRAINT ab_view_menu_name_uq UNIQUE (name)
);

CREATE TABLE ab_permission_view (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    permission_id INTEGER REFERENCES ab_permission (id) ON DELETE CASCADE,
    view_menu_id INTEGER REFERENCES ab_view_menu (id) ON DELETE CASCADE,
    CONSTRAINT ab_permission_view_permission_id_view_menu_id_uq UNIQUE (permission_id, view_menu_id)
);

CREATE TABLE ab_permission_view_role (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    permission_view_id INTEGER REFERENCES ab_permission_view (id) ON DELETE CASCADE,
    role_id INTEGER REFERENCES ab_role (id) ON DELETE CASCADE,
    CONSTRAINT ab_permission_view_role_permission_view_id_role_id_uq UNIQUE (permission_view_id, role_id)
);

-- DAGs as parsed.

CREATE TABLE dag (
    dag_id TEXT NOT NULL,
    root_dag_id TEXT,
    is_paused BOOLEAN,
    is_subdag BOOLEAN,
    is_active BOOLEAN,
    last_parsed_time TIMESTAMP,
    last_pickled TIMESTAMP,
    last_expired TIMESTAMP,
    scheduler_lock BOOLEAN,
    pickle_id INTEGER,
    fileloc TEXT,
    processor_subdir TEXT,
    owners TEXT,
    dag_display_name TEXT,
    description TEXT,
    default_view TEXT,
    schedule_interval TEXT,
    timetable_description TEXT,
    dataset_expression TEXT,
    max_active_tasks INTEGER NOT NULL,
    max_active_runs INTEGER,
    max_consecutive_failed_dag_runs INTEGER NOT NULL DEFAULT 0,
    has_task_concurrency_limits BOOLEAN NOT NULL,
    has_import_errors BOOLEAN DEFAULT FALSE,
    next_dagrun TIMESTAMP,
    next_dagrun_data_interval_start TIMESTAMP,
    next_dagrun_data_interval_end TIMESTAMP,
    next_dagrun_create_after TIMESTAMP,
    CONSTRAINT dag_pkey PRIMARY KEY (dag_id)
);
CREATE INDEX idx_root_dag_id ON dag (root_dag_id);
CREATE INDEX idx_next_dagrun_create_after ON dag (next_dagrun_create_after);
-- Not in Airflow: the DAG processor lists DAGs by file.
CREATE INDEX idx_dag_fileloc ON dag (fileloc);

CREATE TABLE dag_tag (
    name TEXT NOT NULL,
    dag_id TEXT NOT NULL REFERENCES dag (dag_id) ON DELETE CASCADE,
    CONSTRAINT dag_tag_pkey PRIMARY KEY (name, dag_id)
);
-- Not in Airflow: tags are replaced and read per DAG.
CREATE INDEX idx_dag_tag_dag_id ON dag_tag (dag_id);

CREATE TABLE dag_code (
    fileloc_hash INTEGER NOT NULL,
    fileloc TEXT NOT NULL,
    last_updated TIMESTAMP NOT NULL,
    source_code TEXT NOT NULL,
    CONSTRAINT dag_code_pkey PRIMARY KEY (fileloc_hash)
);

CREATE TABLE serialized_dag (
    dag_id TEXT NOT NULL,
    fileloc TEXT NOT NULL,
    fileloc_hash INTEGER NOT NULL,
    data TEXT,
    data_compressed BLOB,
    last_updated TIMESTAMP NOT NULL,
    dag_hash TEXT NOT NULL,
    processor_subdir TEXT,
    CONSTRAINT serialized_dag_pkey PRIMARY KEY (dag_id)
);
CREATE INDEX idx_fileloc_hash ON serialized_dag (fileloc_hash);

CREATE TABLE import_error (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp TIMESTAMP,
    filename TEXT,
    stacktrace TEXT,
    processor_subdir TEXT
);
-- Not in Airflow: import errors are replaced per file.
CREATE INDEX idx_import_error_filename ON import_error (filename);

-- Runs and task instances.

CREATE TABLE dag_run (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id TEXT NOT NULL,
    queued_at TIMESTAMP,
    execution_date TIMESTAMP NOT NULL,
    start_date TIMESTAMP,
    end_date TIMESTAMP,
    state TEXT,
    run_id TEXT NOT NULL,
    creating_job_id INTEGER,
    external_trigger BOOLEAN,
    run_type TEXT NOT NULL,
    conf BLOB,
    data_interval_start TIMESTAMP,
    data_interval_end TIMESTAMP,
    last_scheduling_decision TIMESTAMP,
    dag_hash TEXT,
    -- Airflow references log_template (id); Windsock has no log_template
    -- table, so the column is kept without the foreign key.
    log_template_id INTEGER,
    updated_at TIMESTAMP,
    clear_number INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT dag_run_dag_id_execution_date_key UNIQUE (dag_id, execution_date),
    CONSTRAINT dag_run_dag_id_run_id_key UNIQUE (dag_id, run_id)
);
CREATE INDEX dag_id_state ON dag_run (dag_id, state);
CREATE INDEX idx_dag_run_dag_id ON dag_run (dag_id);
CREATE INDEX idx_last_scheduling_decision ON dag_run (last_scheduling_decision);
CREATE INDEX idx_dag_run_queued_dags ON dag_run (state, dag_id) WHERE state = 'queued';
CREATE INDEX idx_dag_run_running_dags ON dag_run (state, dag_id) WHERE state = 'running';

CREATE TABLE dag_run_note (
    user_id INTEGER REFERENCES ab_user (id),
    dag_run_id INTEGER NOT NULL REFERENCES dag_run (id) ON DELETE CASCADE,
    content TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT dag_run_note_pkey PRIMARY KEY (dag_run_id)
);

CREATE TABLE "trigger" (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    classpath TEXT NOT NULL,
    kwargs TEXT NOT NULL,
    created_date TIMESTAMP NOT NULL,
    triggerer_id INTEGER
);

CREATE TABLE task_instance (
    task_id TEXT NOT NULL,
    dag_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    start_date TIMESTAMP,
    end_date TIMESTAMP,
    duration REAL,
    state TEXT,
    try_number INTEGER,
    max_tries INTEGER DEFAULT -1,
    hostname TEXT,
    unixname TEXT,
    job_id INTEGER,
    pool TEXT NOT NULL,
    pool_slots INTEGER NOT NULL,
    queue TEXT,
    priority_weight INTEGER,
    operator TEXT,
    custom_operator_name TEXT,
    queued_dttm TIMESTAMP,
    queued_by_job_id INTEGER,
    pid INTEGER,
    executor TEXT,
    executor_config BLOB,
    updated_at TIMESTAMP,
    rendered_map_index TEXT,
    external_executor_id TEXT,
    trigger_id INTEGER,
    trigger_timeout TIMESTAMP,
    next_method TEXT,
    next_kwargs TEXT,
    task_display_name TEXT,
    CONSTRAINT task_instance_pkey PRIMARY KEY (dag_id, task_id, run_id, map_index),
    CONSTRAINT task_instance_dag_run_fkey FOREIGN KEY (dag_id, run_id)
        REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE,
    CONSTRAINT task_instance_trigger_id_fkey FOREIGN KEY (trigger_id)
        REFERENCES "trigger" (id) ON DELETE CASCADE
);
CREATE INDEX ti_dag_run ON task_instance (dag_id, run_id);
CREATE INDEX ti_dag_state ON task_instance (dag_id, state);
CREATE INDEX ti_job_id ON task_instance (job_id);
CREATE INDEX ti_pool ON task_instance (pool, state, priority_weight);
CREATE INDEX ti_state ON task_instance (state);
CREATE INDEX ti_state_incl_start_date ON task_instance (dag_id, task_id, state);
CREATE INDEX ti_state_lkp ON task_instance (dag_id, task_id, run_id, state);
CREATE INDEX ti_trigger_id ON task_instance (trigger_id);

CREATE TABLE task_instance_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    dag_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    try_number INTEGER NOT NULL,
    start_date TIMESTAMP,
    end_date TIMESTAMP,
    duration REAL,
    state TEXT,
    max_tries INTEGER DEFAULT -1,
    hostname TEXT,
    unixname TEXT,
    job_id INTEGER,
    pool TEXT NOT NULL,
    pool_slots INTEGER NOT NULL,
    queue TEXT,
    priority_weight INTEGER,
    operator TEXT,
    custom_operator_name TEXT,
    queued_dttm TIMESTAMP,
    queued_by_job_id INTEGER,
    pid INTEGER,
    executor TEXT,
    executor_config BLOB,
    updated_at TIMESTAMP,
    rendered_map_index TEXT,
    external_executor_id TEXT,
    trigger_id INTEGER,
    trigger_timeout TIMESTAMP,
    next_method TEXT,
    next_kwargs TEXT,
    task_display_name TEXT,
    CONSTRAINT task_instance_history_dtrt_uq UNIQUE (dag_id, task_id, run_id, map_index, try_number),
    CONSTRAINT task_instance_history_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE task_instance_note (
    user_id INTEGER REFERENCES ab_user (id),
    task_id TEXT NOT NULL,
    dag_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    map_index INTEGER NOT NULL,
    content TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT task_instance_note_pkey PRIMARY KEY (task_id, dag_id, run_id, map_index),
    CONSTRAINT task_instance_note_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE
);

CREATE TABLE task_fail (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    dag_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    start_date TIMESTAMP,
    end_date TIMESTAMP,
    duration INTEGER,
    CONSTRAINT task_fail_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE
);
CREATE INDEX idx_task_fail_task_instance ON task_fail (dag_id, task_id, run_id, map_index);

CREATE TABLE task_reschedule (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    dag_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    try_number INTEGER NOT NULL,
    start_date TIMESTAMP NOT NULL,
    end_date TIMESTAMP NOT NULL,
    duration INTEGER NOT NULL,
    reschedule_date TIMESTAMP NOT NULL,
    CONSTRAINT task_reschedule_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE,
    CONSTRAINT task_reschedule_dr_fkey FOREIGN KEY (dag_id, run_id)
        REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE INDEX idx_task_reschedule_dag_task_run ON task_reschedule (dag_id, task_id, run_id, map_index);
CREATE INDEX idx_task_reschedule_dag_run ON task_reschedule (dag_id, run_id);

CREATE TABLE xcom (
    dag_run_id INTEGER NOT NULL,
    task_id TEXT NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    "key" TEXT NOT NULL,
    dag_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    value BLOB,
    timestamp TIMESTAMP NOT NULL,
    CONSTRAINT xcom_pkey PRIMARY KEY (dag_run_id, task_id, map_index, "key"),
    CONSTRAINT xcom_task_instance_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE
);
CREATE INDEX idx_xcom_key ON xcom ("key");
CREATE INDEX idx_xcom_task_instance ON xcom (dag_id, task_id, run_id, map_index);

CREATE TABLE rendered_task_instance_fields (
    dag_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    rendered_fields TEXT NOT NULL,
    k8s_pod_yaml TEXT,
    CONSTRAINT rendered_task_instance_fields_pkey PRIMARY KEY (dag_id, task_id, run_id, map_index),
    CONSTRAINT rtif_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE
);

CREATE TABLE sla_miss (
    task_id TEXT NOT NULL,
    dag_id TEXT NOT NULL,
    execution_date TIMESTAMP NOT NULL,
    email_sent BOOLEAN,
    timestamp TIMESTAMP,
    description TEXT,
    notification_sent BOOLEAN,
    CONSTRAINT sla_miss_pkey PRIMARY KEY (task_id, dag_id, execution_date)
);
CREATE INDEX sm_dag ON sla_miss (dag_id);

-- Configuration the DAGs use.

CREATE TABLE variable (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    "key" TEXT,
    val TEXT,
    description TEXT,
    is_encrypted BOOLEAN,
    CONSTRAINT variable_key_uq UNIQUE ("key")
);

CREATE TABLE connection (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    conn_id TEXT NOT NULL,
    conn_type TEXT NOT NULL,
    description TEXT,
    host TEXT,
    "schema" TEXT,
    login TEXT,
    password TEXT,
    port INTEGER,
    is_encrypted BOOLEAN,
    is_extra_encrypted BOOLEAN,
    extra TEXT,
    CONSTRAINT connection_conn_id_uq UNIQUE (conn_id)
);

CREATE TABLE slot_pool (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pool TEXT,
    slots INTEGER,
    description TEXT,
    include_deferred BOOLEAN NOT NULL,
    CONSTRAINT slot_pool_pool_uq UNIQUE (pool)
);

-- Processes and the audit log.

CREATE TABLE job (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dag_id TEXT,
    state TEXT,
    job_type TEXT,
    start_date TIMESTAMP,
    end_date TIMESTAMP,
    latest_heartbeat TIMESTAMP,
    executor_class TEXT,
    hostname TEXT,
    unixname TEXT
);
CREATE INDEX idx_job_dag_id ON job (dag_id);
CREATE INDEX idx_job_state_heartbeat ON job (state, latest_heartbeat);
CREATE INDEX job_type_heart ON job (job_type, latest_heartbeat);

CREATE TABLE log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    dttm TIMESTAMP,
    dag_id TEXT,
    task_id TEXT,
    map_index INTEGER,
    event TEXT,
    execution_date TIMESTAMP,
    run_id TEXT,
    owner TEXT,
    owner_display_name TEXT,
    extra TEXT,
    try_number INTEGER
);
CREATE INDEX idx_log_dag ON log (dag_id);
CREATE INDEX idx_log_dttm ON log (dttm);
CREATE INDEX idx_log_event ON log (event);
CREATE INDEX idx_log_task_instance ON log (dag_id, task_id, run_id, map_index, try_number);
