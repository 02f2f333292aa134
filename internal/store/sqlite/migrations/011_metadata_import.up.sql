-- 012 adds the bookkeeping of `windsock db import` (metadata brought in
-- from an Airflow or MWAA environment). None of it is Airflow's; the
-- tables are named import_* so that an export never mistakes them for
-- Airflow's.
--   import_checkpoint: per source and table, the key of the last source
--     row imported, written in the same transaction as the batch it ends,
--     so an interrupted import resumes after it and a finished one is not
--     read again. Table '_paused' holds the paused states to restore.
--   import_id_map: source ids of rows Windsock numbers itself (jobs), so
--     that the task instances naming them point at the new rows.
--   import_aside: what could not be imported as a value of Windsock's
--     schema (a pickle of objects, a secret without its key, a task
--     instance without a run), kept byte for byte with the reason.

CREATE TABLE import_checkpoint (
    source TEXT NOT NULL,
    table_name TEXT NOT NULL,
    position TEXT NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMP NOT NULL,
    CONSTRAINT import_checkpoint_pkey PRIMARY KEY (source, table_name)
);

CREATE TABLE import_id_map (
    source TEXT NOT NULL,
    table_name TEXT NOT NULL,
    source_id INTEGER NOT NULL,
    target_id INTEGER NOT NULL,
    CONSTRAINT import_id_map_pkey PRIMARY KEY (source, table_name, source_id)
);

CREATE TABLE import_aside (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    table_name TEXT NOT NULL,
    row_key TEXT NOT NULL,
    column_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    value BLOB,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT import_aside_uq UNIQUE (source, table_name, row_key, column_name)
);
