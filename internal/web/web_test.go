package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

const password = "password"

// passwordHash is bcrypt's hash of password, computed once: bcrypt is slow
// on purpose.
var passwordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

// testUsers are the users setup creates, by role. "limited" has a role
// that may read only the DAG "etl".
var testUsers = map[string]string{
	"admin": auth.RoleAdmin, "op": auth.RoleOp, "user": auth.RoleUser, "viewer": auth.RoleViewer,
	"limited": "etl-readers",
}

// env is the UI and the API over a real SQLite store.
type env struct {
	t     *testing.T
	ctx   context.Context
	st    store.Store
	cfg   *config.Config
	srv   *httptest.Server
	users map[string]*windsock.User
	now   time.Time
	vars  *secrets.Variables
	conns *secrets.Connections
	// sessions holds each user's session cookie, made once: a cookie made
	// a second later differs (its expiry), and so does its CSRF token.
	mu       sync.Mutex
	sessions map[string]*http.Cookie
}

func (e *env) webVariables() *secrets.Variables     { return e.vars }
func (e *env) webConnections() *secrets.Connections { return e.conns }

// conn returns a postgres connection with a password and extra.
func (e *env) conn(id, pw, extra string) *secrets.Connection {
	return &secrets.Connection{ConnID: id, ConnType: "postgres", Host: "db", Port: 5432, Login: "etl",
		Password: pw, Extra: extra}
}

func setup(t *testing.T, configure ...func(*config.Config)) *env {
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
	if err := auth.EnsureBuiltinRoles(ctx, st); err != nil {
		t.Fatal(err)
	}
	if err := st.RoleCreate(ctx, &windsock.Role{Name: "etl-readers"}); err != nil {
		t.Fatal(err)
	}
	if err := st.RolePermissionsAdd(ctx, "etl-readers", []windsock.Permission{
		{Action: auth.ActionRead, Resource: auth.DAGResource("etl")},
		{Action: auth.ActionRead, Resource: auth.ResourceDAGRun},
		{Action: auth.ActionRead, Resource: auth.ResourceTaskInstance},
	}); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, ctx: ctx, st: st, users: map[string]*windsock.User{}, now: time.Now()}
	for name, role := range testUsers {
		u := &windsock.User{Username: name, FirstName: name, LastName: "Test", Email: name + "@example.com",
			Password: passwordHash(), Active: true, Roles: []string{role}}
		if err := st.UserCreate(ctx, u); err != nil {
			t.Fatal(err)
		}
		e.users[name] = u
	}
	cfg := config.Default(t.TempDir())
	cfg.Webserver.SecretKey = "test-secret"
	for _, f := range configure {
		f(cfg)
	}
	e.cfg = cfg
	key, err := fernet.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := fernet.Parse(key)
	if err != nil {
		t.Fatal(err)
	}
	vars := &secrets.Variables{Store: st, Keys: keys}
	conns := &secrets.Connections{Store: st, Keys: keys}
	e.vars, e.conns = vars, conns
	// One authorizer for both halves, as the app builds them.
	authz := &auth.Authorizer{Store: st}
	apiSrv := (&api.Server{Store: st, Config: cfg, Version: "test", Variables: vars, Connections: conns, Authorizer: authz}).Handler()
	webSrv := (&Server{Store: st, Config: cfg, Version: "test", Variables: vars, Connections: conns, Authorizer: authz,
		Logger: slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))}).Handler()
	e.srv = httptest.NewServer(Mux(apiSrv, webSrv))
	t.Cleanup(e.srv.Close)
	return e
}

// testLog writes a server's log to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   string
}

