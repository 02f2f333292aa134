package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
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
	contains(t, b, `data-api-method="PATCH" data-api-path="/api/v1/roles/etl-readers/permissions" data-changes-of="p"`,
		`value="can_read:DAG:etl" checked aria-label="can_read on DAG:etl"`,
		`value="can_read:DAG:secret" aria-label="can_read on DAG:secret"`,
		`value="can_edit:Variables" aria-label="can_edit on Variables"`)
	lacks(t, b, " disabled ")
	// A built-in role's defaults are locked.
	b = e.page("/roles/edit/Viewer", "admin", http.StatusOK)
	contains(t, b, `value="can_read:DAGs" checked disabled`, `value="can_read:Variables" aria-label`)

	// The limited user reads etl only; the editor's request swaps it.
	lacks(t, e.page("/", "limited", http.StatusOK), `data-dag-id="secret"`)
	c := e.session("admin")
	h := http.Header{"Content-Type": {"application/json"}, "X-Csrf-Token": {e.csrf(c)}}
	b = e.page("/roles/edit/etl-readers", "admin", http.StatusOK)
	body := roleChange(t, pageVersion(t, b), []string{"can_read:DAG:secret"}, []string{"can_read:DAG:etl"})
	if r := e.do(http.MethodPatch, "/api/v1/roles/etl-readers/permissions", "", body, http.Header{"Content-Type": {"application/json"}}, c); r.status != http.StatusForbidden {
		t.Fatalf("PATCH without the CSRF token: %d %s", r.status, r.body)
	}
	if r := e.do(http.MethodPatch, "/api/v1/roles/etl-readers/permissions", "", body, h, c); r.status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	b = e.page("/", "limited", http.StatusOK)
	contains(t, b, `data-dag-id="secret"`)
	lacks(t, b, `data-dag-id="etl"`)
}

