package sqlstore

import (
	"context"
	"fmt"

	"github.com/windsock/windsock/internal/windsock"
)

// UserCreate inserts a user with its roles, creating missing roles, and sets
// u.ID; ECONFLICT if the username or email is taken.
func (q *queries) UserCreate(ctx context.Context, u *windsock.User) error {
	err := q.inTx(ctx, func(q *queries) error {
		err := q.queryRow(ctx, `INSERT INTO ab_user (first_name, last_name, username, password,
				active, email, last_login, login_count, fail_login_count, created_on, changed_on)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.FirstName, u.LastName, u.Username, str(u.Password), u.Active, str(u.Email),
			tsPtr(u.LastLogin), u.LoginCount, u.FailLoginCount, ts(u.CreatedOn), ts(u.ChangedOn)).Scan(&u.ID)
		switch {
		case err != nil && q.d.IsUniqueViolation(err):
			return windsock.Errorf(windsock.ECONFLICT, "user %q or email %q already exists", u.Username, u.Email)
		case err != nil:
			return err
		}
		for _, role := range uniqueNonEmpty(u.Roles) {
			if _, err := q.exec(ctx, `INSERT INTO ab_role (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, role); err != nil {
				return fmt.Errorf("create role %q: %w", role, err)
			}
			if _, err := q.exec(ctx, `INSERT INTO ab_user_role (user_id, role_id)
				SELECT ?, id FROM ab_role WHERE name = ?`, u.ID, role); err != nil {
				return fmt.Errorf("grant role %q: %w", role, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create user %q: %w", u.Username, err)
	}
	return nil
}

// UserGet returns the user with username and the names of its roles,
// sorted.
func (q *queries) UserGet(ctx context.Context, username string) (*windsock.User, error) {
	var u windsock.User
	err := q.queryRow(ctx, `SELECT id, username, first_name, last_name, email, password, active,
			created_on, changed_on, last_login, login_count, fail_login_count
		FROM ab_user WHERE username = ?`, username).Scan(&u.ID, &u.Username,
		nullString{&u.FirstName}, nullString{&u.LastName}, nullString{&u.Email},
		nullString{&u.Password}, nullBool{&u.Active}, nullTime{&u.CreatedOn}, nullTime{&u.ChangedOn},
		nullTimePtr{&u.LastLogin}, nullInt{&u.LoginCount}, nullInt{&u.FailLoginCount})
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "user %q not found", username)
	case err != nil:
		return nil, fmt.Errorf("get user: %w", err)
	}
	rows, err := q.query(ctx, `SELECT r.name FROM ab_role r
		JOIN ab_user_role ur ON ur.role_id = r.id
		WHERE ur.user_id = ? ORDER BY r.name`, u.ID)
	if err != nil {
		return nil, fmt.Errorf("get user roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("get user roles: %w", err)
		}
		u.Roles = append(u.Roles, name)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("get user roles: %w", err)
	}
	return &u, nil
}

// UserSetPassword replaces a user's password hash and revokes the user's
// sessions.
func (q *queries) UserSetPassword(ctx context.Context, username, hash string) error {
	err := q.inTx(ctx, func(q *queries) error {
		if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "user %q not found", username),
			`UPDATE ab_user SET password = ? WHERE username = ?`, hash, username); err != nil {
			return err
		}
		return q.revokeSessions(ctx, `username = ?`, username)
	})
	if err != nil {
		return fmt.Errorf("set user password: %w", err)
	}
	return nil
}
