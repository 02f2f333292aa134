package store

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// Auth are the reads and writes of roles, their permissions, users, API
// tokens and UI sessions (FAB's ab_* tables, Windsock's api_token and
// user_session). They are part of Queries.
//
// A user's sessions are revoked by the store itself wherever what they
// were granted on changes: UserSetPassword, UserAddRole, UserRemoveRole,
// UserUpdate deactivating the user, UserDelete, and RoleDelete (for every
// holder of the role) delete the user's sessions in the same transaction,
// so that no caller (API, CLI, another web server) can forget to.
type Auth interface {
	// RoleCreate inserts a role with its permissions (creating the action,
	// resource and pair rows as needed) and sets r.ID; ECONFLICT if the
	// name is taken.
	RoleCreate(ctx context.Context, r *windsock.Role) error
	// RoleGet returns a role with its permissions, sorted by resource then
	// action.
	RoleGet(ctx context.Context, name string) (*windsock.Role, error)
	// RoleList returns a page of roles with their permissions and the
	// number of roles before paging.
	RoleList(ctx context.Context, params *RoleListParams) ([]*windsock.Role, int, error)
	// RoleRename changes a role's name; ECONFLICT if the new name is taken.
	RoleRename(ctx context.Context, name, newName string) error
	// RoleLock holds a role's row until the transaction it runs in ends,
	// so that a read-check-write of its permissions (an editor's save
	// against the version it was opened at) is not interleaved with
	// another; ENOTFOUND if there is no such role.
	RoleLock(ctx context.Context, name string) error
	// RoleDelete removes a role; its grants to users and permissions go
	// with it.
	RoleDelete(ctx context.Context, name string) error
	// RolePermissionsAdd grants permissions to a role, creating the action,
	// resource and pair rows as needed; granting twice is not an error.
	RolePermissionsAdd(ctx context.Context, role string, perms []windsock.Permission) error
	// RolePermissionsRemove revokes permissions from a role; revoking one
	// it does not have is not an error.
	RolePermissionsRemove(ctx context.Context, role string, perms []windsock.Permission) error
	// RolePermissionsList returns the permissions of the named roles (of
	// every role when roles is empty), by role name. Roles without
	// permissions are present with an empty list.
	RolePermissionsList(ctx context.Context, roles []string) (map[string][]windsock.Permission, error)
	// PermissionList returns a page of the actions (ab_permission names),
	// ordered by name, and their number before paging.
	PermissionList(ctx context.Context, limit, offset int) ([]string, int, error)

	// UserGetByID returns the user with that id and its roles.
	UserGetByID(ctx context.Context, id int64) (*windsock.User, error)
	// UserList returns a page of users with their roles and the number of
	// users before paging.
	UserList(ctx context.Context, params *UserListParams) ([]*windsock.User, int, error)
	// UserUpdate changes the fields set in params; ECONFLICT if the new
	// username or email is taken.
	UserUpdate(ctx context.Context, username string, params *UserUpdateParams) error
	// UserDelete removes a user, its role grants, API tokens and sessions;
	// notes it wrote stay, without an author.
	UserDelete(ctx context.Context, username string) error
	// UserAddRole grants an existing role to a user; ENOTFOUND if either
	// does not exist, ECONFLICT if the user has it already.
	UserAddRole(ctx context.Context, username, role string) error
	// UserRemoveRole revokes a role from a user; ENOTFOUND if the user does
	// not have it.
	UserRemoveRole(ctx context.Context, username, role string) error
	// UserRecordLogin records the outcome of a password check as FAB's
	// update_user_auth_stat does: a success adds one to login_count, sets
	// last_login to at and resets fail_login_count to 0; a failure adds
	// one to fail_login_count. ENOTFOUND if the user does not exist.
	UserRecordLogin(ctx context.Context, userID int64, success bool, at time.Time) error

	// SessionCreate inserts a UI session; ENOTFOUND if the user does not
	// exist.
	SessionCreate(ctx context.Context, s *windsock.Session) error
	// SessionUser returns the session with that id hash and its user, with
	// its roles, in the same work as UserGetByID; ENOTFOUND when there is no
	// such session (never issued, revoked) or it expired at or before now.
	SessionUser(ctx context.Context, idHash string, now time.Time) (*windsock.Session, *windsock.User, error)
	// SessionExtend sets the expiry of a session (a user active again);
	// extending a session that does not exist is not an error.
	SessionExtend(ctx context.Context, idHash string, expiresAt time.Time) error
	// SessionDelete removes one session (logout); removing a session that
	// does not exist is not an error.
	SessionDelete(ctx context.Context, idHash string) error
	// SessionDeleteExpired removes the sessions expired at or before now
	// and returns how many.
	SessionDeleteExpired(ctx context.Context, now time.Time) (int, error)

	// APITokenCreate inserts a token and sets t.ID; ECONFLICT if the user
	// has a token with that name (or the hash exists), ENOTFOUND if the
	// user does not exist.
	APITokenCreate(ctx context.Context, t *windsock.APIToken) error
	// APITokenGetByHash returns the token with that hash, with its owner's
	// username.
	APITokenGetByHash(ctx context.Context, hash string) (*windsock.APIToken, error)
	// APITokenList returns a user's tokens, oldest first.
	APITokenList(ctx context.Context, userID int64) ([]*windsock.APIToken, error)
	// APITokenDelete removes a token of a user; ENOTFOUND if that user has
	// no token with that id.
	APITokenDelete(ctx context.Context, userID, id int64) error
	// APITokenTouch sets last_used_at.
	APITokenTouch(ctx context.Context, id int64, at time.Time) error
}

// RoleListParams pages RoleList.
type RoleListParams struct {
	// OrderBy is "name" or "id", "-" prefixed for descending (name when
	// empty). Other keys are EINVALID.
	OrderBy string
	Limit   int // 0: no limit
	Offset  int
}

// UserListParams pages UserList.
type UserListParams struct {
	// OrderBy is one of id, username, first_name, last_name, email,
	// active, created_on, changed_on, last_login, "-" prefixed for
	// descending (id when empty). Other keys are EINVALID.
	OrderBy string
	Limit   int // 0: no limit
	Offset  int
}

// UserUpdateParams lists the user fields to change; nil fields stay.
type UserUpdateParams struct {
	Username  *string
	FirstName *string
	LastName  *string
	// Email "" stores NULL (no email).
	Email     *string
	Active    *bool
	ChangedOn time.Time
}
