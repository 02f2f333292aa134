package cli_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// start starts `windsock args...` in the home, with extraEnv added, its
// output going to a file of the home; the test's end kills it.
func (h *home) start(t *testing.T, name string, extraEnv []string, args ...string) *process {
	t.Helper()
	logPath := filepath.Join(h.dir, name+".out")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, args...)
	cmd.Env = append(append([]string{}, h.env...), extraEnv...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("--- output of %s ---\n%s", name, b)
		}
	})
	return p
}

// output is what the process printed so far.
func (p *process) output(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// exits waits for the process to end within limit and returns its exit
// code.
func (p *process) exits(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		t.Fatalf("%s still running %s later:\n%s", p.name, limit, p.output(t))
	}
	if ee, ok := p.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if p.err != nil {
		t.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}

// fileAppears waits for a file a task creates.
func fileAppears(t *testing.T, limit time.Duration, path string) {
	t.Helper()
	waitFor(t, limit, func() bool { _, err := os.Stat(path); return err == nil })
}

// TestOneShotsEndBesideARunningScheduler: `dags test` and `dags backfill`
// end when their runs end, even when the scheduler daemon running on the
// same home took their tries (their retries included) and finished the
// runs. The one-shots are held to core.parallelism = 2 and 1 while the
// daemon runs blocking tasks, so the slots are the daemon's alone when the
// retries come due: without the fix the one-shots waited forever.
func TestOneShotsEndBesideARunningScheduler(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	gate, hold := filepath.Join(h.dir, "gate"), filepath.Join(h.dir, "hold")
	// Each run's first try fails (and leaves a marker), the retry succeeds.
	h.writeDAG(t, "flaky.yaml", fmt.Sprintf(`flaky:
  schedule: "@daily"
  start_date: 2024-01-01
  catchup: false
  tasks:
    - task_id: work
      operator: bash
      retries: 1
      retry_delay: 0
      bash_command: 'touch %[1]s/started-{{ ds }}; while [ ! -e %[2]s ]; do sleep 0.05; done; if [ ! -e %[1]s/marker-{{ ds }} ]; then touch %[1]s/marker-{{ ds }}; exit 1; fi; echo second try'
`, h.dir, gate))
	h.writeDAG(t, "blocker.yaml", fmt.Sprintf(`blocker:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: hold
      operator: bash
      bash_command: 'touch %[1]s/blocking-{{ run_id }}; while [ ! -e %[2]s ]; do sleep 0.05; done'
`, h.dir, hold))
	h.ok(t, "dags", "unpause", "blocker")
	h.start(t, "scheduler", nil, "scheduler")
	defer os.WriteFile(hold, nil, 0o644)
	h.ok(t, "dags", "trigger", "blocker", "-r", "b1", "-e", "2024-06-01")
	fileAppears(t, 60*time.Second, filepath.Join(h.dir, "blocking-b1"))

	// dags test: flaky is paused, so the daemon leaves try 1 to the
	// one-shot (one slot of its two is free). Then the daemon takes the
	// second slot, and try 1 fails: the retry is the daemon's.
	test := h.start(t, "dags-test", []string{"WINDSOCK__CORE__PARALLELISM=2"}, "dags", "test", "flaky", "2024-01-01")
	fileAppears(t, 60*time.Second, filepath.Join(h.dir, "started-2024-01-01"))
	h.ok(t, "dags", "unpause", "flaky")
	h.ok(t, "dags", "trigger", "blocker", "-r", "b2", "-e", "2024-06-02")
	fileAppears(t, 60*time.Second, filepath.Join(h.dir, "blocking-b2"))
	if err := os.WriteFile(gate, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if code := test.exits(t, 60*time.Second); code != 0 {
		t.Fatalf("dags test exited %d:\n%s", code, test.output(t))
	}
	out := test.output(t)
	for _, want := range []string{"--- work (try 1): up_for_retry ---", "work will be retried automatically: next try at 20", "--- work (try 2, run by another process on ", "second try", "Dag run manual__2024-01-01T00:00:00+00:00: success"} {
		if !strings.Contains(out, want) {
			t.Errorf("dags test output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "(try 2)") {
		t.Errorf("the one-shot ran the retry, so the test proved nothing:\n%s", out)
	}

	// backfill: one slot and two blocking tasks, so the daemon runs every
	// try of both runs, retries included.
	back := h.start(t, "backfill", []string{"WINDSOCK__CORE__PARALLELISM=1"}, "dags", "backfill", "flaky", "-s", "2024-01-02", "-e", "2024-01-03")
	if code := back.exits(t, 90*time.Second); code != 0 {
		t.Fatalf("backfill exited %d:\n%s", code, back.output(t))
	}
	out = back.output(t)
	for _, want := range []string{"backfill__2024-01-02T00:00:00+00:00: success", "backfill__2024-01-03T00:00:00+00:00: success", "--- work (try 2, run by another process on "} {
		if !strings.Contains(out, want) {
			t.Errorf("backfill output lacks %q:\n%s", want, out)
		}
	}
	for _, ds := range []string{"2024-01-02", "2024-01-03"} {
		if got := tryNumber(t, h, "flaky", "work", "backfill__"+ds+"T00:00:00+00:00"); got != "2" {
			t.Errorf("work of %s ended on try %s, want 2 (a retry)", ds, got)
		}
	}
}

// TestDagsTestPrintsTheNextTry: a retry wait is announced with its time.
func TestDagsTestPrintsTheNextTry(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "flaky.yaml", fmt.Sprintf(`flaky:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: work
      operator: bash
      retries: 1
      retry_delay: 1
      bash_command: 'if [ ! -e %[1]s/marker ]; then touch %[1]s/marker; exit 1; fi'
`, h.dir))
	out := h.ok(t, "dags", "test", "flaky", "2024-01-01")
	i := strings.Index(out, "work will be retried automatically: next try at ")
	if i < 0 {
		t.Fatalf("no retry announcement:\n%s", out)
	}
	at := strings.Fields(out[i+len("work will be retried automatically: next try at "):])[0]
	if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
		t.Errorf("next try time %q: %v", at, err)
	}
	if !strings.Contains(out, "(try 2): success") {
		t.Errorf("the retry did not run:\n%s", out)
	}
}

// tryNumber reads a task instance's try_number from the metadata
// database.
func tryNumber(t *testing.T, h *home, dagID, taskID, runID string) string {
	t.Helper()
	return rawColumn(t, h, `SELECT try_number FROM task_instance WHERE dag_id = ? AND task_id = ? AND run_id = ? AND map_index = -1`, dagID, taskID, runID)
}
