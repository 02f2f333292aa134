package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store/sqlstore"
	"github.com/windsock/windsock/internal/windsock"
)

// BenchmarkPutRolePermissions is PUT /roles/{name}/permissions of a role's
// 10,000 per-DAG permissions with the same set: no row changes, so what
// it measures is decoding the body, checking each permission (once since
// the check moved to auth alone; twice before) and reading the role.
func BenchmarkPutRolePermissions(b *testing.B) {
	ctx := b.Context()
	st := benchStore(b)
	var perms []windsock.Permission
	var actions []actionResource
	for i := range 5000 {
		for _, res := range []string{auth.DAGResource(fmt.Sprint("dag_", i)), auth.DAGRunResource(fmt.Sprint("dag_", i))} {
			perms = append(perms, windsock.Permission{Action: auth.ActionRead, Resource: res})
			actions = append(actions, actionResource{Action: named{auth.ActionRead}, Resource: named{res}})
		}
	}
	if err := st.RoleCreate(ctx, &windsock.Role{Name: "fleet", Permissions: perms}); err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]any{"actions": actions})
	if err != nil {
		b.Fatal(err)
	}
	cfg := config.Default(b.TempDir())
	cfg.Webserver.SecretKey = "bench-secret"
	h := (&Server{Store: st, Config: cfg, Version: "1.2.3", HealthThreshold: 30 * time.Second}).Handler()
	for b.Loop() {
		req := httptest.NewRequestWithContext(ctx, http.MethodPut, "/api/v1/roles/fleet/permissions", bytes.NewReader(body))
		req.SetBasicAuth("admin", password)
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("PUT: %d %s", rec.Code, rec.Body)
		}
	}
}

// benchStore is rolesStore with an Admin user "admin", for benchmarks
// that serve requests.
func benchStore(b *testing.B) *sqlstore.Store {
	st := rolesStore(b)
	if err := st.UserCreate(b.Context(), &windsock.User{Username: "admin", FirstName: "A", LastName: "B",
		Password: passwordHash(), Active: true, Roles: []string{auth.RoleAdmin}}); err != nil {
		b.Fatal(err)
	}
	return st
}
