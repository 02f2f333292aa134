-- 008 adds server-side UI sessions, so that a session cookie can be
-- revoked: logout deletes its row; a password change, a role change,
-- deactivation or deletion of the user delete all of the user's rows. The
-- cookie carries a random id; only its SHA-256 is stored, so a copy of the
-- database does not hand out working sessions. Several web servers share
-- this table, so a revocation on one is seen by all.

CREATE TABLE user_session (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES ab_user (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

CREATE INDEX user_session_user_id_idx ON user_session (user_id);
CREATE INDEX user_session_expires_at_idx ON user_session (expires_at);
