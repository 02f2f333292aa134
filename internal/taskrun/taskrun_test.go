package taskrun

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/bash"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// testRun is a runner over a fresh SQLite store holding one DAG run of
// one bash task.
type testRun struct {
	r    *Runner
	st   store.Store
	task *windsock.Task
	dag  *windsock.DAG
	run  *windsock.DagRun
	key  windsock.TaskInstanceKey
}

// setup makes the store, the run and its task instance; environ is where
// variables and connections are looked up (AIRFLOW_VAR_*, AIRFLOW_CONN_*).
func setup(t *testing.T, environ ...string) *testRun {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	logical := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	task := &windsock.Task{TaskID: "work", Operator: "bash", OperatorClass: "BashOperator", Retries: 2, DoXComPush: true,
		Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default", PriorityWeight: 1}
	tr := &testRun{
		st: st, task: task,
		dag: &windsock.DAG{DagID: "etl", Tasks: []*windsock.Task{task}},
		run: &windsock.DagRun{DagID: "etl", RunID: windsock.RunID(windsock.RunTypeManual, logical), LogicalDate: logical,
			State: windsock.DagRunRunning, RunType: windsock.RunTypeManual, DataIntervalStart: &logical, DataIntervalEnd: &logical},
	}
	tr.key = windsock.TaskInstanceKey{DagID: "etl", TaskID: "work", RunID: tr.run.RunID, MapIndex: -1}
	ti := &windsock.TaskInstance{TaskInstanceKey: tr.key, MaxTries: task.Retries, Pool: windsock.DefaultPoolName, PoolSlots: 1,
		Queue: "default", PriorityWeight: 1, Operator: "BashOperator"}
	if err := st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: tr.run, TaskInstances: []*windsock.TaskInstance{ti}}); err != nil {
		t.Fatal(err)
	}
	run, err := st.DagRunList(ctx, &store.DagRunListParams{DagID: "etl", RunID: tr.run.RunID})
	if err != nil || len(run) != 1 {
		t.Fatalf("stored run: %v, %v", run, err)
	}
	tr.run = run[0]
	ops := operator.NewRegistry()
	ops.Add("bash", bash.New(bash.Options{}))
	tr.r = &Runner{
		Store: st, Operators: ops, Specs: operator.Builtins(),
		Variables:   &secrets.Variables{Store: st, Environ: environ},
		Connections: &secrets.Connections{Store: st, Environ: environ},
		LogFolder:   filepath.Join(dir, "logs"), DagsFolder: dir,
		Environ: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir},
	}
	return tr
}

// runTry runs try number n of the task with bash_command command, as a
// worker that claimed it would.
func (tr *testRun) runTry(t *testing.T, n int, command string) *Outcome {
	t.Helper()
	return tr.runTryWith(t, n, map[string]any{"bash_command": command})
}

// runTryWith runs try number n of the task with args.
func (tr *testRun) runTryWith(t *testing.T, n int, args map[string]any) *Outcome {
	t.Helper()
	ctx := t.Context()
	ti, err := tr.st.TaskInstanceGet(ctx, tr.key)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	ti.State, ti.TryNumber, ti.StartDate, ti.EndDate = windsock.TaskStateRunning, n, &now, nil
	if _, err := tr.st.TaskInstanceUpdate(ctx, ti); err != nil {
		t.Fatal(err)
	}
	tr.task.Args = args
	out, err := tr.r.Run(ctx, &Try{TI: ti, DAG: tr.dag, Run: tr.run})
	if err != nil {
		t.Fatal(err)
	}
	if !out.Recorded {
		t.Fatalf("try %d: outcome %s not recorded", n, out.State)
	}
	return out
}

// returnValue returns the stored return_value, "" when there is none.
func (tr *testRun) returnValue(t *testing.T) string {
	t.Helper()
	x, err := tr.st.XComGet(t.Context(), &store.XComGetParams{DagID: tr.key.DagID, RunID: tr.key.RunID, TaskID: tr.key.TaskID, MapIndex: -1, Key: windsock.XComReturnKey})
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(x.Value)
}

