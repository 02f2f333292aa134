package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Roles and permissions live in FAB's tables: ab_permission holds action
// names, ab_view_menu resource names, ab_permission_view the (action,
// resource) pairs and ab_permission_view_role the grants. Rows for actions,
// resources and pairs are created on first grant and kept, as FAB does.

// RoleCreate inserts a role with its permissions and sets r.ID.
func (q *queries) RoleCreate(ctx context.Context, r *windsock.Role) error {
	err := q.inTx(ctx, func(q *queries) error {
		err := q.queryRow(ctx, `INSERT INTO ab_role (name) VALUES (?) RETURNING id`, r.Name).Scan(&r.ID)
		switch {
		case err != nil && q.d.IsUniqueViolation(err):
			return windsock.Errorf(windsock.ECONFLICT, "role %q already exists", r.Name)
		case err != nil:
			return err
		}
		return q.grant(ctx, r.ID, r.Permissions)
	})
	if err != nil {
		return fmt.Errorf("create role %q: %w", r.Name, err)
	}
	return nil
}

// RoleGet returns a role with its permissions.
func (q *queries) RoleGet(ctx context.Context, name string) (*windsock.Role, error) {
	r := &windsock.Role{Name: name}
	err := q.queryRow(ctx, `SELECT id FROM ab_role WHERE name = ?`, name).Scan(&r.ID)
	switch {
	case isNoRows(err):
		return nil, roleNotFound(name)
	case err != nil:
		return nil, fmt.Errorf("get role: %w", err)
	}
	perms, err := q.RolePermissionsList(ctx, []string{name})
	if err != nil {
		return nil, err
	}
	r.Permissions = perms[name]
	return r, nil
}

var roleSortColumns = map[string]sortColumn{
	"id":   {expr: "id"},
	"name": {expr: "name"},
}

