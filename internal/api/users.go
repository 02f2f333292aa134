package api

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// userJSON is Airflow's UserCollectionItem. The password hash is never
// part of it.
type userJSON struct {
	FirstName        string     `json:"first_name"`
	LastName         string     `json:"last_name"`
	Username         string     `json:"username"`
	Email            string     `json:"email"`
	Active           bool       `json:"active"`
	LastLogin        *time.Time `json:"last_login"`
	LoginCount       int        `json:"login_count"`
	FailedLoginCount int        `json:"failed_login_count"`
	Roles            []named    `json:"roles"`
	CreatedOn        *time.Time `json:"created_on"`
	ChangedOn        *time.Time `json:"changed_on"`
}

// userInput is Airflow's User in a request body; nil fields were absent.
// The read-only fields (active, login counts, dates) are not accepted.
type userInput struct {
	FirstName *string  `json:"first_name"`
	LastName  *string  `json:"last_name"`
	Username  *string  `json:"username"`
	Email     *string  `json:"email"`
	Password  *string  `json:"password"`
	Roles     *[]named `json:"roles"`
}

func userOut(u *windsock.User) userJSON {
	out := userJSON{FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, Email: u.Email,
		Active: u.Active, LastLogin: u.LastLogin, LoginCount: u.LoginCount, FailedLoginCount: u.FailLoginCount,
		Roles: make([]named, len(u.Roles)), CreatedOn: timeOrNil(u.CreatedOn), ChangedOn: timeOrNil(u.ChangedOn)}
	for i, r := range u.Roles {
		out.Roles[i] = named{r}
	}
	return out
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func roleNames(roles []named) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.Name
	}
	return out
}

func userNotFound(username string) error {
	return windsock.Errorf(windsock.ENOTFOUND, "The User with username `%s` was not found", username)
}

// userSortable maps get_users' order_by names (Airflow's, and the field
// names) to the store's.
func userSortable() map[string]string {
	return map[string]string{
		"id": "id", "user_id": "id", "username": "username", "user_name": "username",
		"first_name": "first_name", "last_name": "last_name", "email": "email",
		"active": "active", "is_active": "active", "created_on": "created_on",
		"changed_on": "changed_on", "last_login": "last_login",
	}
}

// getUsers is Airflow's get_users.
func (s *Server) getUsers(w http.ResponseWriter, r *http.Request) error {
	sortable := userSortable()
	names := make([]string, 0, len(sortable))
	for k := range sortable {
		names = append(names, k)
	}
	slices.Sort(names)
	p, err := s.pageParams(r, names)
	if err != nil {
		return err
	}
	order := ""
	if p.OrderBy != "" {
		field, desc := strings.CutPrefix(p.OrderBy, "-")
		order = sortable[field]
		if desc {
			order = "-" + order
		}
	}
	users, total, err := s.Store.UserList(r.Context(), &store.UserListParams{OrderBy: order, Limit: p.Limit, Offset: p.Offset})
	if err != nil {
		return err
	}
	out := make([]userJSON, len(users))
	for i, u := range users {
		out[i] = userOut(u)
	}
	return writeJSON(w, http.StatusOK, collection("users", out, total))
}

// getUser is Airflow's get_user.
func (s *Server) getUser(w http.ResponseWriter, r *http.Request) error {
	u, err := s.Store.UserGet(r.Context(), r.PathValue("username"))
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return userNotFound(r.PathValue("username"))
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userOut(u))
}

// postUser is Airflow's post_user.
func (s *Server) postUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	var missing []string
	for _, f := range []struct {
		name string
		v    *string
	}{{"username", in.Username}, {"email", in.Email}, {"first_name", in.FirstName}, {"last_name", in.LastName}} {
		if f.v == nil {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return windsock.Errorf(windsock.EINVALID, "missing required fields: %s", strings.Join(missing, ", "))
	}
	if *in.Username == "" || *in.Email == "" {
		return windsock.Errorf(windsock.EINVALID, "username and email must not be empty")
	}
	nu := auth.NewUser{Username: *in.Username, Email: *in.Email, FirstName: *in.FirstName, LastName: *in.LastName}
	if in.Password != nil {
		nu.Password = *in.Password
	}
	if in.Roles != nil {
		nu.Roles = roleNames(*in.Roles)
	}
	u, err := auth.CreateUser(r.Context(), s.Store, nu, s.Clock())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userOut(u))
}

