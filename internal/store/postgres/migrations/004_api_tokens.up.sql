-- 004 adds Windsock's API tokens: bearer credentials a user creates for
-- scripts and revokes when done. Only the SHA-256 of a token is stored, so
-- a copy of the database does not hand out working credentials. Tokens go
-- with their user. PostgreSQL copy of SQLite's 004.

CREATE TABLE api_token (
    id SERIAL PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES ab_user (id) ON DELETE CASCADE,
    name VARCHAR(250) NOT NULL,
    token_hash VARCHAR(64) NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    CONSTRAINT api_token_token_hash_uq UNIQUE (token_hash),
    CONSTRAINT api_token_user_id_name_uq UNIQUE (user_id, name)
);
