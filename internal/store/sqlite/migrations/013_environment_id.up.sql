-- 014 gives the environment an identity of its own, generated once by the
-- first process that asks for it (Store.EnvironmentID) and shared by every
-- process of the environment. It is part of every try's process mark, so
-- that environments on one host running the same DAG, whose stores number
-- jobs alike, never take each other's processes for their own. Not
-- Airflow's: an export leaves it out, and an import keeps the target's.

CREATE TABLE windsock_environment (
    singleton INTEGER NOT NULL DEFAULT 1,
    environment_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CONSTRAINT windsock_environment_pkey PRIMARY KEY (singleton),
    CONSTRAINT windsock_environment_singleton CHECK (singleton = 1)
);
