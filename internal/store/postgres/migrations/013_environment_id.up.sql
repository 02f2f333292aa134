-- 013 gives the environment an identity of its own, generated here, once,
-- so that every migrated database has one (read-only ones too), shared by every
-- process of the environment. It is part of every try's process mark, so
-- that environments on one host running the same DAG, whose stores number
-- jobs alike, never take each other's processes for their own. Not
-- Airflow's: an export leaves it out, and an import keeps the target's.

CREATE TABLE windsock_environment (
    singleton INTEGER NOT NULL DEFAULT 1,
    environment_id TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CONSTRAINT windsock_environment_pkey PRIMARY KEY (singleton),
    CONSTRAINT windsock_environment_singleton CHECK (singleton = 1)
);

INSERT INTO windsock_environment (singleton, environment_id, created_at)
VALUES (1, substr(md5(random()::text || clock_timestamp()::text), 1, 16), now());
