package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/web"
	"github.com/windsock/windsock/internal/windsock"
)

const (
	dagID    = "e2e_flow"
	password = "e2e-password"
)

// passwordHash is bcrypt's hash of password, computed once: bcrypt is slow
// on purpose.
var passwordHash = sync.OnceValue(func() string {
	h, err := auth.HashPassword(password)
	if err != nil {
		panic(err)
	}
	return h
})

// dagYAML is the DAG the tests run. Its first task prints a line, then
// waits for the gate file, so a test can watch a run (and a log) while it
// is still running and let it finish when it likes. The group gives the
// grid a collapse button.
const dagYAML = `
e2e_flow:
  description: Browser end-to-end test flow
  schedule: null
  start_date: 2024-01-01
  tags: [e2e]
  default_args:
    retries: 0
  tasks:
    greet:
      operator: bash
      bash_command: 'echo "waiting for the gate"; while [ ! -e "GATE" ]; do sleep 0.05; done; echo "hello from windsock"'
    inner_a:
      operator: bash
      bash_command: echo inner a
      task_group_name: section
    inner_b:
      operator: empty
      task_group_name: section
      dependencies: [inner_a]
  task_groups:
    section:
      tooltip: Tasks after greet
      dependencies: [greet]
`

// server is a whole Windsock environment behind an httptest server.
type server struct {
	env     *app.Environment
	url     string
	gate    string
	environ []string
}

// startServer opens an environment in a temporary home with the test DAG
// loaded (paused, as new DAGs are), starts its engine and serves the API
// and the UI. Users: admin (Admin) and viewer (Viewer). extraDAGs are more
// DAG files (YAML) loaded beside it.
func startServer(t *testing.T, extraDAGs ...string) *server {
	t.Helper()
	return startServerWith(t, nil, extraDAGs...)
}

// startServerWith is startServer with more environment variables
// (WINDSOCK__SECTION__KEY settings), which the server's home keeps for
// other processes started there.
func startServerWith(t *testing.T, settings []string, extraDAGs ...string) *server {
	t.Helper()
	ctx := t.Context()
	home := t.TempDir()
	gate := filepath.Join(home, "gate")
	dags := filepath.Join(home, "dags")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dags, "e2e.yaml"), []byte(strings.ReplaceAll(dagYAML, "GATE", gate)), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, y := range extraDAGs {
		if err := os.WriteFile(filepath.Join(dags, fmt.Sprintf("extra_%d.yaml", i)), []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	environ := []string{"WINDSOCK_HOME=" + home, "HOME=" + home, "PATH=" + os.Getenv("PATH"),
		"WINDSOCK__CORE__LOAD_EXAMPLES=False"}
	environ = append(environ, settings...)
	if _, err := config.EnsureFile(home, environ); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(home, environ)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	env, err := app.Open(ctx, cfg, app.Options{Environ: environ, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })

	proc, err := env.NewDAGProcessor(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if d, err := env.Store.DAGGet(ctx, dagID); err != nil {
		t.Fatalf("the test DAG did not load: %v", err)
	} else if !d.IsPaused {
		t.Fatalf("the test DAG should start paused")
	}
	engine, err := env.NewEngine(app.EngineOptions{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	// The engine outlives the test's context until Cleanup stops it.
	if err := engine.Start(context.WithoutCancel(ctx)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Stop)

	for name, role := range map[string]string{"admin": auth.RoleAdmin, "viewer": auth.RoleViewer} {
		if err := env.Store.UserCreate(ctx, &windsock.User{Username: name, FirstName: name, LastName: "Test",
			Email: name + "@example.com", Password: passwordHash(), Active: true, Roles: []string{role}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Variables.Set(ctx, "e2e_greeting", "hello", "shown on the variables page"); err != nil {
		t.Fatal(err)
	}

	// One authorizer for both halves, as the app builds them.
	authz := &auth.Authorizer{Store: env.Store, Clock: env.Clock, Logger: logger}
	apiHandler := (&api.Server{
		Store: env.Store, Config: cfg, Version: "e2e", Logger: logger, Clock: env.Clock, Authorizer: authz,
		Variables: env.Variables, Connections: env.Connections, LogFolder: env.LogFolder(),
		Runs: engine.Scheduler, HealthThreshold: cfg.Scheduler.SchedulerHealthCheckThreshold,
	}).Handler()
	webHandler := (&web.Server{
		Store: env.Store, Config: cfg, Version: "e2e", Logger: logger, Clock: env.Clock, Authorizer: authz,
		Variables: env.Variables, Connections: env.Connections, LogFolder: env.LogFolder(),
	}).Handler()
	srv := httptest.NewServer(web.Mux(apiHandler, webHandler))
	t.Cleanup(srv.Close)
	return &server{env: env, url: srv.URL, gate: gate, environ: environ}
}

// openGate lets the greet task finish.
func (s *server) openGate(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(s.gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// closeGate makes the next greet try wait again.
func (s *server) closeGate(t *testing.T) {
	t.Helper()
	if err := os.Remove(s.gate); err != nil {
		t.Fatal(err)
	}
}

// onlyRun returns the one run of the test DAG.
func (s *server) onlyRun(t *testing.T) *windsock.DagRun {
	t.Helper()
	runs, err := s.env.Store.DagRunList(t.Context(), &store.DagRunListParams{DagID: dagID})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 1 {
		t.Fatalf("want one run, have %d", len(runs))
	}
	return runs[0]
}

// testLog writes a server's log to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// artifactDir is where screenshots go: $WINDSOCK_TEST_ARTIFACTS, or
// windsock-screenshots in the system's temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("WINDSOCK_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "windsock-screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(fmt.Errorf("create artifact directory: %w", err))
	}
	return dir
}
