package api

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/store"
)

func TestUsers(t *testing.T) {
	t.Parallel()
	e := setup(t)
	newUser := map[string]any{"username": "dana", "email": "dana@example.com", "first_name": "Dana",
		"last_name": "Scully", "password": "truth-out-there", "roles": []map[string]string{{"name": "Op"}, {"name": "Viewer"}}}
	r := e.do("POST", "/api/v1/users", "admin", newUser)
	var u userJSON
	e.ok(r, http.StatusOK, &u)
	if u.Username != "dana" || !u.Active || !slices.Equal(roleNames(u.Roles), []string{"Op", "Viewer"}) || u.CreatedOn == nil {
		t.Fatalf("created user = %+v", u)
	}
	if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "$2a$") {
		t.Fatalf("response leaks the password: %s", r.body)
	}
	// The new user can log in with the password given.
	e.ok(e.doWith("GET", "/api/v1/version", nil, func(r *http.Request) { r.SetBasicAuth("dana", "truth-out-there") }), http.StatusOK, nil)

	e.problem(e.do("POST", "/api/v1/users", "admin", newUser), http.StatusConflict, "Username `dana` already exists")
	newUser["username"] = "fox"
	e.problem(e.do("POST", "/api/v1/users", "admin", newUser), http.StatusConflict, "The email `dana@example.com` is already taken")
	newUser["email"] = "fox@example.com"
	newUser["roles"] = []map[string]string{{"name": "Aliens"}}
	e.problem(e.do("POST", "/api/v1/users", "admin", newUser), http.StatusBadRequest, `Unknown roles: "Aliens"`)
	e.problem(e.do("POST", "/api/v1/users", "admin", map[string]any{"username": "fox"}), http.StatusBadRequest, "missing required fields: email, first_name, last_name")
	e.problem(e.do("POST", "/api/v1/users", "admin", `{"username": "fox", "active": true}`), http.StatusBadRequest, `unknown field "active"`)
	e.problem(e.do("POST", "/api/v1/users", "admin", `{"username": "fox", "roles": ["Op"]}`), http.StatusBadRequest, `field "roles": expected object, got string`)
	e.problem(e.do("POST", "/api/v1/users", "op", newUser), http.StatusForbidden, "")

	var list struct {
		Users []userJSON `json:"users"`
		Total int        `json:"total_entries"`
	}
	r = e.do("GET", "/api/v1/users?order_by=-username&limit=2", "admin", nil)
	e.ok(r, http.StatusOK, &list)
	if list.Total != 6 || len(list.Users) != 2 || list.Users[0].Username != "viewer" || list.Users[1].Username != "user" {
		t.Fatalf("users = %+v", list)
	}
	if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "$2a$") {
		t.Fatalf("list leaks passwords: %s", r.body)
	}
	e.ok(e.do("GET", "/api/v1/users?order_by=user_id", "admin", nil), http.StatusOK, &list)
	if list.Users[len(list.Users)-1].Username != "dana" {
		t.Errorf("order_by=user_id: last is %s", list.Users[len(list.Users)-1].Username)
	}
	e.problem(e.do("GET", "/api/v1/users?order_by=password", "admin", nil), http.StatusBadRequest, "order_by must be one of")

	e.ok(e.do("GET", "/api/v1/users/dana", "admin", nil), http.StatusOK, &u)
	e.problem(e.do("GET", "/api/v1/users/nobody", "admin", nil), http.StatusNotFound, "The User with username `nobody` was not found")

	// PATCH: rename, new roles and password; update_mask picks fields.
	patch := map[string]any{"username": "dana2", "first_name": "D", "password": "new-pass",
		"roles": []map[string]string{{"name": "User"}}}
	e.ok(e.do("PATCH", "/api/v1/users/dana?update_mask=first_name", "admin", patch), http.StatusOK, &u)
	if u.Username != "dana" || u.FirstName != "D" || !slices.Equal(roleNames(u.Roles), []string{"Op", "Viewer"}) {
		t.Fatalf("after masked PATCH = %+v", u)
	}
	e.ok(e.do("PATCH", "/api/v1/users/dana", "admin", patch), http.StatusOK, &u)
	if u.Username != "dana2" || !slices.Equal(roleNames(u.Roles), []string{"User"}) {
		t.Fatalf("after PATCH = %+v", u)
	}
	e.problem(e.doWith("GET", "/api/v1/version", nil, func(r *http.Request) { r.SetBasicAuth("dana2", "truth-out-there") }), http.StatusUnauthorized, "")
	e.ok(e.doWith("GET", "/api/v1/version", nil, func(r *http.Request) { r.SetBasicAuth("dana2", "new-pass") }), http.StatusOK, nil)
	e.problem(e.do("PATCH", "/api/v1/users/dana2", "admin", map[string]any{"username": "admin"}), http.StatusConflict, "The username `admin` already exists")
	e.problem(e.do("PATCH", "/api/v1/users/dana2", "admin", map[string]any{"email": "admin@example.com"}), http.StatusConflict, "The email `admin@example.com` already exists")
	e.problem(e.do("PATCH", "/api/v1/users/dana2", "admin", map[string]any{"roles": []map[string]string{{"name": "Nope"}}}), http.StatusBadRequest, "Unknown roles")
	e.problem(e.do("PATCH", "/api/v1/users/dana2?update_mask=email", "admin", map[string]any{"first_name": "x"}), http.StatusBadRequest, "Unknown update masks")
	e.problem(e.do("PATCH", "/api/v1/users/nobody", "admin", map[string]any{"first_name": "x"}), http.StatusNotFound, "was not found")

	e.ok(e.do("DELETE", "/api/v1/users/dana2", "admin", nil), http.StatusNoContent, nil)
	e.problem(e.do("DELETE", "/api/v1/users/dana2", "admin", nil), http.StatusNotFound, "was not found")

	// The password given never reaches the event log.
	events, err := e.st.EventLogList(e.ctx, &store.EventLogListParams{Event: "api.post_user"})
	if err != nil || len(events) != 1 {
		t.Fatalf("post_user events = %v, %v", events, err)
	}
	if strings.Contains(events[0].Extra, "truth-out-there") || !strings.Contains(events[0].Extra, `"password":"***"`) {
		t.Errorf("event extra = %s", events[0].Extra)
	}
}