// RoleList returns a page of roles and the number of roles.
func (q *queries) RoleList(ctx context.Context, params *store.RoleListParams) ([]*windsock.Role, int, error) {
	if params == nil {
		params = &store.RoleListParams{}
	}
	order, err := orderBy(params.OrderBy, roleSortColumns, "name", "id")
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM ab_role`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count roles: %w", err)
	}
	clause, args := limitOffset(params.Limit, params.Offset)
	rows, err := q.query(ctx, `SELECT id, name FROM ab_role`+order+clause, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list roles: %w", err)
	}
	defer rows.Close()
	var roles []*windsock.Role
	var names []string
	for rows.Next() {
		var r windsock.Role
		if err := rows.Scan(&r.ID, &r.Name); err != nil {
			return nil, 0, fmt.Errorf("list roles: %w", err)
		}
		roles = append(roles, &r)
		names = append(names, r.Name)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list roles: %w", err)
	}
	rows.Close()
	if len(roles) == 0 {
		return roles, total, nil
	}
	perms, err := q.RolePermissionsList(ctx, names)
	if err != nil {
		return nil, 0, err
	}
	for _, r := range roles {
		r.Permissions = perms[r.Name]
	}
	return roles, total, nil
}

// RoleRename changes a role's name.
func (q *queries) RoleRename(ctx context.Context, name, newName string) error {
	err := q.execOne(ctx, roleNotFound(name), `UPDATE ab_role SET name = ? WHERE name = ?`, newName, name)
	if err != nil && q.d.IsUniqueViolation(err) {
		return windsock.Errorf(windsock.ECONFLICT, "role %q already exists", newName)
	}
	if err != nil {
		return fmt.Errorf("rename role %q: %w", name, err)
	}
	return nil
}

// RoleLock holds the role's row: a write of the row to itself takes
// PostgreSQL's row lock, and SQLite's one writer at a time, until the
// transaction ends. No dialect-specific SELECT ... FOR UPDATE is needed.
func (q *queries) RoleLock(ctx context.Context, name string) error {
	if err := q.execOne(ctx, roleNotFound(name), `UPDATE ab_role SET name = name WHERE name = ?`, name); err != nil {
		return fmt.Errorf("lock role %q: %w", name, err)
	}
	return nil
}

// RoleDelete removes a role.
func (q *queries) RoleDelete(ctx context.Context, name string) error {
	err := q.inTx(ctx, func(q *queries) error {
		// Its holders lose permissions: their sessions go with it.
		err := q.revokeSessions(ctx, `id IN (SELECT ur.user_id FROM ab_user_role ur
			JOIN ab_role r ON r.id = ur.role_id WHERE r.name = ?)`, name)
		if err != nil {
			return err
		}
		return q.execOne(ctx, roleNotFound(name), `DELETE FROM ab_role WHERE name = ?`, name)
	})
	if err != nil {
		return fmt.Errorf("delete role: %w", err)
	}
	return nil
}

// RolePermissionsAdd grants permissions to a role.
func (q *queries) RolePermissionsAdd(ctx context.Context, role string, perms []windsock.Permission) error {
	err := q.inTx(ctx, func(q *queries) error {
		id, err := q.roleID(ctx, role)
		if err != nil {
			return err
		}
		return q.grant(ctx, id, perms)
	})
	if err != nil {
		return fmt.Errorf("grant permissions to role %q: %w", role, err)
	}
	return nil
}

// RolePermissionsRemove revokes permissions from a role.
func (q *queries) RolePermissionsRemove(ctx context.Context, role string, perms []windsock.Permission) error {
	err := q.inTx(ctx, func(q *queries) error {
		id, err := q.roleID(ctx, role)
		if err != nil {
			return err
		}
		for _, p := range perms {
			if _, err := q.exec(ctx, `DELETE FROM ab_permission_view_role
				WHERE role_id = ? AND permission_view_id IN (
					SELECT pv.id FROM ab_permission_view pv
					JOIN ab_permission p ON p.id = pv.permission_id
					JOIN ab_view_menu v ON v.id = pv.view_menu_id
					WHERE p.name = ? AND v.name = ?)`, id, p.Action, p.Resource); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("revoke permissions from role %q: %w", role, err)
	}
	return nil
}

// RolePermissionsList returns the permissions of the named roles, or of
// every role.
func (q *queries) RolePermissionsList(ctx context.Context, roles []string) (map[string][]windsock.Permission, error) {
	where, args := inList(nil, nil, "r.name", roles)
	query := `SELECT r.name, p.name, v.name FROM ab_role r
		LEFT JOIN ab_permission_view_role pvr ON pvr.role_id = r.id
		LEFT JOIN ab_permission_view pv ON pv.id = pvr.permission_view_id
		LEFT JOIN ab_permission p ON p.id = pv.permission_id
		LEFT JOIN ab_view_menu v ON v.id = pv.view_menu_id`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	rows, err := q.query(ctx, query+" ORDER BY r.name, v.name, p.name", args...)
	if err != nil {
		return nil, fmt.Errorf("list role permissions: %w", err)
	}
	defer rows.Close()
	out := map[string][]windsock.Permission{}
	for rows.Next() {
		var role string
		var p windsock.Permission
		if err := rows.Scan(&role, nullString{&p.Action}, nullString{&p.Resource}); err != nil {
			return nil, fmt.Errorf("list role permissions: %w", err)
		}
		if _, ok := out[role]; !ok {
			out[role] = []windsock.Permission{}
		}
		if p.Action != "" && p.Resource != "" {
			out[role] = append(out[role], p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list role permissions: %w", err)
	}
	return out, nil
}

// PermissionList returns a page of action names.
func (q *queries) PermissionList(ctx context.Context, limit, offset int) ([]string, int, error) {
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM ab_permission`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count permissions: %w", err)
	}
	clause, args := limitOffset(limit, offset)
	rows, err := q.query(ctx, `SELECT name FROM ab_permission ORDER BY name`+clause, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list permissions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, 0, fmt.Errorf("list permissions: %w", err)
		}
		out = append(out, name)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list permissions: %w", err)
	}
	return out, total, nil
}

func (q *queries) roleID(ctx context.Context, name string) (int64, error) {
	var id int64
	err := q.queryRow(ctx, `SELECT id FROM ab_role WHERE name = ?`, name).Scan(&id)
	switch {
	case isNoRows(err):
		return 0, roleNotFound(name)
	case err != nil:
		return 0, err
	}
	return id, nil
}

