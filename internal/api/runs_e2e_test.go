package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/windsock"
)

// e2eClient talks to a server as admin.
type e2eClient struct {
	t   *testing.T
	url string
}

func (c *e2eClient) call(method, path string, body any, accept string, out any) []byte {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.url+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	req.SetBasicAuth("admin", "e2e-password")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	if resp.StatusCode/100 != 2 {
		c.t.Fatalf("%s %s: status %d: %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
	return data
}

// waitRun polls a run through the API until it has finished, for at most a
// minute, and returns its final state.
func (c *e2eClient) waitRun(path string) string {
	c.t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var run struct {
			State string `json:"state"`
		}
		c.call("GET", path, nil, "", &run)
		if run.State == "success" || run.State == "failed" {
			return run.State
		}
		select {
		case <-deadline:
			c.t.Fatalf("run %s still %s after 60 s", path, run.State)
		case <-tick.C:
		}
	}
}

// TestEndToEnd drives a real engine through the API as a script would: a
// variable and a pool set up, the DAG unpaused and triggered with conf, its
// run polled to success, a log and an XCom read, the run cleared and run
// again.
func TestEndToEnd(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	home := t.TempDir()
	dag := `
flow:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: produce
      operator: bash
      bash_command: 'echo "{{ var.value.greeting }} {{ dag_run.conf.who }}"'
      pool: e2e_pool
    - task_id: consume
      operator: bash
      bash_command: 'echo "got {{ ti.xcom_pull(task_ids=''produce'') }}"'
      dependencies: [produce]
`
	if err := os.MkdirAll(filepath.Join(home, "dags"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "dags", "flow.yaml"), []byte(dag), 0o644); err != nil {
		t.Fatal(err)
	}
	environ := []string{"WINDSOCK_HOME=" + home, "HOME=" + home, "PATH=" + os.Getenv("PATH"), "WINDSOCK__CORE__LOAD_EXAMPLES=False"}
	if _, err := config.EnsureFile(home, environ); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(home, environ)
	if err != nil {
		t.Fatal(err)
	}
	env, err := app.Open(ctx, cfg, app.Options{Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { env.Close() })

	// The variable and the pool the DAG uses, through the store.
	if err := env.Variables.Set(ctx, "greeting", "hello", ""); err != nil {
		t.Fatal(err)
	}
	if err := env.Store.PoolUpsert(ctx, &windsock.Pool{Pool: "e2e_pool", Slots: 1}); err != nil {
		t.Fatal(err)
	}
	proc, err := env.NewDAGProcessor(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	engine, err := env.NewEngine(app.EngineOptions{Interval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(engine.Stop)
	hash, err := auth.HashPassword("e2e-password")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.UserCreate(ctx, &windsock.User{Username: "admin", FirstName: "A", LastName: "Dmin",
		Email: "admin@example.com", Password: hash, Active: true, Roles: []string{auth.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&api.Server{Store: env.Store, Config: cfg, Variables: env.Variables,
		Connections: env.Connections, LogFolder: env.LogFolder(), Runs: engine.Scheduler}).Handler())
	t.Cleanup(srv.Close)
	c := &e2eClient{t: t, url: srv.URL}

	c.call("PATCH", "/api/v1/dags/flow?update_mask=is_paused", map[string]any{"is_paused": false}, "", nil)
	var run struct {
		DagRunID string         `json:"dag_run_id"`
		State    string         `json:"state"`
		Conf     map[string]any `json:"conf"`
	}
	c.call("POST", "/api/v1/dags/flow/dagRuns", map[string]any{"dag_run_id": "e2e", "conf": map[string]any{"who": "world"}}, "", &run)
	if run.DagRunID != "e2e" || run.State != "queued" || run.Conf["who"] != "world" {
		t.Fatalf("triggered = %+v", run)
	}
	if state := c.waitRun("/api/v1/dags/flow/dagRuns/e2e"); state != "success" {
		t.Fatalf("run ended %s", state)
	}

	tiPath := "/api/v1/dags/flow/dagRuns/e2e/taskInstances/"
	logText := string(c.call("GET", tiPath+"produce/logs/1", nil, "text/plain", nil))
	if !strings.Contains(logText, "hello world") {
		t.Errorf("produce's log lacks its output:\n%s", logText)
	}
	var xcom struct {
		Value string `json:"value"`
	}
	c.call("GET", tiPath+"consume/xcomEntries/return_value", nil, "", &xcom)
	if xcom.Value != "got hello world" {
		t.Errorf("consume's XCom = %q", xcom.Value)
	}
	var ti struct {
		TryNumber int    `json:"try_number"`
		State     string `json:"state"`
		Pool      string `json:"pool"`
	}
	c.call("GET", tiPath+"produce", nil, "", &ti)
	if ti.TryNumber != 1 || ti.State != "success" || ti.Pool != "e2e_pool" {
		t.Fatalf("produce = %+v", ti)
	}

	// Clear the run: every task runs again, as try 2.
	c.call("POST", "/api/v1/dags/flow/dagRuns/e2e/clear", map[string]any{"dry_run": false}, "", &run)
	if run.State != "queued" {
		t.Fatalf("cleared run = %+v", run)
	}
	if state := c.waitRun("/api/v1/dags/flow/dagRuns/e2e"); state != "success" {
		t.Fatalf("re-run ended %s", state)
	}
	c.call("GET", tiPath+"produce", nil, "", &ti)
	if ti.TryNumber != 2 || ti.State != "success" {
		t.Fatalf("produce after the clear = %+v", ti)
	}
	var out struct {
		Content string `json:"content"`
	}
	c.call("GET", tiPath+"produce/logs/2", nil, "application/json", &out)
	if !strings.Contains(out.Content, "hello world") {
		t.Errorf("try 2's log lacks its output:\n%s", out.Content)
	}
}
