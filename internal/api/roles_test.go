package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func TestRoles(t *testing.T) {
	t.Parallel()
	e := setup(t)
	team := map[string]any{"name": "team-a", "actions": []map[string]any{
		{"action": map[string]string{"name": "can_read"}, "resource": map[string]string{"name": "DAG:etl"}},
	}}
	var role roleJSON
	e.ok(e.do("POST", "/api/v1/roles", "admin", team), http.StatusOK, &role)
	if role.Name != "team-a" || len(role.Actions) != 1 || role.Actions[0].Resource.Name != "DAG:etl" {
		t.Fatalf("created role = %+v", role)
	}
	e.problem(e.do("POST", "/api/v1/roles", "admin", team), http.StatusConflict, `Role with name "team-a" already exists`)

	e.ok(e.do("GET", "/api/v1/roles/team-a", "nobody", nil), http.StatusUnauthorized, nil)
	e.ok(e.do("GET", "/api/v1/roles/team-a", "admin", nil), http.StatusOK, &role)
	e.problem(e.do("GET", "/api/v1/roles/nope", "admin", nil), http.StatusNotFound, `Role with name "nope" was not found`)

	// PATCH adds actions, then renames; update_mask limits the change.
	patch := map[string]any{"name": "team-b", "actions": []map[string]any{
		{"action": map[string]string{"name": "can_edit"}, "resource": map[string]string{"name": "DAG:etl"}},
	}}
	e.ok(e.do("PATCH", "/api/v1/roles/team-a?update_mask=actions", "admin", patch), http.StatusOK, &role)
	if role.Name != "team-a" || len(role.Actions) != 2 {
		t.Fatalf("after PATCH actions = %+v", role)
	}
	e.ok(e.do("PATCH", "/api/v1/roles/team-a", "admin", map[string]any{"name": "team-b"}), http.StatusOK, &role)
	if role.Name != "team-b" || len(role.Actions) != 2 {
		t.Fatalf("after rename = %+v", role)
	}
	e.problem(e.do("PATCH", "/api/v1/roles/team-b", "admin", map[string]any{"name": "Admin"}), http.StatusConflict, "already exists")
	e.problem(e.do("PATCH", "/api/v1/roles/team-b?update_mask=colour", "admin", map[string]any{"name": "x"}), http.StatusBadRequest, "'colour' in update_mask is unknown")
	e.problem(e.do("PATCH", "/api/v1/roles/team-b?update_mask=actions", "admin", map[string]any{"name": "x"}), http.StatusBadRequest, "not in the request body")
	e.problem(e.do("PATCH", "/api/v1/roles/nope", "admin", map[string]any{"name": "x"}), http.StatusNotFound, "was not found")

	// Bad bodies.
	e.problem(e.do("POST", "/api/v1/roles", "admin", `{"name": "x", "colour": "red"}`), http.StatusBadRequest, `unknown field "colour"`)
	e.problem(e.do("POST", "/api/v1/roles", "admin", `{"name": 5}`), http.StatusBadRequest, `field "name": expected string, got number`)
	e.problem(e.do("POST", "/api/v1/roles", "admin", `{"name": "x", "actions": {}}`), http.StatusBadRequest, `field "actions": expected array, got object`)
	e.problem(e.do("POST", "/api/v1/roles", "admin", `{"name": "x",}`), http.StatusBadRequest, "malformed JSON at offset 14")
	e.problem(e.do("POST", "/api/v1/roles", "admin", `{"name": "x"`), http.StatusBadRequest, "malformed JSON at offset 12")
	e.problem(e.do("POST", "/api/v1/roles", "admin", `{"name": "x"} {}`), http.StatusBadRequest, "unexpected data after the value")
	e.problem(e.do("POST", "/api/v1/roles", "admin", ""), http.StatusBadRequest, "request body is required")
	e.problem(e.do("POST", "/api/v1/roles", "admin", `[]`), http.StatusBadRequest, "request body: expected object, got array")
	e.problem(e.do("POST", "/api/v1/roles", "admin", `{}`), http.StatusBadRequest, "needs a non-empty name")
	e.problem(e.do("POST", "/api/v1/roles", "admin", map[string]any{"name": "x", "actions": []map[string]any{
		{"action": map[string]string{"name": "can_fly"}, "resource": map[string]string{"name": "DAGs"}}}}),
		http.StatusBadRequest, `The specified action: "can_fly" was not found`)
	e.problem(e.do("POST", "/api/v1/roles", "admin", map[string]any{"name": "x", "actions": []map[string]any{
		{"action": map[string]string{"name": "can_read"}, "resource": map[string]string{"name": "Moons"}}}}),
		http.StatusBadRequest, `The specified resource: "Moons" was not found`)
	big := `{"name": "` + strings.Repeat("x", maxBodyBytes) + `"}`
	e.problem(e.do("POST", "/api/v1/roles", "admin", big), http.StatusRequestEntityTooLarge, "larger than")
	if _, err := e.st.RoleGet(e.ctx, "x"); err == nil {
		t.Error("a rejected request created role x")
	}

	// Paging and ordering.
	var list struct {
		Roles []roleJSON `json:"roles"`
		Total int        `json:"total_entries"`
	}
	e.ok(e.do("GET", "/api/v1/roles", "admin", nil), http.StatusOK, &list)
	names := func() []string {
		out := []string{}
		for _, r := range list.Roles {
			out = append(out, r.Name)
		}
		return out
	}
	if list.Total != 6 || !slices.Equal(names(), []string{"Admin", "Op", "Public", "User", "Viewer", "team-b"}) {
		t.Fatalf("roles = %v (total %d)", names(), list.Total)
	}
	e.ok(e.do("GET", "/api/v1/roles?order_by=-name&limit=2&offset=1", "admin", nil), http.StatusOK, &list)
	if list.Total != 6 || !slices.Equal(names(), []string{"Viewer", "User"}) {
		t.Fatalf("roles?order_by=-name&limit=2&offset=1 = %v (total %d)", names(), list.Total)
	}
	e.ok(e.do("GET", "/api/v1/roles?order_by=role_id&limit=1", "admin", nil), http.StatusOK, &list)
	if len(list.Roles) != 1 {
		t.Fatalf("limit=1 gave %d roles", len(list.Roles))
	}
	e.problem(e.do("GET", "/api/v1/roles?order_by=colour", "admin", nil), http.StatusBadRequest, "order_by must be one of name, role_id")
	e.problem(e.do("GET", "/api/v1/roles?limit=abc", "admin", nil), http.StatusBadRequest, "limit: expected a positive integer")
	e.problem(e.do("GET", "/api/v1/roles?limit=0", "admin", nil), http.StatusBadRequest, "limit")
	e.problem(e.do("GET", "/api/v1/roles?offset=-1", "admin", nil), http.StatusBadRequest, "offset")

	// Viewers read roles but may not create them.
	e.ok(e.do("GET", "/api/v1/roles", "viewer", nil), http.StatusForbidden, nil)
	e.problem(e.do("POST", "/api/v1/roles", "viewer", map[string]any{"name": "v"}), http.StatusForbidden, "permission")

	e.ok(e.do("DELETE", "/api/v1/roles/team-b", "admin", nil), http.StatusNoContent, nil)
	e.problem(e.do("DELETE", "/api/v1/roles/team-b", "admin", nil), http.StatusNotFound, "was not found")

	// Every successful change is in the event log, by whom and with what.
	events, err := e.st.EventLogList(e.ctx, &store.EventLogListParams{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range events {
		got = append(got, ev.Event)
		if ev.Owner != "admin" {
			t.Errorf("event %s owner = %q", ev.Event, ev.Owner)
		}
	}
	want := []string{"api.delete_role", "api.patch_role", "api.patch_role", "api.post_role"}
	if !slices.Equal(got, want) {
		t.Fatalf("events = %v, want %v", got, want)
	}
	var extra struct {
		Method string         `json:"method"`
		Path   string         `json:"path"`
		Params map[string]any `json:"params"`
	}
	if err := json.Unmarshal([]byte(events[2].Extra), &extra); err != nil {
		t.Fatal(err)
	}
	if extra.Method != "PATCH" || extra.Path != "/api/v1/roles/team-a" || extra.Params["role_name"] != "team-a" || extra.Params["update_mask"] != "actions" {
		t.Errorf("extra = %+v", extra)
	}
}

func TestPermissions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var out struct {
		Actions []named `json:"actions"`
		Total   int     `json:"total_entries"`
	}
	e.ok(e.do("GET", "/api/v1/permissions", "admin", nil), http.StatusOK, &out)
	want := []named{{"can_create"}, {"can_delete"}, {"can_edit"}, {"can_read"}, {"menu_access"}}
	if out.Total != 5 || !slices.Equal(out.Actions, want) {
		t.Errorf("permissions = %+v", out)
	}
	e.ok(e.do("GET", "/api/v1/permissions?limit=2&offset=4", "admin", nil), http.StatusOK, &out)
	if out.Total != 5 || len(out.Actions) != 1 || out.Actions[0].Name != "menu_access" {
		t.Errorf("permissions page = %+v", out)
	}
	e.problem(e.do("GET", "/api/v1/permissions", "op", nil), http.StatusForbidden, "")
}

// TestPutRolePermissions: the UI's role editor replaces a role's
// permissions (granting and revoking); a built-in role keeps its defaults.
func TestPutRolePermissions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ar := func(action, resource string) map[string]any {
		return map[string]any{"action": map[string]string{"name": action}, "resource": map[string]string{"name": resource}}
	}
	e.ok(e.do("POST", "/api/v1/roles", "admin", map[string]any{"name": "team", "actions": []any{
		ar("can_read", "DAG:etl"), ar("can_edit", "DAG:etl")}}), http.StatusOK, nil)

	var role roleJSON
	e.ok(e.do("PUT", "/api/v1/roles/team/permissions", "admin", map[string]any{"actions": []any{
		ar("can_read", "DAG:etl"), ar("can_read", "DAG:sales")}}), http.StatusOK, &role)
	got := []string{}
	for _, a := range role.Actions {
		got = append(got, a.Action.Name+" "+a.Resource.Name)
	}
	if !slices.Equal(got, []string{"can_read DAG:etl", "can_read DAG:sales"}) {
		t.Fatalf("after PUT, permissions = %v (can_edit on DAG:etl should be revoked)", got)
	}
	e.ok(e.do("PUT", "/api/v1/roles/team/permissions", "admin", map[string]any{"actions": []any{}}), http.StatusOK, &role)
	if len(role.Actions) != 0 {
		t.Fatalf("after PUT of none, permissions = %+v", role.Actions)
	}

	e.problem(e.do("PUT", "/api/v1/roles/team/permissions", "admin", map[string]any{}), http.StatusBadRequest, "actions")
	e.problem(e.do("PUT", "/api/v1/roles/team/permissions", "admin", map[string]any{"name": "x", "actions": []any{}}),
		http.StatusBadRequest, `unknown field "name"`)
	e.problem(e.do("PUT", "/api/v1/roles/team/permissions", "admin", map[string]any{"actions": []any{ar("can_fly", "DAGs")}}),
		http.StatusBadRequest, `The specified action: "can_fly" was not found`)
	e.problem(e.do("PUT", "/api/v1/roles/nope/permissions", "admin", map[string]any{"actions": []any{}}),
		http.StatusNotFound, `Role with name "nope" was not found`)
	e.problem(e.do("PUT", "/api/v1/roles/team/permissions", "viewer", map[string]any{"actions": []any{}}),
		http.StatusForbidden, "permission")

	// A built-in role may gain permissions but keeps its defaults.
	e.problem(e.do("PUT", "/api/v1/roles/Viewer/permissions", "admin", map[string]any{"actions": []any{ar("can_read", "DAGs")}}),
		http.StatusBadRequest, "Viewer is a built-in role")
	viewer, err := e.st.RoleGet(e.ctx, "Viewer")
	if err != nil {
		t.Fatal(err)
	}
	keep := []any{ar("can_read", "Variables")}
	for _, p := range viewer.Permissions {
		keep = append(keep, ar(p.Action, p.Resource))
	}
	e.ok(e.do("PUT", "/api/v1/roles/Viewer/permissions", "admin", map[string]any{"actions": keep}), http.StatusOK, &role)
	if len(role.Actions) != len(viewer.Permissions)+1 {
		t.Fatalf("Viewer has %d permissions, want %d", len(role.Actions), len(viewer.Permissions)+1)
	}
}

