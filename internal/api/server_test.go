package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/store/sqlstore"
	"github.com/windsock/windsock/internal/windsock"
)

// password is every test user's password; its bcrypt hash is made once,
// at bcrypt's lowest cost: every new server checks it once per user, and
// the production cost (12) under the race detector made the API tests
// minutes long. Checking reads the cost from the hash.
const password = "pw-secret"

var passwordHash = sync.OnceValue(func() string {
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		panic(err)
	}
	return string(h)
})

// testUsers maps each test user to its role: one per built-in role.
var testUsers = map[string]string{
	"admin": auth.RoleAdmin, "op": auth.RoleOp, "user": auth.RoleUser,
	"viewer": auth.RoleViewer, "public": auth.RolePublic,
}

// env is a real server over a real SQLite store.
type env struct {
	t   *testing.T
	ctx context.Context
	st  store.Store
	srv *httptest.Server
	cfg *config.Config
	api *Server
}

// rolesStore is a migrated SQLite store with the built-in roles, closed
// when tb ends.
func rolesStore(tb testing.TB) *sqlstore.Store {
	ctx := tb.Context()
	st, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "windsock.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := auth.EnsureBuiltinRoles(ctx, st); err != nil {
		tb.Fatal(err)
	}
	return st
}

// setup starts a server with the built-in roles and one user per role;
// configure may change the config first.
func setup(t *testing.T, configure ...func(*config.Config)) *env {
	t.Helper()
	ctx := t.Context()
	st := rolesStore(t)
	for name, role := range testUsers {
		if err := st.UserCreate(ctx, &windsock.User{Username: name, FirstName: name, LastName: "Test",
			Email: name + "@example.com", Password: passwordHash(), Active: true, Roles: []string{role}}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := config.Default(t.TempDir())
	cfg.Webserver.SecretKey = "test-secret"
	for _, f := range configure {
		f(cfg)
	}
	s := &Server{Store: st, Config: cfg, Version: "1.2.3", HealthThreshold: 30 * time.Second}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return &env{t: t, ctx: ctx, st: st, srv: srv, cfg: cfg, api: s}
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request as user (basic auth; "" for none) and checks the
// answer against openapi.yaml (see doChecked). body is sent as is when it
// is a string, JSON-encoded otherwise.
func (e *env) do(method, path, user string, body any) response {
	e.t.Helper()
	return e.doChecked(method, path, user, body)
}

// doRaw is do without the openapi.yaml check, for requests the document
// does not describe on purpose (unknown routes, /health outside /api/v1,
// forced internal errors).
func (e *env) doRaw(method, path, user string, body any) response {
	e.t.Helper()
	return e.doWith(method, path, body, func(r *http.Request) {
		if user != "" {
			r.SetBasicAuth(user, password)
		}
	})
}

func (e *env) doWith(method, path string, body any, prepare func(*http.Request)) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	prepare(req)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: data}
}

// ok fails unless the answer has status want, and decodes its body into
// out when out is not nil.
func (e *env) ok(r response, want int, out any) {
	e.t.Helper()
	if r.status != want {
		e.t.Fatalf("status %d, want %d; body %s", r.status, want, r.body)
	}
	if out != nil {
		if err := json.Unmarshal(r.body, out); err != nil {
			e.t.Fatalf("decode %s: %v", r.body, err)
		}
	}
}

// problem fails unless the answer is a problem+json with status and a
// detail containing detail.
func (e *env) problem(r response, status int, detail string) Problem {
	e.t.Helper()
	if r.status != status {
		e.t.Fatalf("status %d, want %d; body %s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != problemContentType {
		e.t.Fatalf("Content-Type %q, want %q", ct, problemContentType)
	}
	var p Problem
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		e.t.Fatalf("problem body %s: %v", r.body, err)
	}
	wantType, wantTitle := problemKind(status)
	if p.Status != status || p.Type != wantType || p.Title != wantTitle || p.Instance == "" {
		e.t.Errorf("problem = %+v, want status %d, type %s, title %s and an instance", p, status, wantType, wantTitle)
	}
	if !strings.Contains(p.Detail, detail) {
		e.t.Errorf("detail %q does not contain %q", p.Detail, detail)
	}
	return p
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.problem(e.doRaw("GET", "/api/v1/nothing/here", "", nil), http.StatusNotFound, "not found")
	r := e.doRaw("PUT", "/api/v1/roles", "admin", "{}")
	e.problem(r, http.StatusMethodNotAllowed, "not allowed")
	if allow := r.header.Get("Allow"); allow != "GET, POST" {
		t.Errorf("Allow = %q, want GET, POST", allow)
	}
	r = e.doRaw("POST", "/api/v1/roles/Admin", "", "{}")
	e.problem(r, http.StatusMethodNotAllowed, "")
	if allow := r.header.Get("Allow"); allow != "GET, PATCH, DELETE" {
		t.Errorf("Allow = %q, want GET, PATCH, DELETE", allow)
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	e := setup(t)
	r := e.do("GET", "/api/v1/roles", "", nil)
	e.problem(r, http.StatusUnauthorized, "No credentials")
	if h := r.header.Get("WWW-Authenticate"); h != `Basic realm="Windsock"` {
		t.Errorf("WWW-Authenticate = %q", h)
	}
	r = e.doWith("GET", "/api/v1/roles", nil, func(r *http.Request) { r.SetBasicAuth("admin", "wrong") })
	e.problem(r, http.StatusUnauthorized, "invalid username or password")
	if h := r.header.Get("WWW-Authenticate"); h != `Basic realm="Windsock"` {
		t.Errorf("WWW-Authenticate on wrong password = %q", h)
	}
	e.problem(e.do("GET", "/api/v1/roles", "nobody", nil), http.StatusUnauthorized, "invalid")
	e.problem(e.doWith("GET", "/api/v1/roles", nil, func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer wsk_not-a-token")
	}), http.StatusUnauthorized, "invalid or revoked token")
	e.problem(e.doWith("GET", "/api/v1/roles", nil, func(r *http.Request) {
		r.Header.Set("Authorization", "Digest x")
	}), http.StatusUnauthorized, "unsupported authorization scheme")

	inactive := false
	if err := e.st.UserUpdate(e.ctx, "op", &store.UserUpdateParams{Active: &inactive}); err != nil {
		t.Fatal(err)
	}
	e.problem(e.do("GET", "/api/v1/roles", "op", nil), http.StatusUnauthorized, "invalid")
	e.ok(e.do("GET", "/api/v1/roles", "admin", nil), http.StatusOK, nil)

	// Public routes answer without credentials but refuse wrong ones.
	e.ok(e.doRaw("GET", "/health", "", nil), http.StatusOK, nil)
	e.ok(e.do("GET", "/api/v1/health", "", nil), http.StatusOK, nil)
	e.ok(e.do("GET", "/api/v1/version", "", nil), http.StatusOK, nil)
	e.problem(e.doWith("GET", "/api/v1/version", nil, func(r *http.Request) { r.SetBasicAuth("admin", "wrong") }),
		http.StatusUnauthorized, "")

	// A session cookie works when the session backend is on (the default).
	admin, err := e.st.UserGet(e.ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	c, err := auth.CreateSession(e.ctx, e.st, e.cfg.Webserver.SecretKey, auth.NewAuthenticator(e.st, e.cfg, nil, nil).SessionCookie(), admin.ID, time.Now(), time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	e.ok(e.doWith("GET", "/api/v1/roles", nil, func(r *http.Request) { r.AddCookie(c) }), http.StatusOK, nil)
	c.Value = strings.Replace(c.Value, ".", ".x", 1)
	e.problem(e.doWith("GET", "/api/v1/roles", nil, func(r *http.Request) { r.AddCookie(c) }), http.StatusUnauthorized, "invalid session")
}

func TestBasicAuthBackendOff(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.API.AuthBackends = []string{auth.BackendSession} })
	r := e.do("GET", "/api/v1/roles", "admin", nil)
	e.problem(r, http.StatusUnauthorized, "basic authentication is not enabled")
	if h := r.header.Get("WWW-Authenticate"); h != `Bearer realm="Windsock"` {
		t.Errorf("WWW-Authenticate = %q", h)
	}
}

func TestAuthDisabled(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.API.AuthBackends = []string{auth.BackendDefault} })
	if StartupWarning(e.cfg) == "" {
		t.Error("no startup warning with authentication off")
	}
	if StartupWarning(config.Default("")) != "" {
		t.Error("startup warning with the default backends")
	}
	e.ok(e.do("POST", "/api/v1/roles", "", map[string]any{"name": "anon-made"}), http.StatusOK, nil)
	events, err := e.st.EventLogList(e.ctx, &store.EventLogListParams{Event: "api.post_role"})
	if err != nil || len(events) != 1 || events[0].Owner != "anonymous" {
		t.Fatalf("event log = %+v, %v; want one api.post_role by anonymous", events, err)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	e := setup(t)
	var v map[string]any
	e.ok(e.do("GET", "/api/v1/version", "viewer", nil), http.StatusOK, &v)
	if v["version"] != "1.2.3" {
		t.Errorf("version = %v", v)
	}
	if _, ok := v["git_version"]; !ok || len(v) != 2 {
		t.Errorf("version body = %v, want exactly version and git_version", v)
	}
}

// BenchmarkVersionBasicAuth measures an authenticated request once the
// password's verification is cached: the cost every scripted call pays.
func BenchmarkVersionBasicAuth(b *testing.B) {
	ctx := b.Context()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "windsock.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := auth.EnsureBuiltinRoles(ctx, st); err != nil {
		b.Fatal(err)
	}
	if err := st.UserCreate(ctx, &windsock.User{Username: "admin", FirstName: "A", LastName: "B",
		Password: passwordHash(), Active: true, Roles: []string{auth.RoleAdmin}}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer((&Server{Store: st, Version: "1"}).Handler())
	defer srv.Close()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/version", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.SetBasicAuth("admin", password)
	get := func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	get() // pays bcrypt once
	b.ResetTimer()
	for b.Loop() {
		get()
	}
}