// grant gives role roleID the permissions, creating the action, resource
// and pair rows first when they are new.
func (q *queries) grant(ctx context.Context, roleID int64, perms []windsock.Permission) error {
	for _, p := range perms {
		if p.Action == "" || p.Resource == "" {
			return windsock.Errorf(windsock.EINVALID, "a permission needs an action and a resource, got (%q, %q)", p.Action, p.Resource)
		}
		if _, err := q.exec(ctx, `INSERT INTO ab_permission (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, p.Action); err != nil {
			return fmt.Errorf("create action %q: %w", p.Action, err)
		}
		if _, err := q.exec(ctx, `INSERT INTO ab_view_menu (name) VALUES (?) ON CONFLICT (name) DO NOTHING`, p.Resource); err != nil {
			return fmt.Errorf("create resource %q: %w", p.Resource, err)
		}
		if _, err := q.exec(ctx, `INSERT INTO ab_permission_view (permission_id, view_menu_id)
			SELECT p.id, v.id FROM ab_permission p CROSS JOIN ab_view_menu v
			WHERE p.name = ? AND v.name = ?
			ON CONFLICT (permission_id, view_menu_id) DO NOTHING`, p.Action, p.Resource); err != nil {
			return fmt.Errorf("create permission (%s, %s): %w", p.Action, p.Resource, err)
		}
		if _, err := q.exec(ctx, `INSERT INTO ab_permission_view_role (permission_view_id, role_id)
			SELECT pv.id, r.id FROM ab_permission_view pv
			JOIN ab_permission p ON p.id = pv.permission_id
			JOIN ab_view_menu v ON v.id = pv.view_menu_id
			CROSS JOIN ab_role r
			WHERE p.name = ? AND v.name = ? AND r.id = ?
			ON CONFLICT (permission_view_id, role_id) DO NOTHING`, p.Action, p.Resource, roleID); err != nil {
			return fmt.Errorf("grant (%s, %s): %w", p.Action, p.Resource, err)
		}
	}
	return nil
}

func roleNotFound(name string) error {
	return windsock.Errorf(windsock.ENOTFOUND, "role %q not found", name)
}

func userNotFound(username string) error {
	return windsock.Errorf(windsock.ENOTFOUND, "user %q not found", username)
}

// Users.

const userColumns = `id, username, first_name, last_name, email, password, active,
	created_on, changed_on, last_login, login_count, fail_login_count`

func scanUser(r rowScanner) (*windsock.User, error) {
	var u windsock.User
	err := r.Scan(&u.ID, &u.Username, nullString{&u.FirstName}, nullString{&u.LastName},
		nullString{&u.Email}, nullString{&u.Password}, nullBool{&u.Active}, nullTime{&u.CreatedOn},
		nullTime{&u.ChangedOn}, nullTimePtr{&u.LastLogin}, nullInt{&u.LoginCount}, nullInt{&u.FailLoginCount})
	if err != nil {
		return nil, err
	}
	u.Roles = []string{}
	return &u, nil
}

// UserGetByID returns the user with that id and its roles.
func (q *queries) UserGetByID(ctx context.Context, id int64) (*windsock.User, error) {
	u, err := scanUser(q.queryRow(ctx, `SELECT `+userColumns+` FROM ab_user WHERE id = ?`, id))
	switch {
	case isNoRows(err):
		return nil, windsock.Errorf(windsock.ENOTFOUND, "user with id %d not found", id)
	case err != nil:
		return nil, fmt.Errorf("get user: %w", err)
	}
	if err := q.userRoles(ctx, []*windsock.User{u}); err != nil {
		return nil, err
	}
	return u, nil
}

var userSortColumns = map[string]sortColumn{
	"id":         {expr: "id"},
	"username":   {expr: "username"},
	"first_name": {expr: "first_name"},
	"last_name":  {expr: "last_name"},
	"email":      {expr: "email", nullable: true},
	"active":     {expr: "active", nullable: true},
	"created_on": {expr: "created_on", nullable: true},
	"changed_on": {expr: "changed_on", nullable: true},
	"last_login": {expr: "last_login", nullable: true},
}

// UserList returns a page of users and the number of users.
func (q *queries) UserList(ctx context.Context, params *store.UserListParams) ([]*windsock.User, int, error) {
	if params == nil {
		params = &store.UserListParams{}
	}
	order, err := orderBy(params.OrderBy, userSortColumns, "id", "id")
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM ab_user`).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	clause, args := limitOffset(params.Limit, params.Offset)
	rows, err := q.query(ctx, `SELECT `+userColumns+` FROM ab_user`+order+clause, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var users []*windsock.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("list users: %w", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	rows.Close()
	if err := q.userRoles(ctx, users); err != nil {
		return nil, 0, err
	}
	return users, total, nil
}

// userRoles fills in the role names of users, sorted.
func (q *queries) userRoles(ctx context.Context, users []*windsock.User) error {
	if len(users) == 0 {
		return nil
	}
	byID := make(map[int64]*windsock.User, len(users))
	args := make([]any, 0, len(users))
	for _, u := range users {
		byID[u.ID] = u
		args = append(args, u.ID)
	}
	rows, err := q.query(ctx, `SELECT ur.user_id, r.name FROM ab_user_role ur
		JOIN ab_role r ON r.id = ur.role_id
		WHERE ur.user_id IN (`+placeholders(len(args))+`) ORDER BY r.name`, args...)
	if err != nil {
		return fmt.Errorf("get user roles: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			return fmt.Errorf("get user roles: %w", err)
		}
		if u := byID[id]; u != nil {
			u.Roles = append(u.Roles, name)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("get user roles: %w", err)
	}
	return nil
}

// UserUpdate changes the fields set in params.
func (q *queries) UserUpdate(ctx context.Context, username string, p *store.UserUpdateParams) error {
	sets := []string{"changed_on = ?"}
	args := []any{ts(p.ChangedOn)}
	add := func(col string, v any) {
		sets = append(sets, col+" = ?")
		args = append(args, v)
	}
	if p.Username != nil {
		add("username", *p.Username)
	}
	if p.FirstName != nil {
		add("first_name", *p.FirstName)
	}
	if p.LastName != nil {
		add("last_name", *p.LastName)
	}
	if p.Email != nil {
		add("email", str(*p.Email))
	}
	if p.Active != nil {
		add("active", *p.Active)
	}
	err := q.inTx(ctx, func(q *queries) error {
		if p.Active != nil && !*p.Active {
			if err := q.revokeSessions(ctx, `username = ?`, username); err != nil {
				return err
			}
		}
		return q.execOne(ctx, userNotFound(username),
			`UPDATE ab_user SET `+strings.Join(sets, ", ")+` WHERE username = ?`, append(args, username)...)
	})
	if err != nil && q.d.IsUniqueViolation(err) {
		return windsock.Errorf(windsock.ECONFLICT, "the new username or email of user %q is taken", username)
	}
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	return nil
}

// UserDelete removes a user.
func (q *queries) UserDelete(ctx context.Context, username string) error {
	err := q.inTx(ctx, func(q *queries) error {
		var id int64
		err := q.queryRow(ctx, `SELECT id FROM ab_user WHERE username = ?`, username).Scan(&id)
		switch {
		case isNoRows(err):
			return userNotFound(username)
		case err != nil:
			return err
		}
		// These references have no ON DELETE action in Airflow's schema;
		// the notes and audit columns outlive their author.
		for _, stmt := range []string{
			`UPDATE dag_run_note SET user_id = NULL WHERE user_id = ?`,
			`UPDATE task_instance_note SET user_id = NULL WHERE user_id = ?`,
			`UPDATE ab_user SET created_by_fk = NULL WHERE created_by_fk = ?`,
			`UPDATE ab_user SET changed_by_fk = NULL WHERE changed_by_fk = ?`,
			// ON DELETE CASCADE would do, but SQLite enforces it only
			// with foreign_keys on; say it here too.
			`DELETE FROM user_session WHERE user_id = ?`,
			`DELETE FROM ab_user WHERE id = ?`,
		} {
			if _, err := q.exec(ctx, stmt, id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	return nil
}

// UserAddRole grants a role to a user.
func (q *queries) UserAddRole(ctx context.Context, username, role string) error {
	err := q.inTx(ctx, func(q *queries) error {
		var userID int64
		err := q.queryRow(ctx, `SELECT id FROM ab_user WHERE username = ?`, username).Scan(&userID)
		switch {
		case isNoRows(err):
			return userNotFound(username)
		case err != nil:
			return err
		}
		roleID, err := q.roleID(ctx, role)
		if err != nil {
			return err
		}
		_, err = q.exec(ctx, `INSERT INTO ab_user_role (user_id, role_id) VALUES (?, ?)`, userID, roleID)
		if err != nil && q.d.IsUniqueViolation(err) {
			return windsock.Errorf(windsock.ECONFLICT, "user %q already has role %q", username, role)
		}
		if err != nil {
			return err
		}
		return q.revokeSessions(ctx, `id = ?`, userID)
	})
	if err != nil {
		return fmt.Errorf("add role to user: %w", err)
	}
	return nil
}

// UserRemoveRole revokes a role from a user.
func (q *queries) UserRemoveRole(ctx context.Context, username, role string) error {
	err := q.inTx(ctx, func(q *queries) error {
		err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "user %q does not have role %q", username, role),
			`DELETE FROM ab_user_role
			WHERE user_id IN (SELECT id FROM ab_user WHERE username = ?)
			AND role_id IN (SELECT id FROM ab_role WHERE name = ?)`, username, role)
		if err != nil {
			return err
		}
		return q.revokeSessions(ctx, `username = ?`, username)
	})
	if err != nil {
		return fmt.Errorf("remove role from user: %w", err)
	}
	return nil
}

// API tokens.

// APITokenCreate inserts a token and sets t.ID.
func (q *queries) APITokenCreate(ctx context.Context, t *windsock.APIToken) error {
	err := q.queryRow(ctx, `INSERT INTO api_token (user_id, name, token_hash, created_at, expires_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		t.UserID, t.Name, t.TokenHash, ts(t.CreatedAt), tsPtr(t.ExpiresAt), tsPtr(t.LastUsedAt)).Scan(&t.ID)
	switch {
	case err != nil && q.d.IsUniqueViolation(err):
		return windsock.Errorf(windsock.ECONFLICT, "the user already has a token named %q", t.Name)
	case err != nil && q.d.IsForeignKeyViolation(err):
		return windsock.Errorf(windsock.ENOTFOUND, "user with id %d not found", t.UserID)
	case err != nil:
		return fmt.Errorf("create api token: %w", err)
	}
	return nil
}

const apiTokenColumns = `t.id, t.user_id, u.username, t.name, t.token_hash, t.created_at,
	t.expires_at, t.last_used_at`

func scanAPIToken(r rowScanner) (*windsock.APIToken, error) {
	var t windsock.APIToken
	if err := r.Scan(&t.ID, &t.UserID, &t.Username, &t.Name, &t.TokenHash, nullTime{&t.CreatedAt},
		nullTimePtr{&t.ExpiresAt}, nullTimePtr{&t.LastUsedAt}); err != nil {
		return nil, err
	}
	return &t, nil
}

// APITokenGetByHash returns the token with that hash.
func (q *queries) APITokenGetByHash(ctx context.Context, hash string) (*windsock.APIToken, error) {
	t, err := scanAPIToken(q.queryRow(ctx, `SELECT `+apiTokenColumns+`
		FROM api_token t JOIN ab_user u ON u.id = t.user_id WHERE t.token_hash = ?`, hash))
	switch {
	case isNoRows(err):
		// The message must not echo the hash: it is derived from a secret.
		return nil, windsock.Errorf(windsock.ENOTFOUND, "api token not found")
	case err != nil:
		return nil, fmt.Errorf("get api token: %w", err)
	}
	return t, nil
}

// APITokenList returns a user's tokens, oldest first.
func (q *queries) APITokenList(ctx context.Context, userID int64) ([]*windsock.APIToken, error) {
	rows, err := q.query(ctx, `SELECT `+apiTokenColumns+`
		FROM api_token t JOIN ab_user u ON u.id = t.user_id
		WHERE t.user_id = ? ORDER BY t.created_at, t.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	out := []*windsock.APIToken{}
	for rows.Next() {
		t, err := scanAPIToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// APITokenDelete removes a token of a user.
func (q *queries) APITokenDelete(ctx context.Context, userID, id int64) error {
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "api token %d not found", id),
		`DELETE FROM api_token WHERE id = ? AND user_id = ?`, id, userID); err != nil {
		return fmt.Errorf("delete api token: %w", err)
	}
	return nil
}

// APITokenTouch sets last_used_at.
func (q *queries) APITokenTouch(ctx context.Context, id int64, at time.Time) error {
	if err := q.execOne(ctx, windsock.Errorf(windsock.ENOTFOUND, "api token %d not found", id),
		`UPDATE api_token SET last_used_at = ? WHERE id = ?`, ts(at), id); err != nil {
		return fmt.Errorf("touch api token: %w", err)
	}
	return nil
}
