package envrunner_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// binary is the windsock binary the environments run, built once.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "windsock-envrunner-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "windsock")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/windsock")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build windsock:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testRunner is a Runner over a fresh control-plane home.
type testRunner struct {
	*envrunner.Runner
	t    testing.TB
	home string
	cfg  envrunner.Config
}

func setup(t testing.TB, tweak ...func(*envrunner.Config)) *testRunner {
	t.Helper()
	home := t.TempDir()
	cfg := envrunner.Config{
		Home: home, Executable: binary,
		ScaleInAfter: 2 * time.Second, ScaleInterval: 200 * time.Millisecond, DagSyncInterval: 500 * time.Millisecond,
		RestartBackoff: 50 * time.Millisecond, StopGrace: 10 * time.Second,
		Environ: []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home},
		Logger:  slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	for _, f := range tweak {
		f(&cfg)
	}
	r, err := envrunner.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr := &testRunner{Runner: r, t: t, home: home, cfg: cfg}
	t.Cleanup(func() { tr.stopAll() })
	return tr
}

// airflow runs a windsock CLI command in environment name's home, as its
// processes see it (its configuration, store and keys).
func (tr *testRunner) airflow(name string, args ...string) (stdout, stderr string, err error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append([]string{}, tr.cfg.Environ...), "WINDSOCK_HOME="+envrunner.EnvironmentHome(tr.home, name))
	cmd.Dir = envrunner.EnvironmentHome(tr.home, name)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// stopAll stops every environment under the home, whichever runner
// started it (a test may have let go of one to adopt it).
func (tr *testRunner) stopAll() {
	entries, _ := os.ReadDir(filepath.Join(tr.home, "environments"))
	r, err := envrunner.New(tr.cfg)
	if err != nil {
		return
	}
	tr.Runner.Close()
	for _, e := range entries {
		name := e.Name()
		if _, err := r.Adopt(context.Background(), envspec.Spec{Name: name}); err == nil {
			_ = r.Stop(context.Background(), name)
		}
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// spec is a small environment reading bucket's dags/ folder.
func spec(name, bucket string) envspec.Spec {
	return envspec.Spec{
		Name: name, EnvironmentClass: "mw1.small", Schedulers: 1, MinWorkers: 1, MaxWorkers: 1,
		MinWebservers: 1, MaxWebservers: 1, WebserverAccessMode: "PRIVATE_ONLY",
		Bucket: bucket, DagS3Path: "dags",
		AirflowConfigurationOptions: map[string]string{"core.default_pool_task_slot_count": "512", "scheduler.scheduler_heartbeat_sec": "1"},
	}
}

// putLocal writes an object into a local bucket.
func (tr *testRunner) putLocal(bucket, key, body string) {
	tr.t.Helper()
	p := filepath.Join(envrunner.BucketFolder(tr.home, bucket), filepath.FromSlash(key))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		tr.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		tr.t.Fatal(err)
	}
}

// start starts an environment and stops the test when it fails.
func (tr *testRunner) start(s envspec.Spec) envspec.Status {
	tr.t.Helper()
	st, err := tr.Start(context.Background(), s)
	if err != nil {
		tr.t.Fatalf("start %s: %v", s.Name, err)
	}
	return st
}

// openStore opens an environment's metadata database, as a test reads it.
func (tr *testRunner) openStore(name string) store.Store {
	tr.t.Helper()
	cfg, err := config.Load(envrunner.EnvironmentHome(tr.home, name), nil)
	if err != nil {
		tr.t.Fatal(err)
	}
	st, err := app.OpenStore(context.Background(), cfg)
	if err != nil {
		tr.t.Fatal(err)
	}
	tr.t.Cleanup(func() { st.Close() })
	return st
}

// explain logs what a stalled environment shows: its DAG's runs and the
// tail of each of its processes' logs. A wait that times out calls it, so
// a failure seen once in CI can be read rather than guessed.
func (tr *testRunner) explain(name string, db store.Store, dagID string) {
	tr.t.Helper()
	if db != nil {
		runs, err := db.DagRunList(context.Background(), &store.DagRunListParams{DagID: dagID})
		tr.t.Logf("%s runs: %+v (%v)", dagID, runs, err)
		dags, err := db.DAGList(context.Background(), &store.DAGListParams{})
		for _, d := range dags {
			tr.t.Logf("dag %s paused=%v active=%v next=%v", d.DagID, d.IsPaused, d.IsActive, d.NextDagrunCreateAfter)
		}
		if err != nil {
			tr.t.Logf("dag list: %v", err)
		}
	}
	filepath.WalkDir(envrunner.EnvironmentHome(tr.home, name), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".log") {
			b, _ := os.ReadFile(p)
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			tr.t.Logf("--- %s (last %d bytes)\n%s", p, len(b), b)
		}
		return nil
	})
}

// waitFor polls cond (reading state another process changes) until it
// holds or the deadline passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// states counts a DAG's task instances by state.
func states(t testing.TB, st store.Store, dagID string) map[windsock.TaskInstanceState]int {
	t.Helper()
	tis, _, err := st.TaskInstanceQuery(context.Background(), &store.TaskInstanceQueryParams{DagIDs: []string{dagID}})
	if err != nil {
		// Logged, not fatal: the store may be restarting; a wait that
		// then times out shows why it saw nothing.
		t.Logf("reading %s's task instances: %v", dagID, err)
		return nil
	}
	out := map[windsock.TaskInstanceState]int{}
	for _, ti := range tis {
		out[ti.State]++
	}
	return out
}

// dagYAML is a DAG of n tasks running cmd, started once at upload.
func dagYAML(dagID string, n int, cmd string) string {
	return dagYAMLRetries(dagID, n, cmd, 0)
}

// dagYAMLRetries is dagYAML with retries per task.
func dagYAMLRetries(dagID string, n int, cmd string, retries int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  start_date: 2024-01-01\n  schedule: '@once'\n  catchup: false\n  is_paused_upon_creation: false\n  max_active_tasks: 1000\n", dagID)
	fmt.Fprintf(&b, "  default_args:\n    retries: %d\n    retry_delay: 1s\n  tasks:\n", retries)
	for i := range n {
		fmt.Fprintf(&b, "    t%03d:\n      operator: bash\n      bash_command: %q\n", i, cmd)
	}
	return b.String()
}

// finalStates are the states a try ends in.
var finalStates = map[windsock.TaskInstanceState]bool{
	windsock.TaskStateSuccess: true, windsock.TaskStateFailed: true, windsock.TaskStateSkipped: true, windsock.TaskStateUpstreamFailed: true,
}

// allFinal reports whether n task instances of dagID exist and every one
// is in a final state.
func allFinal(t testing.TB, st store.Store, dagID string, n int) bool {
	total := 0
	for s, c := range states(t, st, dagID) {
		if !finalStates[s] {
			return false
		}
		total += c
	}
	return total == n
}

// windsockProcs counts the live processes running the windsock binary
// with home as WINDSOCK_HOME.
func windsockProcs(t testing.TB, home string) []int {
	t.Helper()
	return homeProcs(home, true)
}

// homeProcs lists the live processes with home as WINDSOCK_HOME: only
// those running the windsock binary when onlyWindsock (a Python runtime
// a process starts inherits the variable).
func homeProcs(home string, onlyWindsock bool) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || (onlyWindsock && exe != binary) {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || !bytes.Contains(env, []byte("WINDSOCK_HOME="+home+"\x00")) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if i := bytes.LastIndexByte(stat, ')'); i > 0 && len(stat) > i+2 && stat[i+2] == 'Z' {
			continue
		}
		pids = append(pids, pid)
	}
	return pids
}