// TestRoleEditLargeRole: a role with 20,000 permissions (per-DAG ones of
// 10,000 DAGs), whose whole set is over the API's 1 MiB body limit, is
// edited as the editor does it: the page gives the role's version, the
// save sends one grant and one revocation, and the other 19,999
// permissions stay. A save from a page rendered before another edit is
// refused with a message that says to reload, and changes nothing.
func TestRoleEditLargeRole(t *testing.T) {
	t.Parallel()
	e := setup(t)
	const dags = 10_000
	perms := make([]windsock.Permission, 0, 2*dags)
	for i := range dags {
		id := fmt.Sprintf("dag_%05d", i)
		perms = append(perms, windsock.Permission{Action: auth.ActionRead, Resource: auth.DAGResource(id)},
			windsock.Permission{Action: auth.ActionRead, Resource: auth.DAGRunResource(id)})
	}
	if err := e.st.RoleCreate(e.ctx, &windsock.Role{Name: "fleet", Permissions: perms}); err != nil {
		t.Fatal(err)
	}
	// The premise: the whole set, as the editor used to send it, does not
	// fit in a request.
	if whole := roleChange(t, "", permissionValues(perms), nil); len(whole) <= 1<<20 {
		t.Fatalf("the test's role is too small: its whole set is %d bytes", len(whole))
	}

	// The editor shows a page of resources at a time (it was 17 MB for
	// this role on one page), and finds any by name.
	page := e.page("/roles/edit/fleet", "admin", http.StatusOK)
	contains(t, page, "20000 of 100175 permissions granted", `value="can_read:DAG Run:dag_00042" checked`,
		`<span id="page-info">1&ndash;500 of 20035 (page 1 of 41)</span>`, `href="/roles/edit/fleet?page=2" rel="next"`)
	if len(page) > 1<<20 {
		t.Errorf("the editor's page is %d bytes", len(page))
	}
	found := e.page("/roles/edit/fleet?resource=DAG_0432", "admin", http.StatusOK)
	contains(t, found, `value="can_read:DAG:dag_04321" checked`, `value="can_edit:DAG Run:dag_04329" aria-label`, `1&ndash;20 of 20<`)
	lacks(t, found, `value="can_read:DAG:dag_00042"`)
	version := pageVersion(t, page)
	c := e.session("admin")
	h := http.Header{"Content-Type": {"application/json"}, "X-Csrf-Token": {e.csrf(c)}}
	added := windsock.Permission{Action: auth.ActionEdit, Resource: auth.DAGResource("dag_00007")}
	removed := perms[4321]
	body := roleChange(t, version, permissionValues([]windsock.Permission{added}), permissionValues([]windsock.Permission{removed}))
	r := e.do(http.MethodPatch, "/api/v1/roles/fleet/permissions", "", body, h, c)
	if r.status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", r.status, r.body)
	}
	var edited struct {
		Version      string `json:"version"`
		TotalEntries int    `json:"total_entries"`
	}
	if err := json.Unmarshal([]byte(r.body), &edited); err != nil {
		t.Fatal(err)
	}
	role, err := e.st.RoleGet(e.ctx, "fleet")
	if err != nil {
		t.Fatal(err)
	}
	want := append(slices.Clone(perms[:4321]), perms[4322:]...)
	want = append(want, added)
	if got := permissionSet(role.Permissions); len(role.Permissions) != len(want) || !allIn(want, got) {
		t.Fatalf("after the edit the role holds %d permissions (want %d, the added one %v, the removed one %v)",
			len(role.Permissions), len(want), got[added], got[removed])
	}
	if edited.TotalEntries != len(want) || edited.Version != auth.RoleVersion(role.Permissions) || edited.Version == version {
		t.Errorf("PATCH answered %+v; the role holds %d at version %s", edited, len(want), auth.RoleVersion(role.Permissions))
	}
	if got := pageVersion(t, e.page("/roles/edit/fleet", "admin", http.StatusOK)); got != edited.Version {
		t.Errorf("the editor renders version %s, the PATCH answered %s", got, edited.Version)
	}

	// The page rendered before that edit is stale now.
	stale := roleChange(t, version, []string{"can_read:DAG:dag_00001"}, nil)
	r = e.do(http.MethodPatch, "/api/v1/roles/fleet/permissions", "", stale, h, c)
	if r.status != http.StatusConflict || !strings.Contains(r.body, "was changed after this editor was opened") ||
		!strings.Contains(r.body, "reload the page") {
		t.Fatalf("a stale save: %d %s", r.status, r.body)
	}
	if after, err := e.st.RoleGet(e.ctx, "fleet"); err != nil || auth.RoleVersion(after.Permissions) != edited.Version {
		t.Errorf("the stale save changed the role (err %v)", err)
	}
}

// pageVersion is the role version the editor page was rendered with.
func pageVersion(t *testing.T, page string) string {
	t.Helper()
	m := regexp.MustCompile(`<input type="hidden" name="version" value="([0-9a-f]+)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatal("the role editor has no version field")
	}
	return m[1]
}

// roleChange is the body the editor's script sends: the version and the
// "action:resource" values ticked (grant) and unticked (revoke).
func roleChange(t *testing.T, version string, grant, revoke []string) string {
	t.Helper()
	list := func(values []string) []any {
		out := []any{}
		for _, v := range values {
			action, resource, _ := strings.Cut(v, ":")
			out = append(out, map[string]any{"action": map[string]string{"name": action}, "resource": map[string]string{"name": resource}})
		}
		return out
	}
	b, err := json.Marshal(map[string]any{"version": version, "grant": list(grant), "revoke": list(revoke)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func permissionValues(perms []windsock.Permission) []string {
	out := make([]string, len(perms))
	for i, p := range perms {
		out[i] = p.Action + ":" + p.Resource
	}
	return out
}

func allIn(perms []windsock.Permission, set map[windsock.Permission]bool) bool {
	for _, p := range perms {
		if !set[p] {
			return false
		}
	}
	return true
}
