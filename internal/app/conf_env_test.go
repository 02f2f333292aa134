package app

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// TestEngineConfThroughEnvIsNotCode checks the README's safe form: a
// dag_run.conf value passed to bash through a templated env variable is
// data, however hostile, while the same value templated into
// bash_command would be run.
func TestEngineConfThroughEnvIsNotCode(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"safe.yaml": `
safe:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: load
      operator: bash
      bash_command: echo "loading $TABLE"
      env:
        TABLE: "{{ dag_run.conf.get('table', 'orders') }}"
      append_env: true
`})
	marker := filepath.Join(t.TempDir(), "pwned")
	er := startEngine(t, env, nil)
	hostile := "x; touch " + marker
	run := er.trigger(t, "safe", day, map[string]any{"table": hostile})
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the conf value ran as a command")
	}
	x, err := env.Store.XComGet(context.Background(), &store.XComGetParams{DagID: "safe", RunID: run.RunID, TaskID: "load", MapIndex: -1, Key: "return_value"})
	if err != nil {
		t.Fatal(err)
	}
	if want := `"loading x; touch ` + marker + `"`; string(x.Value) != want {
		t.Errorf("load returned %s, want %s", x.Value, want)
	}
}
