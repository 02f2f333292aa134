package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// UI sessions (user_session) and the login statistics of ab_user.

// SessionCreate inserts a UI session.
func (q *queries) SessionCreate(ctx context.Context, s *windsock.Session) error {
	_, err := q.exec(ctx, `INSERT INTO user_session (id_hash, user_id, created_at, expires_at)
		VALUES (?, ?, ?, ?)`, s.IDHash, s.UserID, ts(s.CreatedAt), ts(s.ExpiresAt))
	switch {
	case err != nil && q.d.IsForeignKeyViolation(err):
		return windsock.Errorf(windsock.ENOTFOUND, "user with id %d not found", s.UserID)
	case err != nil:
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionUser returns an unexpired session and its user, with its roles.
func (q *queries) SessionUser(ctx context.Context, idHash string, now time.Time) (*windsock.Session, *windsock.User, error) {
	var s windsock.Session
	row := q.queryRow(ctx, `SELECT s.id_hash, s.user_id, s.created_at, s.expires_at, `+prefixed("u.", userColumns)+`
		FROM user_session s JOIN ab_user u ON u.id = s.user_id
		WHERE s.id_hash = ? AND s.expires_at > ?`, idHash, ts(now))
	u, err := scanUser(scanAfter{row, []any{&s.IDHash, &s.UserID, nullTime{&s.CreatedAt}, nullTime{&s.ExpiresAt}}})
	switch {
	case isNoRows(err):
		// The message must not echo the hash: it is derived from a secret.
		return nil, nil, windsock.Errorf(windsock.ENOTFOUND, "session not found")
	case err != nil:
		return nil, nil, fmt.Errorf("get session user: %w", err)
	}
	if err := q.userRoles(ctx, []*windsock.User{u}); err != nil {
		return nil, nil, err
	}
	return &s, u, nil
}

// scanAfter scans a row whose first columns go to first and the rest to
// what its caller asks for, so that a row joining two tables can reuse
// the scanner of the second.
type scanAfter struct {
	r     rowScanner
	first []any
}

func (s scanAfter) Scan(dest ...any) error { return s.r.Scan(append(s.first, dest...)...) }

// prefixed qualifies each column of a comma-separated list with prefix.
func prefixed(prefix, columns string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		cols[i] = prefix + strings.TrimSpace(c)
	}
	return strings.Join(cols, ", ")
}

// SessionExtend sets a session's expiry.
func (q *queries) SessionExtend(ctx context.Context, idHash string, expiresAt time.Time) error {
	if _, err := q.exec(ctx, `UPDATE user_session SET expires_at = ? WHERE id_hash = ?`, ts(expiresAt), idHash); err != nil {
		return fmt.Errorf("extend session: %w", err)
	}
	return nil
}

// SessionDelete removes one session.
func (q *queries) SessionDelete(ctx context.Context, idHash string) error {
	if _, err := q.exec(ctx, `DELETE FROM user_session WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// SessionDeleteExpired removes expired sessions.
func (q *queries) SessionDeleteExpired(ctx context.Context, now time.Time) (int, error) {
	res, err := q.exec(ctx, `DELETE FROM user_session WHERE expires_at <= ?`, ts(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}

// revokeSessions deletes every session of the users that the condition
// where (with its args) selects from ab_user, e.g. "username = ?".
func (q *queries) revokeSessions(ctx context.Context, where string, args ...any) error {
	if _, err := q.exec(ctx, `DELETE FROM user_session
		WHERE user_id IN (SELECT id FROM ab_user WHERE `+where+`)`, args...); err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}

// UserRecordLogin records the outcome of a password check.
func (q *queries) UserRecordLogin(ctx context.Context, userID int64, success bool, at time.Time) error {
	query := `UPDATE ab_user SET fail_login_count = COALESCE(fail_login_count, 0) + 1 WHERE id = ?`
	args := []any{userID}
	if success {
		query = `UPDATE ab_user SET login_count = COALESCE(login_count, 0) + 1, last_login = ?,
			fail_login_count = 0 WHERE id = ?`
		args = []any{ts(at), userID}
	}
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "user with id %d not found", userID), query, args...); err != nil {
		return fmt.Errorf("record login: %w", err)
	}
	return nil
}