func (tr *testRun) log(t *testing.T, try int) string {
	t.Helper()
	b, err := os.ReadFile(tasklog.Path(tr.r.LogFolder, tr.key, try))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRerunClearsXCom: a try clears what earlier tries pushed when it
// starts, so a failing try leaves nothing of the try before it.
func TestRerunClearsXCom(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	if out := tr.runTry(t, 1, "echo from-try-1"); out.State != windsock.TaskStateSuccess {
		t.Fatalf("try 1 = %s (%v)", out.State, out.Err)
	}
	if got := tr.returnValue(t); got != `"from-try-1"` {
		t.Fatalf("after try 1: return_value %s", got)
	}
	// Try 2 is a re-run (the task was cleared, say) that fails.
	if out := tr.runTry(t, 2, "echo from-try-2; exit 1"); out.State != windsock.TaskStateUpForRetry {
		t.Fatalf("try 2 = %s (%v), want up_for_retry", out.State, out.Err)
	}
	if got := tr.returnValue(t); got != "" {
		t.Errorf("after the failed try 2: return_value %s is still there", got)
	}
	if out := tr.runTry(t, 3, "echo from-try-3"); out.State != windsock.TaskStateSuccess {
		t.Fatalf("try 3 = %s (%v)", out.State, out.Err)
	}
	if got := tr.returnValue(t); got != `"from-try-3"` {
		t.Errorf("after try 3: return_value %s", got)
	}
}

// TestBashReturnValueLimit: a last line over 64 KiB is pushed whole; one
// over the XCom limit fails the try with an error naming both sizes.
func TestBashReturnValueLimit(t *testing.T) {
	t.Parallel()
	if bash.MaxReturnBytes != MaxXComBytes {
		t.Fatalf("bash.MaxReturnBytes = %d, want MaxXComBytes (%d)", bash.MaxReturnBytes, MaxXComBytes)
	}
	t.Run("100 KB", func(t *testing.T) {
		t.Parallel()
		tr := setup(t)
		out := tr.runTry(t, 1, "printf '%*s\\n' 100000 '' | tr ' ' x")
		if out.State != windsock.TaskStateSuccess {
			t.Fatalf("try = %s (%v)", out.State, out.Err)
		}
		if want := `"` + strings.Repeat("x", 100_000) + `"`; tr.returnValue(t) != want {
			t.Errorf("return_value is %d bytes, want %d", len(tr.returnValue(t)), len(want))
		}
	})
	t.Run("1.1 MB", func(t *testing.T) {
		t.Parallel()
		tr := setup(t)
		tr.task.Retries = 0
		out := tr.runTry(t, 1, "printf '%*s\\n' 1100000 '' | tr ' ' x")
		const want = "is 1100000 bytes as stored, over the 1048576-byte XCom limit"
		if out.State != windsock.TaskStateFailed || out.Err == nil || !strings.Contains(out.Err.Error(), want) {
			t.Fatalf("try = %s (%v), want failed with %q", out.State, out.Err, want)
		}
		if got := tr.returnValue(t); got != "" {
			t.Errorf("a fragment of %d bytes was pushed", len(got))
		}
		if log := tr.log(t, 1); !strings.Contains(log, want) {
			t.Errorf("the log lacks the error")
		}
	})
}

// TestSourcesMaskSecrets: what a try's context fetches registers its
// secrets with the try's masker, by Airflow's rules.
func TestSourcesMaskSecrets(t *testing.T) {
	t.Parallel()
	tr := setup(t,
		`AIRFLOW_VAR_API_TOKEN=tok-var-value`,
		`AIRFLOW_VAR_REGION=eu-west-1a`,
		`AIRFLOW_VAR_CFG={"host": "cfg-host-1", "token": "cfg-token-1", "nested": {"client_secret": "cfg-secret-1", "ids": ["cfg-id-11"]}, "keys": {"private_key": ["cfg-pk-one1"]}}`,
		`AIRFLOW_VAR_DB_PASSWORD={"user": "pw-user-1", "password": "pw-pass-1"}`,
		`AIRFLOW_CONN_MY_CONN={"conn_type": "http", "host": "conn-host-1", "login": "conn-login-1", "password": "conn-pass-1", "extra": {"api_key": "conn-key-1", "timeout": 30, "auth": {"access_token": "conn-tok-1", "scope": "conn-scope-1"}}}`,
	)
	ti, err := tr.st.TaskInstanceGet(t.Context(), tr.key)
	if err != nil {
		t.Fatal(err)
	}
	m := tasklog.NewMasker()
	src := tr.r.templateSources(&Try{TI: ti, DAG: tr.dag, Run: tr.run}, m)
	for _, key := range []string{"api_token", "region", "cfg", "db_password"} {
		if _, err := src.Variable(t.Context(), key); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := src.Connection(t.Context(), "my_conn"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		value  string
		masked bool
		why    string
	}{
		{"tok-var-value", true, "value of a variable with a sensitive name"},
		{"eu-west-1a", false, "value of a plain variable"},
		{"cfg-token-1", true, "JSON variable: sensitive key"},
		{"cfg-host-1", false, "JSON variable: plain key"},
		{"cfg-secret-1", true, "JSON variable: sensitive key, nested"},
		{"cfg-id-11", false, "JSON variable: array under a plain key"},
		{"cfg-pk-one1", true, "JSON variable: array under a sensitive key"},
		{"pw-pass-1", true, "sensitive variable holding an object: sensitive key"},
		{"pw-user-1", false, "sensitive variable holding an object: plain key"},
		{"conn-pass-1", true, "connection password"},
		{"conn-login-1", false, "connection login"},
		{"conn-key-1", true, "connection extra: sensitive key"},
		{"conn-tok-1", true, "connection extra: sensitive key, nested"},
		{"conn-scope-1", false, "connection extra: plain key"},
	}
	for _, tt := range tests {
		got := m.Mask("[" + tt.value + "]")
		if masked := got == "["+tasklog.Replacement+"]"; masked != tt.masked {
			t.Errorf("%s: %q became %q, want masked %v", tt.why, tt.value, got, tt.masked)
		}
	}
}

// TestRunMasksLogAndRenderedFields: secrets fetched by a try's templates
// are masked in its log and in the rendered fields kept for the UI.
func TestRunMasksLogAndRenderedFields(t *testing.T) {
	t.Parallel()
	tr := setup(t, `AIRFLOW_VAR_CFG={"host": "cfg-host-1", "token": "cfg-token-1"}`)
	out := tr.runTry(t, 1, `echo "host={{ var.json.cfg.host }} token={{ var.json.cfg.token }}"`)
	if out.State != windsock.TaskStateSuccess {
		t.Fatalf("try = %s (%v)", out.State, out.Err)
	}
	if log := tr.log(t, 1); strings.Contains(log, "cfg-token-1") || !strings.Contains(log, "host=cfg-host-1 token=***") {
		t.Errorf("log:\n%s", log)
	}
	b, err := tr.st.RenderedFieldsGet(t.Context(), tr.key)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); strings.Contains(got, "cfg-token-1") || !strings.Contains(got, "host=cfg-host-1 token=***") {
		t.Errorf("rendered fields = %s", got)
	}
}
