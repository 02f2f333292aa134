package api

import (
	"net/http"
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/config"
)

// TestAuthorizationMatrix calls every endpoint family as each built-in
// role and checks that exactly the roles Airflow's defaults allow get past
// authorization (any status but 403).
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.Webserver.ExposeConfig = true })
	all := []string{"admin", "op", "user", "viewer", "public"}
	for _, tc := range []struct {
		name, method, path string
		body               func(user string) any
		allowed            []string
	}{
		{"version", "GET", "/api/v1/version", nil, all},
		{"health", "GET", "/api/v1/health", nil, all},
		{"config", "GET", "/api/v1/config", nil, []string{"admin", "op"}},
		{"config value", "GET", "/api/v1/config/section/core/option/dags_folder", nil, []string{"admin", "op"}},
		{"list roles", "GET", "/api/v1/roles", nil, []string{"admin"}},
		{"get role", "GET", "/api/v1/roles/Viewer", nil, []string{"admin"}},
		{"create role", "POST", "/api/v1/roles", func(u string) any { return map[string]any{"name": "m-" + u} }, []string{"admin"}},
		{"patch role", "PATCH", "/api/v1/roles/ghost", func(string) any { return map[string]any{"name": "x"} }, []string{"admin"}},
		{"delete role", "DELETE", "/api/v1/roles/ghost", nil, []string{"admin"}},
		{"permissions", "GET", "/api/v1/permissions", nil, []string{"admin"}},
		{"list users", "GET", "/api/v1/users", nil, []string{"admin"}},
		{"get user", "GET", "/api/v1/users/viewer", nil, []string{"admin"}},
		{"create user", "POST", "/api/v1/users", func(u string) any {
			return map[string]any{"username": "m-" + u, "email": "m-" + u + "@example.com", "first_name": "M", "last_name": "X"}
		}, []string{"admin"}},
		{"patch user", "PATCH", "/api/v1/users/ghost", func(string) any { return map[string]any{"first_name": "x"} }, []string{"admin"}},
		{"delete user", "DELETE", "/api/v1/users/ghost", nil, []string{"admin"}},
		{"list variables", "GET", "/api/v1/variables", nil, []string{"admin", "op"}},
		{"create variable", "POST", "/api/v1/variables", func(u string) any { return map[string]any{"key": "k-" + u, "value": "v"} }, []string{"admin", "op"}},
		{"delete variable", "DELETE", "/api/v1/variables/ghost", nil, []string{"admin", "op"}},
		{"list connections", "GET", "/api/v1/connections", nil, []string{"admin", "op"}},
		{"create connection", "POST", "/api/v1/connections", func(u string) any { return map[string]any{"connection_id": "c-" + u, "conn_type": "http"} }, []string{"admin", "op"}},
		{"list pools", "GET", "/api/v1/pools", nil, []string{"admin", "op", "user", "viewer"}},
		{"create pool", "POST", "/api/v1/pools", func(u string) any { return map[string]any{"name": "p-" + u, "slots": 1} }, []string{"admin", "op"}},
		{"delete pool", "DELETE", "/api/v1/pools/ghost", nil, []string{"admin", "op"}},
		{"event logs", "GET", "/api/v1/eventLogs", nil, []string{"admin", "op", "user", "viewer"}},
		{"own tokens", "GET", "/api/v1/users/{self}/tokens", nil, all},
		{"others' tokens", "GET", "/api/v1/users/public/tokens", nil, []string{"admin", "public"}},
	} {
		for _, user := range all {
			path := tc.path
			if path == "/api/v1/users/{self}/tokens" {
				path = "/api/v1/users/" + user + "/tokens"
			}
			var body any
			if tc.body != nil {
				body = tc.body(user)
			}
			r := e.doChecked(tc.method, path, user, body)
			want := slices.Contains(tc.allowed, user)
			if got := r.status != http.StatusForbidden; got != want || r.status == http.StatusUnauthorized {
				t.Errorf("%s as %s: status %d, allowed %v; body %s", tc.name, user, r.status, want, r.body)
			}
		}
	}
}
