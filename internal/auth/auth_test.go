package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// setup opens a fresh migrated store with the built-in roles.
func setup(t testing.TB) (context.Context, store.Store) {
	t.Helper()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := EnsureBuiltinRoles(ctx, st); err != nil {
		t.Fatal(err)
	}
	return ctx, st
}

// testHash is one bcrypt hash of "pw", made once: cost 12 is slow.
var testHash = sync.OnceValue(func() string {
	h, err := HashPassword("pw")
	if err != nil {
		panic(err)
	}
	return h
})

func putDAG(t *testing.T, ctx context.Context, st store.Store, dagID, hash string, access map[string][]string) {
	t.Helper()
	data, err := json.Marshal(windsock.DAG{DagID: dagID, AccessControl: access})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SerializedDAGUpsert(ctx, &windsock.SerializedDAG{DagID: dagID, Fileloc: "/dags/" + dagID + ".yaml",
		Data: data, DagHash: hash, LastUpdated: time.Now()}); err != nil {
		t.Fatal(err)
	}
}

func TestEnsureBuiltinRoles(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	extra := windsock.Permission{Action: ActionRead, Resource: ResourceVariable}
	if err := st.RolePermissionsAdd(ctx, RoleViewer, []windsock.Permission{extra}); err != nil {
		t.Fatal(err)
	}
	if err := EnsureBuiltinRoles(ctx, st); err != nil {
		t.Fatalf("second EnsureBuiltinRoles: %v", err)
	}
	all, err := st.RolePermissionsList(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, role := range BuiltinRoles() {
		got := all[role.Name]
		if got == nil {
			t.Fatalf("role %s missing", role.Name)
		}
		for _, p := range role.Permissions {
			if !slices.Contains(got, p) {
				t.Errorf("role %s lacks %v", role.Name, p)
			}
		}
	}
	if len(all[RolePublic]) != 0 {
		t.Errorf("Public has permissions %v", all[RolePublic])
	}
	if !slices.Contains(all[RoleViewer], extra) {
		t.Error("EnsureBuiltinRoles removed a permission an operator added")
	}
	// Each role has everything the role below it has.
	order := []string{RoleViewer, RoleUser, RoleOp, RoleAdmin}
	for i := 1; i < len(order); i++ {
		for _, p := range all[order[i-1]] {
			if p != extra && !slices.Contains(all[order[i]], p) {
				t.Errorf("%s has %v but %s does not", order[i-1], p, order[i])
			}
		}
	}
}

func TestCheckPermission(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		action, resource string
		ok               bool
	}{
		{ActionRead, ResourceDAG, true},
		{ActionEdit, "DAG:etl", true},
		{ActionRead, "DAG Run:etl", true},
		{ActionRead, "DAG:", false},
		{"can_fly", ResourceDAG, false},
		{ActionRead, "Spaceships", false},
	} {
		err := CheckPermission(windsock.Permission{Action: tc.action, Resource: tc.resource})
		if (err == nil) != tc.ok {
			t.Errorf("CheckPermission(%s, %s) = %v, want ok %v", tc.action, tc.resource, err, tc.ok)
		}
		if err != nil && windsock.ErrorCode(err) != windsock.EINVALID {
			t.Errorf("CheckPermission(%s, %s) code = %s", tc.action, tc.resource, windsock.ErrorCode(err))
		}
	}
}

func TestParseBackends(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		names []string
		want  Backends
	}{
		{[]string{BackendSession, BackendBasicAuth}, Backends{Basic: true, Session: true}},
		{[]string{" " + BackendDefault + " "}, Backends{Disabled: true}},
		{[]string{BackendDenyAll}, Backends{DenyAll: true}},
		{nil, Backends{}},
		{[]string{"airflow.providers.google.common.auth_backend.google_openid"}, Backends{}},
	} {
		if got := ParseBackends(tc.names); got != tc.want {
			t.Errorf("ParseBackends(%q) = %+v, want %+v", tc.names, got, tc.want)
		}
		warn := StartupWarning(tc.names)
		if (warn != "") != tc.want.Disabled {
			t.Errorf("StartupWarning(%q) = %q", tc.names, warn)
		}
	}
}

