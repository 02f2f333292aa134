package web

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/windsock"
)

// TestRoleEdit: the role editor opens only for who may edit roles; a role
// that may only read roles sees the list without edit controls; what the
// editor sends (PUT .../permissions with the session's CSRF token)
// replaces the role's permissions, and the role's users feel it at once.
func TestRoleEdit(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.addDAG("etl", false)
	e.addDAG("secret", false)
	if err := e.st.RoleCreate(e.ctx, &windsock.Role{Name: "role-readers", Permissions: []windsock.Permission{
		{Action: auth.ActionMenuAccess, Resource: auth.ResourceAdminMenu},
		{Action: auth.ActionRead, Resource: auth.ResourceRole},
	}}); err != nil {
		t.Fatal(err)
	}
	reader := &windsock.User{Username: "role-reader", FirstName: "r", LastName: "r", Email: "rr@example.com",
		Password: passwordHash(), Active: true, Roles: []string{"role-readers"}}
	if err := e.st.UserCreate(e.ctx, reader); err != nil {
		t.Fatal(err)
	}
	e.users[reader.Username] = reader

	// Reading roles is not editing them.
	b := e.page("/roles/list", "role-reader", http.StatusOK)
	contains(t, b, `data-role="etl-readers"`)
	lacks(t, b, `data-edit-role=`, `href="/roles/edit/`, `id="role-add-form"`, `data-confirm="Delete role`)
	e.page("/roles/edit/etl-readers", "role-reader", http.StatusForbidden)
	e.page("/roles/edit/etl-readers", "op", http.StatusForbidden)
	e.page("/roles/edit/etl-readers", "limited", http.StatusForbidden)

	b = e.page("/roles/list", "admin", http.StatusOK)
	contains(t, b, `href="/roles/edit/etl-readers" data-edit-role="etl-readers"`)
	e.page("/roles/edit/nope", "admin", http.StatusNotFound)
	b = e.page("/roles/edit/etl-readers", "admin", http.StatusOK)
	contains(t, b, `data-api-method="PUT" data-api-path="/api/v1/roles/etl-readers/permissions"`,
		`value="can_read:DAG:etl" checked aria-label="can_read on DAG:etl"`,
		`value="can_read:DAG:secret" aria-label="can_read on DAG:secret"`,
		`value="can_edit:Variables" aria-label="can_edit on Variables"`)
	lacks(t, b, " disabled ")
	// A built-in role's defaults are locked (and still sent).
	b = e.page("/roles/edit/Viewer", "admin", http.StatusOK)
	contains(t, b, `<input type="hidden" name="actions" data-type="permission" value="can_read:DAGs">`,
		`value="can_read:DAGs" checked disabled`, `value="can_read:Variables" aria-label`)

	// The limited user reads etl only; the editor's request swaps it.
	lacks(t, e.page("/", "limited", http.StatusOK), `data-dag-id="secret"`)
	c := e.session("admin")
	h := http.Header{"Content-Type": {"application/json"}, "X-Csrf-Token": {e.csrf(c)}}
	body, _ := json.Marshal(map[string]any{"actions": []any{
		map[string]any{"action": map[string]string{"name": "can_read"}, "resource": map[string]string{"name": "DAG:secret"}},
	}})
	if r := e.do(http.MethodPut, "/api/v1/roles/etl-readers/permissions", "", string(body), http.Header{"Content-Type": {"application/json"}}, c); r.status != http.StatusForbidden {
		t.Fatalf("PUT without the CSRF token: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodPut, "/api/v1/roles/etl-readers/permissions", "", string(body), h, c); r.status != http.StatusOK {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	b = e.page("/", "limited", http.StatusOK)
	contains(t, b, `data-dag-id="secret"`)
	lacks(t, b, `data-dag-id="etl"`)
}
