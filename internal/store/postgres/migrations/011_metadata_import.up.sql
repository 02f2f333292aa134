-- 012 adds the bookkeeping of `windsock db import`: checkpoints per source
-- and table, source ids of renumbered rows, and what was kept aside. See
-- SQLite's 012 for what each table is for; this is its PostgreSQL copy.

CREATE TABLE import_checkpoint (
    source TEXT NOT NULL,
    table_name TEXT NOT NULL,
    position TEXT NOT NULL,
    done BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT import_checkpoint_pkey PRIMARY KEY (source, table_name)
);

CREATE TABLE import_id_map (
    source TEXT NOT NULL,
    table_name TEXT NOT NULL,
    source_id BIGINT NOT NULL,
    target_id BIGINT NOT NULL,
    CONSTRAINT import_id_map_pkey PRIMARY KEY (source, table_name, source_id)
);

CREATE TABLE import_aside (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL,
    table_name TEXT NOT NULL,
    row_key TEXT NOT NULL,
    column_name TEXT NOT NULL,
    reason TEXT NOT NULL,
    value BYTEA,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT import_aside_uq UNIQUE (source, table_name, row_key, column_name)
);
