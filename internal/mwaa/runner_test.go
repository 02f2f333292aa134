package mwaa_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/cli"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/web"
)

// testRunner stands in for internal/envrunner until it is merged: each
// environment is one in-process Windsock web server (UI + REST API) over
// its own home and SQLite file, configured from the Spec as the runner
// configures one (the spec's options written to windsock.cfg, including
// aws_mwaa.token_secret), so that the tokens and InvokeRestApi reach real
// /aws_mwaa and /api/v1 routes. A time zone of "Mars/Base" makes Start or
// Update fail, as a real environment whose scheduler cannot start.
type testRunner struct {
	t    *testing.T
	root string

	mu     sync.Mutex
	envs   map[string]*testEnv
	starts map[string]int
	adopts map[string]int
	// activity is what Activity answers per environment (the processes
	// the real runner reads from job rows, see envrunner.Activity).
	activity map[string][]envspec.Component
	// stores are the PostgreSQL URLs Activity reads instead (setStore).
	stores map[string]string
}

type testEnv struct {
	home string
	srv  *httptest.Server
	spec envspec.Spec
}

func newTestRunner(t *testing.T) *testRunner {
	return &testRunner{t: t, root: t.TempDir(), envs: map[string]*testEnv{}, starts: map[string]int{}, adopts: map[string]int{}}
}

var errBadZone = errors.New("scheduler exited with status 1: unknown time zone Mars/Base")

func (r *testRunner) Start(ctx context.Context, spec envspec.Spec) (envspec.Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts[spec.Name]++
	return r.startLocked(ctx, spec)
}

func (r *testRunner) startLocked(ctx context.Context, spec envspec.Spec) (envspec.Status, error) {
	if spec.AirflowConfigurationOptions["core.default_timezone"] == "Mars/Base" {
		return envspec.Status{}, errBadZone
	}
	if _, running := r.envs[spec.Name]; running {
		r.t.Errorf("environment %s started twice", spec.Name)
	}
	home := filepath.Join(r.root, spec.Name)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return envspec.Status{}, err
	}
	var cfgFile bytes.Buffer
	sections := map[string][]string{"webserver": {"secret_key = test-secret-" + spec.Name},
		"database": {"sql_alchemy_conn = sqlite:///" + filepath.Join(home, "windsock.db")}}
	for k, v := range spec.AirflowConfigurationOptions {
		section, option, _ := strings.Cut(k, ".")
		sections[section] = append(sections[section], option+" = "+v)
	}
	names := make([]string, 0, len(sections))
	for s := range sections {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, s := range names {
		fmt.Fprintf(&cfgFile, "[%s]\n%s\n", s, strings.Join(sections[s], "\n"))
	}
	if err := os.WriteFile(filepath.Join(home, config.FileName), cfgFile.Bytes(), 0o600); err != nil {
		return envspec.Status{}, err
	}
	// Generated keys (core.fernet_key, ...) as the runner writes them.
	if _, err := config.EnsureFile(home, nil); err != nil {
		return envspec.Status{}, err
	}
	cfg, err := config.Load(home, nil)
	if err != nil {
		return envspec.Status{}, err
	}
	path, _ := cfg.SQLitePath()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return envspec.Status{}, err
	}
	if _, err := st.Migrate(ctx); err != nil {
		return envspec.Status{}, err
	}
	if err := auth.EnsureBuiltinRoles(ctx, st); err != nil {
		return envspec.Status{}, err
	}
	keys, _ := fernet.Parse(cfg.Core.FernetKey)
	vars := &secrets.Variables{Store: st, Keys: keys}
	conns := &secrets.Connections{Store: st, Keys: keys}
	authn := auth.NewAuthenticator(st, cfg, time.Now, slog.New(slog.DiscardHandler))
	apiSrv := (&api.Server{Store: st, Config: cfg, Version: "test", Variables: vars, Connections: conns, Authenticator: authn}).Handler()
	webSrv := (&web.Server{Store: st, Config: cfg, Version: "test", Variables: vars, Connections: conns, Authenticator: authn,
		AirflowCLI: func(ctx context.Context, args []string) ([]byte, []byte, error) {
			var stdout, stderr bytes.Buffer
			code := cli.Main(ctx, args, cli.IO{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
				Environ: []string{"WINDSOCK_HOME=" + home}})
			if code != 0 {
				return stdout.Bytes(), stderr.Bytes(), fmt.Errorf("exit status %d", code)
			}
			return stdout.Bytes(), stderr.Bytes(), nil
		}}).Handler()
	srv := httptest.NewServer(web.Mux(apiSrv, webSrv))
	r.t.Cleanup(func() { srv.Close(); st.Close() })
	r.envs[spec.Name] = &testEnv{home: home, srv: srv, spec: spec}
	return r.statusLocked(spec.Name), nil
}

func (r *testRunner) statusLocked(name string) envspec.Status {
	e := r.envs[name]
	return envspec.Status{WebserverHostname: strings.TrimPrefix(e.srv.URL, "http://"), Workers: e.spec.MinWorkers, Healthy: true,
		StartedAt: time.Now()}
}

func (r *testRunner) Update(ctx context.Context, _, spec envspec.Spec) (envspec.Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if spec.AirflowConfigurationOptions["core.default_timezone"] == "Mars/Base" {
		return envspec.Status{}, errBadZone // the old processes keep running
	}
	if e, ok := r.envs[spec.Name]; ok {
		e.srv.Close()
		delete(r.envs, spec.Name)
	}
	return r.startLocked(ctx, spec)
}

func (r *testRunner) Adopt(ctx context.Context, spec envspec.Spec) (envspec.Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.adopts[spec.Name]++
	if _, ok := r.envs[spec.Name]; ok {
		return r.statusLocked(spec.Name), nil
	}
	return r.startLocked(ctx, spec)
}

func (r *testRunner) Stop(_ context.Context, name string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.envs[name]; ok {
		e.srv.Close()
		delete(r.envs, name)
	}
	return nil
}

func (r *testRunner) Remove(_ context.Context, name string) error {
	return os.RemoveAll(filepath.Join(r.root, name))
}

func (r *testRunner) Status(name string) (envspec.Status, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.envs[name]; !ok {
		return envspec.Status{}, false
	}
	return r.statusLocked(name), true
}

func (r *testRunner) Activity(ctx context.Context, name string) ([]envspec.Component, error) {
	r.mu.Lock()
	dbURL := r.stores[name]
	r.mu.Unlock()
	if dbURL != "" {
		// As the real runner: the processes are the store's job rows.
		st, err := postgres.Open(ctx, dbURL)
		if err != nil {
			return nil, err
		}
		defer st.Close()
		if _, err := st.JobList(ctx, &store.JobListParams{Limit: 500}); err != nil {
			return nil, err
		}
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.envs[name]; !ok {
		return nil, errors.New("not running")
	}
	return r.activity[name], nil
}

// setStore makes Activity read the environment's processes from a
// PostgreSQL store at dbURL.
func (r *testRunner) setStore(name, dbURL string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stores == nil {
		r.stores = map[string]string{}
	}
	r.stores[name] = dbURL
}

func (r *testRunner) setActivity(name string, comps []envspec.Component) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.activity == nil {
		r.activity = map[string][]envspec.Component{}
	}
	r.activity[name] = comps
}

func (r *testRunner) counts(name string) (starts, adopts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.starts[name], r.adopts[name]
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
