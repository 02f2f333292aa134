-- 001 creates the Airflow 2.10 metadata tables Windsock uses, with Airflow's
-- table, column, key and index names so that metadata export and import can
-- speak Airflow's schema. This is the PostgreSQL copy of the SQLite file of
-- the same version: the same tables, columns, keys and indexes, with the
-- types Airflow's models get on PostgreSQL: SERIAL ids (Airflow's Integer
-- primary keys), VARCHAR with Airflow's lengths, TIMESTAMPTZ for every time
-- (Airflow's UtcDateTime; Windsock writes UTC), BOOLEAN, DOUBLE PRECISION
-- for task durations, JSON where Airflow has JSON columns, BYTEA for pickles
-- and blobs (dag_run.conf holds JSON bytes, xcom.value the serialized
-- value).
--
-- The default pool is not inserted here: the application creates it from
-- its configuration (core.default_pool_task_slot_count).

-- FAB security tables (Airflow's auth manager).

CREATE TABLE ab_user (
    id SERIAL PRIMARY KEY,
    first_name VARCHAR(256) NOT NULL,
    last_name VARCHAR(256) NOT NULL,
    username VARCHAR(512) NOT NULL,
    password VARCHAR(256),
    active BOOLEAN,
    -- FAB declares email NOT NULL; Windsock stores NULL for "no email" so
    -- that several users may have none.
    email VARCHAR(512),
    last_login TIMESTAMPTZ,
    login_count INTEGER,
    fail_login_count INTEGER,
    created_on TIMESTAMPTZ,
    changed_on TIMESTAMPTZ,
    created_by_fk INTEGER REFERENCES ab_user (id),
    changed_by_fk INTEGER REFERENCES ab_user (id),
    CONSTRAINT ab_user_username_uq UNIQUE (username),
    CONSTRAINT ab_user_email_uq UNIQUE (email)
);

CREATE TABLE ab_role (
    id SERIAL PRIMARY KEY,
    name VARCHAR(64) NOT NULL,
    CONSTRAINT ab_role_name_uq UNIQUE (name)
);

CREATE TABLE ab_user_role (
    id SERIAL PRIMARY KEY,
    user_id INTEGER REFERENCES ab_user (id) ON DELETE CASCADE,
    role_id INTEGER REFERENCES ab_role (id) ON DELETE CASCADE,
    CONSTRAINT ab_user_role_user_id_role_id_uq UNIQUE (user_id, role_id)
);

CREATE TABLE ab_permission (
    id SERIAL PRIMARY KEY,
    name VARCHAR(100) NOT NULL,
    CONSTRAINT ab_permission_name_uq UNIQUE (name)
);

CREATE TABLE ab_view_menu (
    id SERIAL PRIMARY KEY,
    name VARCHAR(250) NOT NULL,
    CONSTRAINT ab_view_menu_name_uq UNIQUE (name)
);

CREATE TABLE ab_permission_view (
    id SERIAL PRIMARY KEY,
    permission_id INTEGER REFERENCES ab_permission (id) ON DELETE CASCADE,
    view_menu_id INTEGER REFERENCES ab_view_menu (id) ON DELETE CASCADE,
    CONSTRAINT ab_permission_view_permission_id_view_menu_id_uq UNIQUE (permission_id, view_menu_id)
);

CREATE TABLE ab_permission_view_role (
    id SERIAL PRIMARY KEY,
    permission_view_id INTEGER REFERENCES ab_permission_view (id) ON DELETE CASCADE,
    role_id INTEGER REFERENCES ab_role (id) ON DELETE CASCADE,
    CONSTRAINT ab_permission_view_role_permission_view_id_role_id_uq UNIQUE (permission_view_id, role_id)
);

-- DAGs as parsed.

CREATE TABLE dag (
    dag_id VARCHAR(250) NOT NULL,
    root_dag_id VARCHAR(250),
    is_paused BOOLEAN,
    is_subdag BOOLEAN,
    is_active BOOLEAN,
    last_parsed_time TIMESTAMPTZ,
    last_pickled TIMESTAMPTZ,
    last_expired TIMESTAMPTZ,
    scheduler_lock BOOLEAN,
    pickle_id INTEGER,
    fileloc VARCHAR(2000),
    processor_subdir VARCHAR(2000),
    owners VARCHAR(2000),
    dag_display_name VARCHAR(2000),
    description TEXT,
    default_view VARCHAR(25),
    schedule_interval TEXT,
    timetable_description VARCHAR(1000),
    dataset_expression JSON,
    max_active_tasks INTEGER NOT NULL,
    max_active_runs INTEGER,
    max_consecutive_failed_dag_runs INTEGER NOT NULL DEFAULT 0,
    has_task_concurrency_limits BOOLEAN NOT NULL,
    has_import_errors BOOLEAN DEFAULT FALSE,
    next_dagrun TIMESTAMPTZ,
    next_dagrun_data_interval_start TIMESTAMPTZ,
    next_dagrun_data_interval_end TIMESTAMPTZ,
    next_dagrun_create_after TIMESTAMPTZ,
    CONSTRAINT dag_pkey PRIMARY KEY (dag_id)
);
CREATE INDEX idx_root_dag_id ON dag (root_dag_id);
CREATE INDEX idx_next_dagrun_create_after ON dag (next_dagrun_create_after);
-- Not in Airflow: the DAG processor lists DAGs by file.
CREATE INDEX idx_dag_fileloc ON dag (fileloc);

CREATE TABLE dag_tag (
    name VARCHAR(100) NOT NULL,
    dag_id VARCHAR(250) NOT NULL REFERENCES dag (dag_id) ON DELETE CASCADE,
    CONSTRAINT dag_tag_pkey PRIMARY KEY (name, dag_id)
);
-- Not in Airflow: tags are replaced and read per DAG.
CREATE INDEX idx_dag_tag_dag_id ON dag_tag (dag_id);

CREATE TABLE dag_code (
    fileloc_hash BIGINT NOT NULL,
    fileloc VARCHAR(2000) NOT NULL,
    last_updated TIMESTAMPTZ NOT NULL,
    source_code TEXT NOT NULL,
    CONSTRAINT dag_code_pkey PRIMARY KEY (fileloc_hash)
);

CREATE TABLE serialized_dag (
    dag_id VARCHAR(250) NOT NULL,
    fileloc VARCHAR(2000) NOT NULL,
    fileloc_hash BIGINT NOT NULL,
    data JSON,
    data_compressed BYTEA,
    last_updated TIMESTAMPTZ NOT NULL,
    dag_hash VARCHAR(32) NOT NULL,
    processor_subdir VARCHAR(2000),
    CONSTRAINT serialized_dag_pkey PRIMARY KEY (dag_id)
);
CREATE INDEX idx_fileloc_hash ON serialized_dag (fileloc_hash);

CREATE TABLE import_error (
    id SERIAL PRIMARY KEY,
    timestamp TIMESTAMPTZ,
    filename VARCHAR(1024),
    stacktrace TEXT,
    processor_subdir VARCHAR(2000)
);
-- Not in Airflow: import errors are replaced per file.
CREATE INDEX idx_import_error_filename ON import_error (filename);

-- Runs and task instances.

CREATE TABLE dag_run (
    id SERIAL PRIMARY KEY,
    dag_id VARCHAR(250) NOT NULL,
    queued_at TIMESTAMPTZ,
    execution_date TIMESTAMPTZ NOT NULL,
    start_date TIMESTAMPTZ,
    end_date TIMESTAMPTZ,
    state VARCHAR(50),
    run_id VARCHAR(250) NOT NULL,
    creating_job_id INTEGER,
    external_trigger BOOLEAN,
    run_type VARCHAR(50) NOT NULL,
    conf BYTEA,
    data_interval_start TIMESTAMPTZ,
    data_interval_end TIMESTAMPTZ,
    last_scheduling_decision TIMESTAMPTZ,
    dag_hash VARCHAR(32),
    -- Airflow references log_template (id); Windsock has no log_template
    -- table, so the column is kept without the foreign key.
    log_template_id INTEGER,
    updated_at TIMESTAMPTZ,
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
    content VARCHAR(1000),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT dag_run_note_pkey PRIMARY KEY (dag_run_id)
);

CREATE TABLE "trigger" (
    id SERIAL PRIMARY KEY,
    classpath VARCHAR(1000) NOT NULL,
    kwargs TEXT NOT NULL,
    created_date TIMESTAMPTZ NOT NULL,
    triggerer_id INTEGER
);

CREATE TABLE task_instance (
    task_id VARCHAR(250) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    start_date TIMESTAMPTZ,
    end_date TIMESTAMPTZ,
    duration DOUBLE PRECISION,
    state VARCHAR(20),
    try_number INTEGER,
    max_tries INTEGER DEFAULT -1,
    hostname VARCHAR(1000),
    unixname VARCHAR(1000),
    job_id INTEGER,
    pool VARCHAR(256) NOT NULL,
    pool_slots INTEGER NOT NULL,
    queue VARCHAR(256),
    priority_weight INTEGER,
    operator VARCHAR(1000),
    custom_operator_name VARCHAR(1000),
    queued_dttm TIMESTAMPTZ,
    queued_by_job_id INTEGER,
    pid INTEGER,
    executor VARCHAR(1000),
    executor_config BYTEA,
    updated_at TIMESTAMPTZ,
    rendered_map_index VARCHAR(250),
    external_executor_id VARCHAR(250),
    trigger_id INTEGER,
    trigger_timeout TIMESTAMPTZ,
    next_method VARCHAR(1000),
    next_kwargs JSON,
    task_display_name VARCHAR(2000),
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
    id SERIAL PRIMARY KEY,
    task_id VARCHAR(250) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    try_number INTEGER NOT NULL,
    start_date TIMESTAMPTZ,
    end_date TIMESTAMPTZ,
    duration DOUBLE PRECISION,
    state VARCHAR(20),
    max_tries INTEGER DEFAULT -1,
    hostname VARCHAR(1000),
    unixname VARCHAR(1000),
    job_id INTEGER,
    pool VARCHAR(256) NOT NULL,
    pool_slots INTEGER NOT NULL,
    queue VARCHAR(256),
    priority_weight INTEGER,
    operator VARCHAR(1000),
    custom_operator_name VARCHAR(1000),
    queued_dttm TIMESTAMPTZ,
    queued_by_job_id INTEGER,
    pid INTEGER,
    executor VARCHAR(1000),
    executor_config BYTEA,
    updated_at TIMESTAMPTZ,
    rendered_map_index VARCHAR(250),
    external_executor_id VARCHAR(250),
    trigger_id INTEGER,
    trigger_timeout TIMESTAMPTZ,
    next_method VARCHAR(1000),
    next_kwargs JSON,
    task_display_name VARCHAR(2000),
    CONSTRAINT task_instance_history_dtrt_uq UNIQUE (dag_id, task_id, run_id, map_index, try_number),
    CONSTRAINT task_instance_history_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE ON UPDATE CASCADE
);

CREATE TABLE task_instance_note (
    user_id INTEGER REFERENCES ab_user (id),
    task_id VARCHAR(250) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL,
    content VARCHAR(1000),
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT task_instance_note_pkey PRIMARY KEY (task_id, dag_id, run_id, map_index),
    CONSTRAINT task_instance_note_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE
);

CREATE TABLE task_fail (
    id SERIAL PRIMARY KEY,
    task_id VARCHAR(250) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    start_date TIMESTAMPTZ,
    end_date TIMESTAMPTZ,
    duration INTEGER,
    CONSTRAINT task_fail_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE
);
CREATE INDEX idx_task_fail_task_instance ON task_fail (dag_id, task_id, run_id, map_index);

CREATE TABLE task_reschedule (
    id SERIAL PRIMARY KEY,
    task_id VARCHAR(250) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    try_number INTEGER NOT NULL,
    start_date TIMESTAMPTZ NOT NULL,
    end_date TIMESTAMPTZ NOT NULL,
    duration INTEGER NOT NULL,
    reschedule_date TIMESTAMPTZ NOT NULL,
    CONSTRAINT task_reschedule_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE,
    CONSTRAINT task_reschedule_dr_fkey FOREIGN KEY (dag_id, run_id)
        REFERENCES dag_run (dag_id, run_id) ON DELETE CASCADE
);
CREATE INDEX idx_task_reschedule_dag_task_run ON task_reschedule (dag_id, task_id, run_id, map_index);
CREATE INDEX idx_task_reschedule_dag_run ON task_reschedule (dag_id, run_id);

CREATE TABLE xcom (
    dag_run_id INTEGER NOT NULL,
    task_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    "key" VARCHAR(512) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    value BYTEA,
    timestamp TIMESTAMPTZ NOT NULL,
    CONSTRAINT xcom_pkey PRIMARY KEY (dag_run_id, task_id, map_index, "key"),
    CONSTRAINT xcom_task_instance_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE
);
CREATE INDEX idx_xcom_key ON xcom ("key");
CREATE INDEX idx_xcom_task_instance ON xcom (dag_id, task_id, run_id, map_index);

CREATE TABLE rendered_task_instance_fields (
    dag_id VARCHAR(250) NOT NULL,
    task_id VARCHAR(250) NOT NULL,
    run_id VARCHAR(250) NOT NULL,
    map_index INTEGER NOT NULL DEFAULT -1,
    rendered_fields JSON NOT NULL,
    k8s_pod_yaml JSON,
    CONSTRAINT rendered_task_instance_fields_pkey PRIMARY KEY (dag_id, task_id, run_id, map_index),
    CONSTRAINT rtif_ti_fkey FOREIGN KEY (dag_id, task_id, run_id, map_index)
        REFERENCES task_instance (dag_id, task_id, run_id, map_index) ON DELETE CASCADE
);

CREATE TABLE sla_miss (
    task_id VARCHAR(250) NOT NULL,
    dag_id VARCHAR(250) NOT NULL,
    execution_date TIMESTAMPTZ NOT NULL,
    email_sent BOOLEAN,
    timestamp TIMESTAMPTZ,
    description TEXT,
    notification_sent BOOLEAN,
    CONSTRAINT sla_miss_pkey PRIMARY KEY (task_id, dag_id, execution_date)
);
CREATE INDEX sm_dag ON sla_miss (dag_id);

-- Configuration the DAGs use.

CREATE TABLE variable (
    id SERIAL PRIMARY KEY,
    "key" VARCHAR(250),
    val TEXT,
    description TEXT,
    is_encrypted BOOLEAN,
    CONSTRAINT variable_key_uq UNIQUE ("key")
);

CREATE TABLE connection (
    id SERIAL PRIMARY KEY,
    conn_id VARCHAR(250) NOT NULL,
    conn_type VARCHAR(500) NOT NULL,
    description TEXT,
    host VARCHAR(500),
    "schema" VARCHAR(500),
    login TEXT,
    password TEXT,
    port INTEGER,
    is_encrypted BOOLEAN,
    is_extra_encrypted BOOLEAN,
    extra TEXT,
    CONSTRAINT connection_conn_id_uq UNIQUE (conn_id)
);

CREATE TABLE slot_pool (
    id SERIAL PRIMARY KEY,
    pool VARCHAR(256),
    slots INTEGER,
    description TEXT,
    include_deferred BOOLEAN NOT NULL,
    CONSTRAINT slot_pool_pool_uq UNIQUE (pool)
);

-- Processes and the audit log.

CREATE TABLE job (
    id SERIAL PRIMARY KEY,
    dag_id VARCHAR(250),
    state VARCHAR(20),
    job_type VARCHAR(30),
    start_date TIMESTAMPTZ,
    end_date TIMESTAMPTZ,
    latest_heartbeat TIMESTAMPTZ,
    executor_class VARCHAR(500),
    hostname VARCHAR(500),
    unixname VARCHAR(1000)
);
CREATE INDEX idx_job_dag_id ON job (dag_id);
CREATE INDEX idx_job_state_heartbeat ON job (state, latest_heartbeat);
CREATE INDEX job_type_heart ON job (job_type, latest_heartbeat);

CREATE TABLE log (
    id SERIAL PRIMARY KEY,
    dttm TIMESTAMPTZ,
    dag_id VARCHAR(250),
    task_id VARCHAR(250),
    map_index INTEGER,
    event VARCHAR(60),
    execution_date TIMESTAMPTZ,
    run_id VARCHAR(250),
    owner VARCHAR(500),
    owner_display_name VARCHAR(500),
    extra TEXT,
    try_number INTEGER
);
CREATE INDEX idx_log_dag ON log (dag_id);
CREATE INDEX idx_log_dttm ON log (dttm);
CREATE INDEX idx_log_event ON log (event);
CREATE INDEX idx_log_task_instance ON log (dag_id, task_id, run_id, map_index, try_number);
