package api

import (
	"net/http"
	"strings"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// named is Airflow's {"name": ...} object (Action, Resource, a user's
// role).
type named struct {
	Name string `json:"name"`
}

type actionResource struct {
	Action   named `json:"action"`
	Resource named `json:"resource"`
}

// roleJSON is Airflow's Role.
type roleJSON struct {
	Name    string           `json:"name"`
	Actions []actionResource `json:"actions"`
}

// roleInput is a Role in a request body; nil fields were absent.
type roleInput struct {
	Name    *string           `json:"name"`
	Actions *[]actionResource `json:"actions"`
}

func roleOut(r *windsock.Role) roleJSON {
	out := roleJSON{Name: r.Name, Actions: make([]actionResource, len(r.Permissions))}
	for i, p := range r.Permissions {
		out.Actions[i] = actionResource{Action: named{p.Action}, Resource: named{p.Resource}}
	}
	return out
}

// permissionsIn checks the actions of a role body.
func permissionsIn(actions []actionResource) ([]windsock.Permission, error) {
	out := permissionsOf(actions)
	for _, p := range out {
		if err := auth.CheckPermission(p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// permissionsOf decodes actions without checking them, for the services
// that check what they are given (auth.RolePermissionsSet, Edit).
func permissionsOf(actions []actionResource) []windsock.Permission {
	out := make([]windsock.Permission, len(actions))
	for i, a := range actions {
		out[i] = windsock.Permission{Action: a.Action.Name, Resource: a.Resource.Name}
	}
	return out
}

func roleNotFound(name string) error {
	return windsock.Errorf(windsock.ENOTFOUND, "Role with name %q was not found", name)
}

// getRoles is Airflow's get_roles.
func (s *Server) getRoles(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, []string{"name", "role_id"})
	if err != nil {
		return err
	}
	roles, total, err := s.Store.RoleList(r.Context(), &store.RoleListParams{
		OrderBy: strings.Replace(p.OrderBy, "role_id", "id", 1), Limit: p.Limit, Offset: p.Offset})
	if err != nil {
		return err
	}
	out := make([]roleJSON, len(roles))
	for i, role := range roles {
		out[i] = roleOut(role)
	}
	return writeJSON(w, http.StatusOK, collection("roles", out, total))
}

// getRole is Airflow's get_role.
func (s *Server) getRole(w http.ResponseWriter, r *http.Request) error {
	role, err := s.Store.RoleGet(r.Context(), r.PathValue("role_name"))
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return roleNotFound(r.PathValue("role_name"))
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, roleOut(role))
}

// postRole is Airflow's post_role.
func (s *Server) postRole(w http.ResponseWriter, r *http.Request) error {
	var in roleInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Name == nil || *in.Name == "" {
		return windsock.Errorf(windsock.EINVALID, "name: a role needs a non-empty name")
	}
	var perms []windsock.Permission
	if in.Actions != nil {
		var err error
		if perms, err = permissionsIn(*in.Actions); err != nil {
			return err
		}
	}
	role := &windsock.Role{Name: *in.Name, Permissions: perms}
	if err := s.Store.RoleCreate(r.Context(), role); err != nil {
		if windsock.ErrorCode(err) == windsock.ECONFLICT {
			return windsock.Errorf(windsock.ECONFLICT, "Role with name %q already exists; please update with the PATCH endpoint", *in.Name)
		}
		return err
	}
	s.authz.Invalidate()
	return s.writeRole(w, r, *in.Name)
}

// patchRole is Airflow's patch_role: actions are granted in addition to
// the role's current ones (Airflow syncs them in; it never revokes), then
// the role is renamed.
func (s *Server) patchRole(w http.ResponseWriter, r *http.Request) error {
	var in roleInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	mask, err := updateMask(r, []string{"name", "actions"})
	if err != nil {
		return err
	}
	if mask != nil {
		var masked roleInput
		for _, f := range mask {
			switch {
			case f == "name" && in.Name != nil:
				masked.Name = in.Name
			case f == "actions" && in.Actions != nil:
				masked.Actions = in.Actions
			default:
				return windsock.Errorf(windsock.EINVALID, "'%s' in update_mask is not in the request body", f)
			}
		}
		in = masked
	}
	if in.Name != nil && *in.Name == "" {
		return windsock.Errorf(windsock.EINVALID, "name: a role needs a non-empty name")
	}
	var perms []windsock.Permission
	if in.Actions != nil {
		if perms, err = permissionsIn(*in.Actions); err != nil {
			return err
		}
	}
	name := r.PathValue("role_name")
	err = s.Store.InTx(r.Context(), func(q store.Queries) error {
		if _, err := q.RoleGet(r.Context(), name); err != nil {
			return err
		}
		if err := q.RolePermissionsAdd(r.Context(), name, perms); err != nil {
			return err
		}
		if in.Name != nil && *in.Name != name {
			if err := q.RoleRename(r.Context(), name, *in.Name); err != nil {
				return err
			}
			name = *in.Name
		}
		return nil
	})
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return roleNotFound(r.PathValue("role_name"))
	}
	if err != nil {
		return err
	}
	s.authz.Invalidate()
	return s.writeRole(w, r, name)
}

// deleteRole is Airflow's delete_role.
func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) error {
	err := s.Store.RoleDelete(r.Context(), r.PathValue("role_name"))
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return roleNotFound(r.PathValue("role_name"))
	}
	if err != nil {
		return err
	}
	s.authz.Invalidate()
	return noContent(w)
}

