-- 004 adds Windsock's API tokens: bearer credentials a user creates for
-- scripts and revokes when done. Only the SHA-256 of a token is stored, so
-- a copy of the database does not hand out working credentials. Tokens go
-- with their user.

CREATE TABLE api_token (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES ab_user (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    CONSTRAINT api_token_token_hash_uq UNIQUE (token_hash),
    CONSTRAINT api_token_user_id_name_uq UNIQUE (user_id, name)
);