// TestPatchRolePermissions: the role editor's save grants and revokes only
// what it lists, against the version it was rendered from; a stale version
// is a 409 that changes nothing; a grant must name a known permission, a
// revocation need not (an imported role's unknown resource can go), and a
// built-in role keeps its defaults. Answers are checked against
// openapi.yaml.
func TestPatchRolePermissions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ar := func(action, resource string) map[string]any {
		return map[string]any{"action": map[string]string{"name": action}, "resource": map[string]string{"name": resource}}
	}
	odd := windsock.Permission{Action: auth.ActionRead, Resource: "Some Plugin View"}
	start := []windsock.Permission{{Action: auth.ActionRead, Resource: "DAG:etl"}, {Action: auth.ActionEdit, Resource: "DAG:etl"}, odd}
	if err := e.st.RoleCreate(e.ctx, &windsock.Role{Name: "team", Permissions: start}); err != nil {
		t.Fatal(err)
	}
	v0 := auth.RoleVersion(start)
	var out rolePermissionsEditedJSON
	e.ok(e.doChecked("PATCH", "/api/v1/roles/team/permissions", "admin", map[string]any{"version": v0,
		"grant": []any{ar("can_read", "DAG:sales")}, "revoke": []any{ar("can_edit", "DAG:etl"), ar(odd.Action, odd.Resource)}}),
		http.StatusOK, &out)
	want := []windsock.Permission{{Action: auth.ActionRead, Resource: "DAG:etl"}, {Action: auth.ActionRead, Resource: "DAG:sales"}}
	role, err := e.st.RoleGet(e.ctx, "team")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(role.Permissions, want) {
		t.Fatalf("after PATCH, permissions = %v, want %v", role.Permissions, want)
	}
	if out.Name != "team" || out.TotalEntries != 2 || out.Version != auth.RoleVersion(want) {
		t.Errorf("PATCH answered %+v, want team, 2, %s", out, auth.RoleVersion(want))
	}

	e.problem(e.doChecked("PATCH", "/api/v1/roles/team/permissions", "admin", map[string]any{"version": v0,
		"grant": []any{ar("can_edit", "DAG:sales")}}), http.StatusConflict, `role "team" was changed after this editor was opened`)
	e.problem(e.doChecked("PATCH", "/api/v1/roles/team/permissions", "admin", map[string]any{"version": out.Version,
		"grant": []any{ar("can_fly", "DAGs")}}), http.StatusBadRequest, `The specified action: "can_fly" was not found`)
	e.problem(e.doChecked("PATCH", "/api/v1/roles/team/permissions", "admin", map[string]any{
		"grant": []any{ar("can_edit", "DAG:etl")}, "revoke": []any{ar("can_edit", "DAG:etl")}}), http.StatusBadRequest, "both granted and revoked")
	e.problem(e.doChecked("PATCH", "/api/v1/roles/nope/permissions", "admin", map[string]any{}),
		http.StatusNotFound, `Role with name "nope" was not found`)
	e.problem(e.doChecked("PATCH", "/api/v1/roles/team/permissions", "viewer", map[string]any{}), http.StatusForbidden, "permission")
	e.problem(e.doChecked("PATCH", "/api/v1/roles/Viewer/permissions", "admin", map[string]any{
		"revoke": []any{ar("can_read", "DAGs")}}), http.StatusBadRequest, "Viewer is a built-in role")
	if role, err = e.st.RoleGet(e.ctx, "team"); err != nil || !slices.Equal(role.Permissions, want) {
		t.Fatalf("refused changes changed the role: %v (err %v)", role.Permissions, err)
	}
	// Without a version the change applies to the role as it is.
	e.ok(e.doChecked("PATCH", "/api/v1/roles/team/permissions", "admin", map[string]any{
		"revoke": []any{ar("can_read", "DAG:sales")}}), http.StatusOK, &out)
	if out.TotalEntries != 1 {
		t.Errorf("after revoking without a version: %+v", out)
	}
}
