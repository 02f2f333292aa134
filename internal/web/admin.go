package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// rights is what the user may do with an Admin page's resource; the page
// shows only the controls the API would accept.
type rights struct {
	Create, Edit, Delete bool
}

// adminPage checks that the request's user may open the Admin page of
// resource (the Admin menu and can_read, see adminMenu) and returns what
// else they may do with it.
func (s *Server) adminPage(r *http.Request, resource string) (rights, error) {
	if !s.can(r, auth.ActionMenuAccess, auth.ResourceAdminMenu) || !s.can(r, auth.ActionRead, resource) {
		return rights{}, forbidden()
	}
	return rights{
		Create: s.can(r, auth.ActionCreate, resource),
		Edit:   s.can(r, auth.ActionEdit, resource),
		Delete: s.can(r, auth.ActionDelete, resource),
	}, nil
}

type adminData struct {
	Can   rights
	Rows  any
	Pager pager
	Extra any
}

// pageOf returns the rows of page (1-based) of a list held in memory.
func pageOf[T any](all []T, page, size int) []T {
	lo := min((page-1)*size, len(all))
	return all[lo:min(lo+size, len(all))]
}

type variableRow struct {
	Key, Value, Description string
	Sensitive               bool
	APIPath                 string
}

// variableList is Admin > Variables. Values of keys that look secret
// (password, token, ...) never reach the browser.
func (s *Server) variableList(w http.ResponseWriter, r *http.Request) error {
	can, err := s.adminPage(r, auth.ResourceVariable)
	if err != nil {
		return err
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	vars := s.Variables
	if vars == nil {
		vars = &secrets.Variables{Store: s.Store}
	}
	all, err := vars.List(r.Context())
	if err != nil {
		return err
	}
	rows := make([]variableRow, 0, len(all))
	for _, v := range all {
		row := variableRow{Key: v.Key, Value: v.Value, Description: v.Description,
			APIPath: "/api/v1/variables/" + url.PathEscape(v.Key)}
		if secrets.IsSensitiveName(v.Key) {
			row.Value, row.Sensitive = "***", true
		}
		rows = append(rows, row)
	}
	d := adminData{Can: can, Rows: pageOf(rows, page, s.PageSize), Pager: newPager(r, page, s.PageSize, len(rows))}
	return s.render(w, r, http.StatusOK, "admin_variables", Page{Title: "Variables", Nav: "admin", Data: d})
}

type connectionRow struct {
	ConnID, ConnType, Description, Host, Schema, Login string
	Port                                               int
	HasPassword, HasExtra                              bool
	APIPath                                            string
}

// connectionList is Admin > Connections. Passwords and extras are never
// sent to the browser; editing leaves them as they are unless a new value
// is typed (PATCH keeps the fields a body leaves out).
func (s *Server) connectionList(w http.ResponseWriter, r *http.Request) error {
	can, err := s.adminPage(r, auth.ResourceConnection)
	if err != nil {
		return err
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	conns := s.Connections
	if conns == nil {
		conns = &secrets.Connections{Store: s.Store}
	}
	all, err := conns.List(r.Context())
	if err != nil {
		return err
	}
	rows := make([]connectionRow, len(all))
	for i, c := range all {
		rows[i] = connectionRow{ConnID: c.ConnID, ConnType: c.ConnType, Description: c.Description, Host: c.Host,
			Schema: c.Schema, Login: c.Login, Port: c.Port, HasPassword: c.Password != "", HasExtra: c.Extra != "",
			APIPath: "/api/v1/connections/" + url.PathEscape(c.ConnID)}
	}
	d := adminData{Can: can, Rows: pageOf(rows, page, s.PageSize), Pager: newPager(r, page, s.PageSize, len(rows))}
	return s.render(w, r, http.StatusOK, "admin_connections", Page{Title: "Connections", Nav: "admin", Data: d})
}

type poolRow struct {
	*windsock.Pool
	Running, Queued, Scheduled, Deferred int
	APIPath                              string
	IsDefault                            bool
}

// poolList is Admin > Pools, with the slots in use by state.
func (s *Server) poolList(w http.ResponseWriter, r *http.Request) error {
	can, err := s.adminPage(r, auth.ResourcePool)
	if err != nil {
		return err
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	pools, err := s.Store.PoolList(r.Context())
	if err != nil {
		return err
	}
	used, err := s.Store.PoolSlotsByState(r.Context())
	if err != nil {
		return err
	}
	rows := make([]poolRow, len(pools))
	for i, p := range pools {
		u := used[p.Pool]
		rows[i] = poolRow{Pool: p, Running: u[windsock.TaskStateRunning], Queued: u[windsock.TaskStateQueued],
			Scheduled: u[windsock.TaskStateScheduled], Deferred: u[windsock.TaskStateDeferred],
			APIPath: "/api/v1/pools/" + url.PathEscape(p.Pool), IsDefault: p.Pool == windsock.DefaultPoolName}
	}
	d := adminData{Can: can, Rows: pageOf(rows, page, s.PageSize), Pager: newPager(r, page, s.PageSize, len(rows))}
	return s.render(w, r, http.StatusOK, "admin_pools", Page{Title: "Pools", Nav: "admin", Data: d})
}

type userRow struct {
	*windsock.User
	RoleList string
	APIPath  string
	Self     bool
}

// userList is Admin > Users (Admin only by default: only Admin may read
// users).
func (s *Server) userList(w http.ResponseWriter, r *http.Request) error {
	can, err := s.adminPage(r, auth.ResourceUser)
	if err != nil {
		return err
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	users, total, err := s.Store.UserList(r.Context(), &store.UserListParams{OrderBy: "username",
		Limit: s.PageSize, Offset: (page - 1) * s.PageSize})
	if err != nil {
		return err
	}
	me := currentUser(r)
	rows := make([]userRow, len(users))
	for i, u := range users {
		u.Password = ""
		rows[i] = userRow{User: u, RoleList: strings.Join(u.Roles, ", "),
			APIPath: "/api/v1/users/" + url.PathEscape(u.Username), Self: u.Username == me.Username}
	}
	roles, _, err := s.Store.RoleList(r.Context(), &store.RoleListParams{})
	if err != nil {
		return err
	}
	names := make([]string, len(roles))
	for i, ro := range roles {
		names[i] = ro.Name
	}
	d := adminData{Can: can, Rows: rows, Pager: newPager(r, page, s.PageSize, total), Extra: strings.Join(names, ", ")}
	return s.render(w, r, http.StatusOK, "admin_users", Page{Title: "Users", Nav: "admin", Data: d})
}

type roleRow struct {
	*windsock.Role
	Builtin           bool
	APIPath, EditPath string
}

// roleList is Admin > Roles with each role's permissions.
func (s *Server) roleList(w http.ResponseWriter, r *http.Request) error {
	can, err := s.adminPage(r, auth.ResourceRole)
	if err != nil {
		return err
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	roles, total, err := s.Store.RoleList(r.Context(), &store.RoleListParams{OrderBy: "name",
		Limit: s.PageSize, Offset: (page - 1) * s.PageSize})
	if err != nil {
		return err
	}
	rows := make([]roleRow, len(roles))
	for i, ro := range roles {
		rows[i] = roleRow{Role: ro, Builtin: auth.IsBuiltinRole(ro.Name),
			APIPath: "/api/v1/roles/" + url.PathEscape(ro.Name), EditPath: "/roles/edit/" + url.PathEscape(ro.Name)}
	}
	d := adminData{Can: can, Rows: rows, Pager: newPager(r, page, s.PageSize, total)}
	return s.render(w, r, http.StatusOK, "admin_roles", Page{Title: "Roles", Nav: "admin", Data: d})
}