func TestReadableDAGsCustomRole(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	putDAG(t, ctx, st, "a", "h1", nil)
	putDAG(t, ctx, st, "b", "h1", map[string][]string{"other": {"can_read"}})
	putDAG(t, ctx, st, "c", "h1", map[string][]string{"team": {"can_dag_read"}})
	putDAG(t, ctx, st, "d", "h1", nil)
	if err := st.RoleCreate(ctx, &windsock.Role{Name: "team", Permissions: []windsock.Permission{
		{Action: ActionRead, Resource: DAGResource("a")}, {Action: ActionEdit, Resource: DAGResource("a")},
		{Action: ActionRead, Resource: ResourceDAGRun},
	}}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	az := &Authorizer{Store: st, Clock: func() time.Time { return now }}
	team := &windsock.User{Username: "t", Roles: []string{"team"}}

	all, ids := az.ReadableDAGs(ctx, team)
	if all || len(ids) != 2 || !ids["a"] || !ids["c"] {
		t.Fatalf("ReadableDAGs(team) = %v, %v; want exactly a and c", all, ids)
	}
	for _, tc := range []struct {
		action, dag string
		want        bool
	}{
		{ActionRead, "a", true}, {ActionEdit, "a", true}, {ActionDelete, "a", false},
		{ActionRead, "c", true}, {ActionEdit, "c", false},
		{ActionRead, "b", false}, {ActionRead, "d", false}, {ActionRead, "missing", false},
	} {
		if got := az.CanDAG(ctx, team, tc.action, tc.dag); got != tc.want {
			t.Errorf("CanDAG(team, %s, %s) = %v, want %v", tc.action, tc.dag, got, tc.want)
		}
	}
	if !az.CanDAGEntity(ctx, team, ActionRead, ResourceDAGRun, "a") || az.CanDAGEntity(ctx, team, ActionRead, ResourceDAGRun, "b") {
		t.Error("CanDAGEntity(read, DAG Runs) should follow DAG access")
	}
	if az.CanDAGEntity(ctx, team, ActionCreate, ResourceDAGRun, "a") {
		t.Error("team may not create runs without can_create on DAG Runs")
	}

	for _, role := range []string{RoleViewer, RoleAdmin} {
		all, _ := az.ReadableDAGs(ctx, &windsock.User{Roles: []string{role}})
		if !all {
			t.Errorf("%s cannot read all DAGs", role)
		}
	}
	if all, ids := az.ReadableDAGs(ctx, &windsock.User{Roles: []string{RolePublic}}); all || len(ids) != 0 {
		t.Errorf("Public reads %v %v", all, ids)
	}
	if az.CanDAG(ctx, nil, ActionRead, "a") {
		t.Error("nil user can read")
	}

	// A new definition of c without access_control: after the TTL the
	// grant is gone, and only c is read again.
	putDAG(t, ctx, st, "c", "h2", nil)
	if _, ids := az.ReadableDAGs(ctx, team); !ids["c"] {
		t.Error("a change showed before the TTL ran out; the snapshot should be reused")
	}
	now = now.Add(DefaultAuthorizerTTL)
	if _, ids := az.ReadableDAGs(ctx, team); ids["c"] || !ids["a"] {
		t.Errorf("after the TTL, ReadableDAGs = %v; want only a", ids)
	}
	if err := st.RolePermissionsAdd(ctx, "team", []windsock.Permission{{Action: ActionRead, Resource: DAGResource("d")}}); err != nil {
		t.Fatal(err)
	}
	az.Invalidate()
	if _, ids := az.ReadableDAGs(ctx, team); !ids["d"] {
		t.Errorf("after Invalidate, a new grant is not seen: %v", ids)
	}
}

func TestAuthenticatorBasic(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	now := time.Now()
	for _, name := range []string{"alice", "idle"} {
		if err := st.UserCreate(ctx, &windsock.User{Username: name, FirstName: "A", LastName: "B",
			Password: testHash(), Active: name == "alice", Roles: []string{RoleViewer}}); err != nil {
			t.Fatal(err)
		}
	}
	a := &Authenticator{Store: st, Backends: Backends{Basic: true}, Clock: func() time.Time { return now }}
	u, err := a.Login(ctx, "alice", "pw", testAddr)
	if err != nil || u.Username != "alice" || u.Password != "" || !slices.Equal(u.Roles, []string{RoleViewer}) {
		t.Fatalf("Login(alice) = %+v, %v", u, err)
	}
	if len(a.cache) != 1 {
		t.Fatalf("cache has %d entries after a success, want 1", len(a.cache))
	}
	if _, err := a.Login(ctx, "alice", "pw", testAddr); err != nil {
		t.Fatalf("cached Login: %v", err)
	}
	for _, tc := range []struct{ user, pw string }{{"alice", "wrong"}, {"idle", "pw"}, {"nobody", "pw"}} {
		if _, err := a.Login(ctx, tc.user, tc.pw, testAddr); windsock.ErrorCode(err) != windsock.EUNAUTH {
			t.Errorf("Login(%s, %s) = %v, want EUNAUTH", tc.user, tc.pw, err)
		}
	}
	if len(a.cache) != 1 {
		t.Errorf("failures were cached: %d entries", len(a.cache))
	}
	// A new password voids the cached verification of the old one.
	newHash, err := HashPassword("pw2")
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UserSetPassword(ctx, "alice", newHash); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(ctx, "alice", "pw", testAddr); windsock.ErrorCode(err) != windsock.EUNAUTH {
		t.Errorf("old cached password still accepted: %v", err)
	}
	// Entries expire: after the TTL, bcrypt runs again.
	if _, err := a.Login(ctx, "alice", "pw2", testAddr); err != nil {
		t.Fatal(err)
	}
	if !a.cached(a.loginKey("alice", "pw2"), newHash) {
		t.Fatal("a verified password is not cached")
	}
	now = now.Add(DefaultLoginCacheTTL)
	if a.cached(a.loginKey("alice", "pw2"), newHash) {
		t.Error("a cache entry outlived its TTL")
	}

	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.SetBasicAuth("alice", "pw2")
	if u, err := a.Authenticate(r); err != nil || u.Username != "alice" {
		t.Errorf("Authenticate(basic) = %v, %v", u, err)
	}
	if u, err := a.Authenticate(httptest.NewRequest(http.MethodGet, "/", nil)); u != nil || err != nil {
		t.Errorf("Authenticate(no credentials) = %v, %v; want nil, nil", u, err)
	}
	noBasic := &Authenticator{Store: st, Backends: Backends{Session: true}}
	if _, err := noBasic.Authenticate(r); windsock.ErrorCode(err) != windsock.EUNAUTH {
		t.Errorf("basic accepted without the basic_auth backend: %v", err)
	}
}

func TestAPITokens(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	if err := st.UserCreate(ctx, &windsock.User{Username: "ci", FirstName: "C", LastName: "I", Active: true,
		Roles: []string{RoleUser}}); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	token, row, err := CreateAPIToken(ctx, st, "ci", "deploy", nil, now)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(token, tokenPrefix) || len(token) != len(tokenPrefix)+43 || row.TokenHash != HashAPIToken(token) || strings.Contains(row.TokenHash, token) {
		t.Fatalf("token %q, row %+v", token, row)
	}
	other, _, err := NewAPIToken()
	if err != nil || other == token {
		t.Fatalf("NewAPIToken gave a repeat: %v", err)
	}
	a := &Authenticator{Store: st, Clock: func() time.Time { return now }}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	u, err := a.Authenticate(r)
	if err != nil || u.Username != "ci" {
		t.Fatalf("Authenticate(bearer) = %v, %v", u, err)
	}
	list, err := st.APITokenList(ctx, u.ID)
	if err != nil || len(list) != 1 || list[0].LastUsedAt == nil || !list[0].LastUsedAt.Equal(now) {
		t.Fatalf("token use not recorded: %+v, %v", list, err)
	}
	if _, err := a.Token(ctx, token+"x"); windsock.ErrorCode(err) != windsock.EUNAUTH {
		t.Errorf("altered token: %v", err)
	}

	exp := now.Add(time.Hour)
	short, _, err := CreateAPIToken(ctx, st, "ci", "short", &exp, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Token(ctx, short); err != nil {
		t.Errorf("fresh token refused: %v", err)
	}
	now = exp
	if _, err := a.Token(ctx, short); windsock.ErrorCode(err) != windsock.EUNAUTH {
		t.Errorf("expired token accepted: %v", err)
	}
	if _, _, err := CreateAPIToken(ctx, st, "ci", "deploy", nil, now); windsock.ErrorCode(err) != windsock.ECONFLICT {
		t.Errorf("duplicate name: %v", err)
	}
	if _, _, err := CreateAPIToken(ctx, st, "ci", " ", nil, now); windsock.ErrorCode(err) != windsock.EINVALID {
		t.Errorf("empty name: %v", err)
	}
	if _, _, err := CreateAPIToken(ctx, st, "ci", "past", &exp, now); windsock.ErrorCode(err) != windsock.EINVALID {
		t.Errorf("expiry in the past: %v", err)
	}
	if err := st.APITokenDelete(ctx, u.ID, row.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Token(ctx, token); windsock.ErrorCode(err) != windsock.EUNAUTH {
		t.Errorf("revoked token accepted: %v", err)
	}
}

func TestCreateUser(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	now := time.Now()
	u, err := CreateUser(ctx, st, NewUser{Username: "x", FirstName: "X", LastName: "Y", Email: "x@example.com"}, now)
	if err != nil || !slices.Equal(u.Roles, []string{RolePublic}) || u.Password != "" {
		t.Fatalf("CreateUser without roles = %+v, %v; want Public", u, err)
	}
	for _, tc := range []struct {
		nu   NewUser
		code string
		msg  string
	}{
		{NewUser{Username: "x", Email: "other@example.com"}, windsock.ECONFLICT, "Username `x` already exists"},
		{NewUser{Username: "z", Email: "x@example.com"}, windsock.ECONFLICT, "email `x@example.com` is already taken"},
		{NewUser{Username: "z", Roles: []string{"Op", "Nope", "Gone"}}, windsock.EINVALID, `Unknown roles: "Nope", "Gone"`},
		{NewUser{Username: ""}, windsock.EINVALID, "username"},
	} {
		_, err := CreateUser(ctx, st, tc.nu, now)
		if windsock.ErrorCode(err) != tc.code || !strings.Contains(windsock.ErrorMessage(err), tc.msg) {
			t.Errorf("CreateUser(%+v) = %v, want %s containing %q", tc.nu, err, tc.code, tc.msg)
		}
	}
}

// TestConcurrentChecks runs checks, invalidations and logins together;
// run with -race.
func TestConcurrentChecks(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	putDAG(t, ctx, st, "a", "h1", map[string][]string{RoleViewer: {ActionEdit}})
	if err := st.UserCreate(ctx, &windsock.User{Username: "v", FirstName: "V", LastName: "W",
		Password: testHash(), Active: true, Roles: []string{RoleViewer}}); err != nil {
		t.Fatal(err)
	}
	az := &Authorizer{Store: st}
	an := &Authenticator{Store: st, Backends: Backends{Basic: true}}
	viewer := &windsock.User{Roles: []string{RoleViewer}}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 20 {
				if !az.CanDAG(ctx, viewer, ActionEdit, "a") || az.Can(ctx, viewer, ActionCreate, ResourceRole) {
					t.Error("wrong answer under concurrency")
					return
				}
				if i%4 == 0 {
					az.Invalidate()
				}
			}
			if _, err := an.Login(ctx, "v", "pw", testAddr); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
}