// putRolePermissions is Windsock's own: it replaces a role's permissions
// with the body's actions, which Airflow does only on its role edit page
// (the UI's role editor sends it). A built-in role keeps its defaults.
func (s *Server) putRolePermissions(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Actions *[]actionResource `json:"actions"`
	}
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	if in.Actions == nil {
		return windsock.Errorf(windsock.EINVALID, "actions: the role's permissions are required (an empty list revokes them all)")
	}
	name := r.PathValue("role_name")
	err := auth.RolePermissionsSet(r.Context(), s.Store, name, permissionsOf(*in.Actions))
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return roleNotFound(name)
	}
	if err != nil {
		return err
	}
	s.authz.Invalidate()
	return s.writeRole(w, r, name)
}

// rolePermissionsChangeJSON is the body of patchRolePermissions.
type rolePermissionsChangeJSON struct {
	Version string           `json:"version"`
	Grant   []actionResource `json:"grant"`
	Revoke  []actionResource `json:"revoke"`
}

// rolePermissionsEditedJSON is what patchRolePermissions answers: the
// role's new version and count, not its permissions, which may be many.
type rolePermissionsEditedJSON struct {
	Name         string `json:"name"`
	Version      string `json:"version"`
	TotalEntries int    `json:"total_entries"`
}

// patchRolePermissions is Windsock's own: it grants and revokes the
// listed permissions of a role, refusing (409) when the role is no longer
// at the version the change was made against (the body's "version", from
// the role editor; without it the change applies to the role as it is). The UI's role editor sends
// only what was ticked or unticked, so a role with tens of thousands of
// permissions (per-DAG ones, thousands of DAGs) stays editable within the
// body limit.
func (s *Server) patchRolePermissions(w http.ResponseWriter, r *http.Request) error {
	var in rolePermissionsChangeJSON
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	name := r.PathValue("role_name")
	edited, err := auth.RolePermissionsEdit(r.Context(), s.Store, name, auth.RolePermissionsChange{
		Version: in.Version, Grant: permissionsOf(in.Grant), Revoke: permissionsOf(in.Revoke)})
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return roleNotFound(name)
	}
	if err != nil {
		return err
	}
	s.authz.Invalidate()
	return writeJSON(w, http.StatusOK, rolePermissionsEditedJSON{Name: name, Version: edited.Version, TotalEntries: edited.Total})
}

func (s *Server) writeRole(w http.ResponseWriter, r *http.Request, name string) error {
	role, err := s.Store.RoleGet(r.Context(), name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, roleOut(role))
}

// getPermissions is Airflow's get_permissions: the actions.
func (s *Server) getPermissions(w http.ResponseWriter, r *http.Request) error {
	p, err := s.pageParams(r, nil)
	if err != nil {
		return err
	}
	actions, total, err := s.Store.PermissionList(r.Context(), p.Limit, p.Offset)
	if err != nil {
		return err
	}
	out := make([]named, len(actions))
	for i, a := range actions {
		out[i] = named{a}
	}
	return writeJSON(w, http.StatusOK, collection("actions", out, total))
}