// session returns a valid session cookie of user.
func (e *env) session(user string) *http.Cookie {
	e.t.Helper()
	u, ok := e.users[user]
	if !ok {
		e.t.Fatalf("no test user %q", user)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if c, ok := e.sessions[user]; ok {
		return c
	}
	c, err := auth.CreateSession(e.ctx, e.st, e.cfg.Webserver.SecretKey, auth.NewAuthenticator(e.st, e.cfg, nil, nil).SessionCookie(), u.ID, time.Now(), time.Hour, false)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.sessions == nil {
		e.sessions = map[string]*http.Cookie{}
	}
	e.sessions[user] = c
	return c
}

// csrf returns the CSRF token of a session cookie.
func (e *env) csrf(c *http.Cookie) string {
	return auth.CSRFToken(e.cfg.Webserver.SecretKey, c.Value)
}

// get fetches path as user ("" for no session), without following
// redirects.
func (e *env) get(path, user string) response {
	e.t.Helper()
	return e.do(http.MethodGet, path, user, "", nil)
}

// do sends a request with a session of user (none when ""), body as is
// and extra headers, without following redirects.
func (e *env) do(method, path, user, body string, header http.Header, cookies ...*http.Cookie) response {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(e.ctx, method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	if user != "" {
		req.AddCookie(e.session(user))
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// postForm posts form values.
func (e *env) postForm(path, user string, form url.Values, cookies ...*http.Cookie) response {
	e.t.Helper()
	h := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	return e.do(http.MethodPost, path, user, form.Encode(), h, cookies...)
}

// page fetches path as user and fails unless the status is want.
func (e *env) page(path, user string, want int) string {
	e.t.Helper()
	r := e.get(path, user)
	if r.status != want {
		e.t.Fatalf("GET %s as %q: status %d, want %d; body:\n%s", path, user, r.status, want, r.body)
	}
	// A Go formatting verb that did not fit its value ("%!f(*float64=...)")
	// must never reach a page.
	if i := strings.Index(r.body, "%!"); i >= 0 {
		e.t.Errorf("GET %s: page shows a Go formatting error: %q", path, r.body[i:min(len(r.body), i+60)])
	}
	return r.body
}

// addDAG stores an active DAG with tags.
func (e *env) addDAG(id string, paused bool, tags ...string) {
	e.t.Helper()
	if err := e.st.DAGUpsert(e.ctx, &store.DAGUpsertParams{DagID: id, Fileloc: "/dags/" + id + ".yaml",
		Owners: "airflow", ScheduleInterval: `"@daily"`, TimetableDescription: "At 00:00", MaxActiveTasks: 16,
		MaxActiveRuns: 16, IsPausedUponCreation: paused, Tags: tags, LastParsedTime: e.now}); err != nil {
		e.t.Fatal(err)
	}
}

// addRun stores a run of dagID on day n (of 2024) in state, with one task
// instance per given task state (tasks t0, t1, ...).
func (e *env) addRun(dagID string, n int, state windsock.DagRunState, tiStates ...windsock.TaskInstanceState) *windsock.DagRun {
	e.t.Helper()
	run, tis := newRun(dagID, n, state, tiStates...)
	if err := e.st.DagRunCreate(e.ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
		e.t.Fatal(err)
	}
	return run
}

func newRun(dagID string, n int, state windsock.DagRunState, tiStates ...windsock.TaskInstanceState) (*windsock.DagRun, []*windsock.TaskInstance) {
	logical := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n-1)
	run := &windsock.DagRun{DagID: dagID, RunID: windsock.RunID(windsock.RunTypeScheduled, logical),
		LogicalDate: logical, State: state, RunType: windsock.RunTypeScheduled}
	tis := make([]*windsock.TaskInstance, len(tiStates))
	for i, s := range tiStates {
		tis[i] = &windsock.TaskInstance{
			TaskInstanceKey: windsock.TaskInstanceKey{DagID: dagID, TaskID: "t" + string(rune('0'+i)), RunID: run.RunID, MapIndex: -1},
			State:           s, MaxTries: 1, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default",
			PriorityWeight: 1, Operator: "BashOperator",
		}
		if s.Finished() {
			start, end := logical.Add(time.Hour), logical.Add(time.Hour+83*time.Second+400*time.Millisecond)
			d := end.Sub(start).Seconds()
			tis[i].StartDate, tis[i].EndDate, tis[i].Duration = &start, &end, &d
		}
	}
	return run, tis
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("page does not contain %q", w)
		}
	}
}

func lacks(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Errorf("page contains %q", w)
		}
	}
}
