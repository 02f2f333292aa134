package e2e

import (
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/windsock"
)

// TestRoleEditReachesItsUsers: an admin opens Security > Roles, edits a
// role in the permission grid (granting can_read on the test DAG, revoking
// a permission the role had) and saves; a user of that role then sees the
// DAG it could not see before.
func TestRoleEditReachesItsUsers(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	srv := startServer(t)
	ctx := t.Context()
	st := srv.env.Store
	if err := st.RoleCreate(ctx, &windsock.Role{Name: "team", Permissions: []windsock.Permission{
		{Action: auth.ActionRead, Resource: auth.ResourceWebsite},
		{Action: auth.ActionRead, Resource: auth.ResourceVariable},
	}}); err != nil {
		t.Fatal(err)
	}
	if err := st.UserCreate(ctx, &windsock.User{Username: "teamer", FirstName: "t", LastName: "Test",
		Email: "teamer@example.com", Password: passwordHash(), Active: true, Roles: []string{"team"}}); err != nil {
		t.Fatal(err)
	}
	row := `#dags-table tr[data-dag-id="` + dagID + `"]`

	tb := b.tab(t, srv.url)
	tb.login("teamer")
	tb.open("/", "main h1")
	if tb.exists(row) {
		t.Fatal("before the edit, the team's user already sees the DAG")
	}
	tb.run("log out", chromedp.Click("#nav-user summary", q), chromedp.Click("#logout", q), chromedp.WaitVisible("#login-form", q))

	tb.login("admin")
	tb.open("/roles/list", "#roles-table")
	tb.run("open the team's editor", chromedp.Click(`a[data-edit-role="team"]`, q), chromedp.WaitVisible("#role-permissions", q))
	grant := `input[type=checkbox][value="can_read:DAG:` + dagID + `"]`
	revoke := `input[type=checkbox][value="can_read:Variables"]`
	if tb.exists(grant+":checked") || !tb.exists(revoke+":checked") {
		t.Fatal("the editor does not show the team's permissions as stored")
	}
	tb.run("tick and untick, then save", chromedp.Click(grant, q), chromedp.Click(revoke, q),
		chromedp.Click(`#role-edit-form button[type=submit]`, q), chromedp.WaitVisible("#roles-table", q))

	role, err := st.RoleGet(ctx, "team")
	if err != nil {
		t.Fatal(err)
	}
	want := []windsock.Permission{{Action: auth.ActionRead, Resource: auth.DAGResource(dagID)}, {Action: auth.ActionRead, Resource: auth.ResourceWebsite}}
	if !slices.Equal(role.Permissions, want) {
		t.Errorf("team's permissions = %v, want %v", role.Permissions, want)
	}
	tb.screenshot(artifactDir(t), "roles_after_edit")

	// An editor opened before someone else saved is stale: its save is
	// refused with a message saying to reload, and changes nothing.
	tb.run("open the editor again", chromedp.Click(`a[data-edit-role="team"]`, q), chromedp.WaitVisible("#role-permissions", q))
	meanwhile := windsock.Permission{Action: auth.ActionRead, Resource: auth.ResourceConnection}
	if err := st.RolePermissionsAdd(ctx, "team", []windsock.Permission{meanwhile}); err != nil {
		t.Fatal(err)
	}
	tb.run("tick on the stale page and save", chromedp.Click(revoke, q), chromedp.Click(`#role-edit-form button[type=submit]`, q))
	tb.waitJS("the stale save's alert", `Array.from(document.querySelectorAll('[data-testid="alert"]')).some(function (a) { return /changed after this editor was opened.*reload the page/.test(a.textContent); })`)
	if role, err = st.RoleGet(ctx, "team"); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(role.Permissions, windsock.Permission{Action: auth.ActionRead, Resource: auth.ResourceVariable}) || len(role.Permissions) != 3 {
		t.Errorf("after the stale save, team's permissions = %v", role.Permissions)
	}
	tb.open("/roles/list", "#roles-table")

	tb.run("log out", chromedp.Click("#nav-user summary", q), chromedp.Click("#logout", q), chromedp.WaitVisible("#login-form", q))
	tb.login("teamer")
	tb.open("/", "#dags-table")
	if !tb.exists(row) {
		t.Errorf("after the edit, the team's user does not see %s\npage: %s", dagID, tb.describe())
	}
}
