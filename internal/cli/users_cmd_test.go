package cli_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestUsersCommands(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	out := h.ok(t, "users", "create", "-u", "ada", "-p", "s3cret-pw", "-r", "Op", "-f", "Ada", "-l", "Lovelace", "-e", "ada@example.com")
	if !strings.Contains(out, `User "ada" created with role "Op"`) {
		t.Errorf("users create printed %q", out)
	}
	out = h.ok(t, "users", "create", "-u", "bob", "--use-random-password", "-r", "Viewer", "-f", "Bob", "-l", "B", "-e", "bob@example.com")
	if !strings.Contains(out, "Password: ") || len(strings.Fields(strings.SplitN(out, "Password: ", 2)[1])[0]) != 20 {
		t.Errorf("random password not printed: %q", out)
	}
	h.fails(t, "Username `ada` already exists", "users", "create", "-u", "ada", "-p", "x", "-r", "Op", "-f", "A", "-l", "L", "-e", "other@example.com")
	h.fails(t, `Unknown roles: "Wizard"`, "users", "create", "-u", "cy", "-p", "x", "-r", "Wizard", "-f", "C", "-l", "Y", "-e", "cy@example.com")
	h.fails(t, "missing --email", "users", "create", "-u", "cy", "-p", "x", "-r", "Op", "-f", "C", "-l", "Y")
	h.fails(t, "exactly one of --password and --use-random-password", "users", "create", "-u", "cy", "-r", "Op", "-f", "C", "-l", "Y", "-e", "c@example.com")

	var users []struct {
		Username string   `json:"username"`
		Email    string   `json:"email"`
		Roles    []string `json:"roles"`
	}
	if err := json.Unmarshal([]byte(h.ok(t, "users", "list", "-o", "json")), &users); err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Username != "ada" || users[0].Roles[0] != "Op" || users[1].Email != "bob@example.com" {
		t.Fatalf("users list = %+v", users)
	}
	if table := h.ok(t, "users", "list"); !strings.Contains(table, "username") || !strings.Contains(table, "ada@example.com") {
		t.Errorf("users list table = %q", table)
	}

	if out := h.ok(t, "users", "add-role", "-u", "ada", "-r", "Viewer"); !strings.Contains(out, `User "ada" added to role "Viewer"`) {
		t.Errorf("add-role printed %q", out)
	}
	h.fails(t, `User "ada" is already a member of role "Viewer"`, "users", "add-role", "-u", "ada", "-r", "Viewer")
	h.fails(t, `role "Nope" not found`, "users", "add-role", "-u", "ada", "-r", "Nope")
	if out := h.ok(t, "users", "remove-role", "-u", "ada", "-r", "Op"); !strings.Contains(out, `User "ada" removed from role "Op"`) {
		t.Errorf("remove-role printed %q", out)
	}
	h.fails(t, `User "ada" is not a member of role "Op"`, "users", "remove-role", "-u", "ada", "-r", "Op")

	// API tokens: shown once, listed without the secret, revoked.
	out = h.ok(t, "users", "token", "create", "-u", "ada", "--name", "ci", "--expires-in", "720h")
	token := strings.SplitN(out, "\n", 2)[0]
	if !strings.HasPrefix(token, "wsk_") || len(token) != 47 {
		t.Fatalf("token create printed %q", out)
	}
	h.fails(t, "already has a token named", "users", "token", "create", "-u", "ada", "--name", "ci")
	list := h.ok(t, "users", "token", "list", "-u", "ada", "-o", "json")
	var tokens []struct {
		ID        string `json:"id"`
		Name      string `json:"name"`
		ExpiresAt string `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(list), &tokens); err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].Name != "ci" || tokens[0].ExpiresAt == "" || strings.Contains(list, token) {
		t.Fatalf("token list = %s", list)
	}
	h.ok(t, "users", "token", "revoke", "-u", "ada", "--id", "1")
	h.fails(t, "api token 1 not found", "users", "token", "revoke", "-u", "ada", "--id", "1")

	if out := h.ok(t, "users", "delete", "-u", "bob"); !strings.Contains(out, `User "bob" deleted`) {
		t.Errorf("users delete printed %q", out)
	}
	h.fails(t, `user "bob" not found`, "users", "delete", "-u", "bob")
}

func TestRolesCommands(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	var roles []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(h.ok(t, "roles", "list", "-o", "json")), &roles); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range roles {
		names = append(names, r.Name)
	}
	if strings.Join(names, ",") != "Admin,Op,Public,User,Viewer" {
		t.Fatalf("built-in roles = %v", names)
	}

	if out := h.ok(t, "roles", "create", "team-a", "team-b", "Admin"); !strings.Contains(out, "Added 3 role(s)") {
		t.Errorf("roles create printed %q", out)
	}
	out := h.ok(t, "roles", "add-perms", "team-a", "team-b", "-r", "DAG:etl,DAG:load", "-a", "can_read", "-a", "can_edit")
	if strings.Count(out, "Added ") != 8 || !strings.Contains(out, `Added "can_edit" on "DAG:load" to role "team-b"`) {
		t.Errorf("add-perms printed %q", out)
	}
	h.fails(t, `The specified action: "can_fly" was not found`, "roles", "add-perms", "team-a", "-r", "DAGs", "-a", "can_fly")
	h.fails(t, `The specified resource: "Moons" was not found`, "roles", "add-perms", "team-a", "-r", "Moons", "-a", "can_read")
	h.fails(t, `Role named "ghost" does not exist`, "roles", "add-perms", "ghost", "-r", "DAGs", "-a", "can_read")
	h.ok(t, "roles", "del-perms", "team-b", "-r", "DAG:load", "-a", "can_edit")

	var perms []struct {
		Name     string `json:"name"`
		Resource string `json:"resource"`
		Action   string `json:"action"`
	}
	if err := json.Unmarshal([]byte(h.ok(t, "roles", "list", "-p", "-o", "json")), &perms); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range perms {
		if strings.HasPrefix(p.Name, "team-") {
			got[p.Name+"|"+p.Resource] = p.Action
		}
	}
	want := map[string]string{
		"team-a|DAG:etl": "can_edit,can_read", "team-a|DAG:load": "can_edit,can_read",
		"team-b|DAG:etl": "can_edit,can_read", "team-b|DAG:load": "can_read",
	}
	if len(got) != len(want) {
		t.Fatalf("roles list -p = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	h.ok(t, "roles", "delete", "team-b")
	h.fails(t, `Role named "team-b" does not exist`, "roles", "delete", "team-b")
}
