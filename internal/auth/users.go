package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// NewUser is a user to create. Password is the password itself ("" for a
// user who can only use API tokens an admin creates).
type NewUser struct {
	Username  string
	FirstName string
	LastName  string
	Email     string
	Password  string
	// Roles must exist; none means Public, as FAB's default registration
	// role.
	Roles []string
}

// CreateUser checks and creates a user with a bcrypt hash of its password,
// as the API's post_user and the CLI's users create do: the username and
// email must be free (ECONFLICT with Airflow's wording) and the roles must
// exist (EINVALID naming the unknown ones).
func CreateUser(ctx context.Context, st store.Queries, nu NewUser, now time.Time) (*windsock.User, error) {
	if strings.TrimSpace(nu.Username) == "" {
		return nil, windsock.Errorf(windsock.EINVALID, "username must not be empty")
	}
	if _, err := st.UserGet(ctx, nu.Username); err == nil {
		return nil, windsock.Errorf(windsock.ECONFLICT, "Username `%s` already exists. Use PATCH to update.", nu.Username)
	} else if windsock.ErrorCode(err) != windsock.ENOTFOUND {
		return nil, err
	}
	roles := nu.Roles
	if len(roles) == 0 {
		roles = []string{RolePublic}
	}
	if err := CheckRolesExist(ctx, st, roles); err != nil {
		return nil, err
	}
	u := &windsock.User{Username: nu.Username, FirstName: nu.FirstName, LastName: nu.LastName,
		Email: nu.Email, Active: true, Roles: roles, CreatedOn: now.UTC(), ChangedOn: now.UTC()}
	if nu.Password != "" {
		hash, err := HashPassword(nu.Password)
		if err != nil {
			return nil, err
		}
		u.Password = hash
	}
	if err := st.UserCreate(ctx, u); err != nil {
		if windsock.ErrorCode(err) == windsock.ECONFLICT {
			return nil, windsock.Errorf(windsock.ECONFLICT, "The email `%s` is already taken.", nu.Email)
		}
		return nil, err
	}
	u.Password = ""
	return u, nil
}

// CheckRolesExist returns an EINVALID error naming the roles that do not
// exist, in Airflow's words.
func CheckRolesExist(ctx context.Context, st store.Queries, roles []string) error {
	have, err := st.RolePermissionsList(ctx, roles)
	if err != nil {
		return err
	}
	var missing []string
	for _, r := range roles {
		if _, ok := have[r]; !ok {
			missing = append(missing, fmt.Sprintf("%q", r))
		}
	}
	if len(missing) > 0 {
		return windsock.Errorf(windsock.EINVALID, "Unknown roles: %s", strings.Join(missing, ", "))
	}
	return nil
}

// CreateAPIToken creates a bearer token for a user and returns the token,
// to be shown once, with its stored row. name must be non-empty and unique
// among the user's tokens; expiresAt, when set, must be after now.
func CreateAPIToken(ctx context.Context, st store.Queries, username, name string, expiresAt *time.Time, now time.Time) (string, *windsock.APIToken, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 250 {
		return "", nil, windsock.Errorf(windsock.EINVALID, "name: a token needs a name of 1 to 250 characters")
	}
	if expiresAt != nil && !expiresAt.After(now) {
		return "", nil, windsock.Errorf(windsock.EINVALID, "expires_at: must be in the future, got %s", expiresAt.UTC().Format(time.RFC3339))
	}
	u, err := st.UserGet(ctx, username)
	if err != nil {
		return "", nil, err
	}
	token, hash, err := NewAPIToken()
	if err != nil {
		return "", nil, err
	}
	t := &windsock.APIToken{UserID: u.ID, Username: u.Username, Name: name, TokenHash: hash, CreatedAt: now.UTC(), ExpiresAt: expiresAt}
	if err := st.APITokenCreate(ctx, t); err != nil {
		return "", nil, err
	}
	return token, t, nil
}
