package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// permissionCell is one checkbox of the role editor: an action on a
// resource. Locked cells are a built-in role's defaults, which stay.
type permissionCell struct {
	Action, Value   string
	Granted, Locked bool
}

type permissionRow struct {
	Resource string
	Cells    []permissionCell
}

type roleEditData struct {
	Role     string
	Version  string
	Builtin  bool
	APIPath  string
	Rows     []permissionRow
	Actions  []string
	Granted  int
	Possible int
	// Filter keeps the resources whose name contains it (any case).
	Filter string
	Pager  pager
}

// roleEditPageSize is how many resources the role editor shows at once: a
// role over thousands of DAGs has two resources per DAG, five boxes each,
// and all of them on one page made it tens of megabytes. Saving sends only
// the boxes changed, so each page is saved on its own.
const roleEditPageSize = 500

// roleEdit is Security > List Roles > Edit: every action on every global
// resource, and on each stored DAG's per-DAG resources, as a grid of
// checkboxes, a page of resources at a time (?page=, ?resource= filters). Saving sends only the boxes ticked or unticked since the page
// was rendered, with the role's version then, through the REST API (PATCH
// /api/v1/roles/{name}/permissions), which does the checks and refuses the
// change if the role was changed meanwhile; the page opens only for who
// may edit roles.
func (s *Server) roleEdit(w http.ResponseWriter, r *http.Request) error {
	can, err := s.adminPage(r, auth.ResourceRole)
	if err != nil {
		return err
	}
	if !can.Edit {
		return forbidden()
	}
	name := r.PathValue("name")
	role, err := s.Store.RoleGet(r.Context(), name)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return windsock.Errorf(windsock.ENOTFOUND, "Role with name %q was not found", name)
	}
	if err != nil {
		return err
	}
	dags, err := s.Store.DAGList(r.Context(), &store.DAGListParams{})
	if err != nil {
		return err
	}
	resources := auth.Resources()
	for _, d := range dags {
		resources = append(resources, auth.DAGResource(d.DagID), auth.DAGRunResource(d.DagID))
	}
	// A permission on a resource no longer listed (a deleted DAG's) stays
	// visible, so saving does not revoke it unseen.
	listed := make(map[string]bool, len(resources))
	for _, res := range resources {
		listed[res] = true
	}
	for _, p := range role.Permissions {
		if !listed[p.Resource] {
			listed[p.Resource] = true
			resources = append(resources, p.Resource)
		}
	}
	d := roleEditData{Role: role.Name, Version: auth.RoleVersion(role.Permissions), Builtin: auth.IsBuiltinRole(role.Name), Actions: auth.Actions(),
		APIPath: "/api/v1/roles/" + url.PathEscape(role.Name) + "/permissions", Filter: strings.TrimSpace(r.URL.Query().Get("resource"))}
	d.Granted, d.Possible = len(role.Permissions), len(resources)*len(d.Actions)
	if d.Filter != "" {
		want := strings.ToLower(d.Filter)
		resources = slices.DeleteFunc(resources, func(res string) bool { return !strings.Contains(strings.ToLower(res), want) })
	}
	page, err := pageParam(r)
	if err != nil {
		return err
	}
	d.Pager = newPager(r, page, roleEditPageSize, len(resources))
	resources = resources[min((page-1)*roleEditPageSize, len(resources)):min(page*roleEditPageSize, len(resources))]
	granted := permissionSet(role.Permissions)
	locked := permissionSet(auth.BuiltinPermissions(role.Name))
	for _, res := range resources {
		row := permissionRow{Resource: res}
		for _, a := range d.Actions {
			p := windsock.Permission{Action: a, Resource: res}
			row.Cells = append(row.Cells, permissionCell{Action: a, Value: a + ":" + res,
				Granted: granted[p], Locked: locked[p]})
		}
		d.Rows = append(d.Rows, row)
	}
	return s.render(w, r, http.StatusOK, "admin_role_edit", Page{Title: "Edit role " + role.Name, Nav: "admin", Data: d})
}

func permissionSet(perms []windsock.Permission) map[windsock.Permission]bool {
	out := make(map[windsock.Permission]bool, len(perms))
	for _, p := range perms {
		out[p] = true
	}
	return out
}