// patchUser is Airflow's patch_user: the fields in the body (or in
// update_mask) change; roles are replaced.
func (s *Server) patchUser(w http.ResponseWriter, r *http.Request) error {
	var in userInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	mask, err := updateMask(r, []string{"first_name", "last_name", "username", "email", "password", "roles"})
	if err != nil {
		return err
	}
	if mask != nil {
		if in, err = maskUser(in, mask); err != nil {
			return err
		}
	}
	if (in.Username != nil && *in.Username == "") || (in.Email != nil && *in.Email == "") {
		return windsock.Errorf(windsock.EINVALID, "username and email must not be empty")
	}
	ctx := r.Context()
	username := r.PathValue("username")
	cur, err := s.Store.UserGet(ctx, username)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return userNotFound(username)
	}
	if err != nil {
		return err
	}
	if in.Username != nil && *in.Username != username {
		if _, err := s.Store.UserGet(ctx, *in.Username); err == nil {
			return windsock.Errorf(windsock.ECONFLICT, "The username `%s` already exists", *in.Username)
		}
	}
	var hash string
	if in.Password != nil {
		if hash, err = auth.HashPassword(*in.Password); err != nil {
			return err
		}
	}
	var roles []string
	if in.Roles != nil {
		roles = roleNames(*in.Roles)
		if err := auth.CheckRolesExist(ctx, s.Store, roles); err != nil {
			return err
		}
	}
	err = s.Store.InTx(ctx, func(q store.Queries) error {
		if err := q.UserUpdate(ctx, username, &store.UserUpdateParams{Username: in.Username, FirstName: in.FirstName,
			LastName: in.LastName, Email: in.Email, ChangedOn: s.Clock()}); err != nil {
			if windsock.ErrorCode(err) == windsock.ECONFLICT && in.Email != nil {
				return windsock.Errorf(windsock.ECONFLICT, "The email `%s` already exists", *in.Email)
			}
			return err
		}
		if in.Username != nil {
			username = *in.Username
		}
		if hash != "" {
			if err := q.UserSetPassword(ctx, username, hash); err != nil {
				return err
			}
		}
		if in.Roles != nil {
			return setRoles(r, q, username, cur.Roles, roles)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.authn.Forget(r.PathValue("username"))
	u, err := s.Store.UserGet(ctx, username)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, userOut(u))
}

func maskUser(in userInput, mask []string) (userInput, error) {
	var out userInput
	for _, f := range mask {
		present := true
		switch f {
		case "first_name":
			out.FirstName, present = in.FirstName, in.FirstName != nil
		case "last_name":
			out.LastName, present = in.LastName, in.LastName != nil
		case "username":
			out.Username, present = in.Username, in.Username != nil
		case "email":
			out.Email, present = in.Email, in.Email != nil
		case "password":
			out.Password, present = in.Password, in.Password != nil
		case "roles":
			out.Roles, present = in.Roles, in.Roles != nil
		}
		if !present {
			return userInput{}, windsock.Errorf(windsock.EINVALID, "Unknown update masks: '%s' is not in the request body", f)
		}
	}
	return out, nil
}

// setRoles makes a user's roles exactly want.
func setRoles(r *http.Request, q store.Queries, username string, have, want []string) error {
	for _, role := range have {
		if !slices.Contains(want, role) {
			if err := q.UserRemoveRole(r.Context(), username, role); err != nil {
				return err
			}
		}
	}
	for _, role := range want {
		if !slices.Contains(have, role) {
			if err := q.UserAddRole(r.Context(), username, role); err != nil && windsock.ErrorCode(err) != windsock.ECONFLICT {
				return err
			}
		}
	}
	return nil
}

// deleteUser is Airflow's delete_user.
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	err := s.Store.UserDelete(r.Context(), r.PathValue("username"))
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return userNotFound(r.PathValue("username"))
	}
	if err != nil {
		return err
	}
	s.authn.Forget(r.PathValue("username"))
	return noContent(w)
}
