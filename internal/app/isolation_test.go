package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// heldTry is a DAG "same" whose one task says it runs (writes to the
// started pipe) and then waits for a line on the release pipe: the test
// decides when it ends, and can tell whether it still runs by whether the
// release pipe still has a reader.
type heldTry struct {
	started, release string
}

func newHeldTry(t *testing.T) heldTry {
	t.Helper()
	dir := t.TempDir()
	h := heldTry{started: filepath.Join(dir, "started"), release: filepath.Join(dir, "release")}
	for _, p := range []string{h.started, h.release} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return h
}

func (h heldTry) dagYAML() string {
	return fmt.Sprintf(`
same:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: held, operator: bash, bash_command: 'echo up > %s; read line < %s; echo "released $line"'}
`, h.started, h.release)
}

// releaseTry lets the held try end; it fails the test if nothing reads the
// release pipe any more (the try was killed).
func (h heldTry) releaseTry(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(h.release, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, syscall.ENXIO) {
		t.Fatal("the held try no longer runs: nothing reads its release pipe")
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("go\n"); err != nil {
		t.Fatal(err)
	}
}

// Two environments in one process on one host run the same DAG id with the
// same logical date: their tries have the same dag, task, run, try number,
// pid and (each store numbering jobs from 1) job id. Cleaning up the
// leftovers of one environment's try, as its scheduler does for an orphan,
// kills that try's processes only, never the other environment's live try.
func TestEnvironmentsCleanUpOnlyTheirOwnLeftovers(t *testing.T) {
	t.Parallel()
	ha, hb := newHeldTry(t), newHeldTry(t)
	a := benchEnv(t, map[string]string{"same.yaml": ha.dagYAML()})
	b := benchEnv(t, map[string]string{"same.yaml": hb.dagYAML()})
	if a.ID == "" || a.ID == b.ID {
		t.Fatalf("environment ids %q and %q: want two distinct ids", a.ID, b.ID)
	}
	ea, eb := startEngine(t, a, nil), startEngine(t, b, nil)
	runA, runB := ea.start(t, "same", day), eb.start(t, "same", day)
	if runA.RunID != runB.RunID {
		t.Fatalf("run ids %q and %q: the test wants the same run in both", runA.RunID, runB.RunID)
	}
	waitForPipe(t, ha.started)
	waitForPipe(t, hb.started)
	tiA, tiB := states(t, a, runA)["held"], states(t, b, runB)["held"]
	if tiA.PID == nil || tiB.PID == nil || *tiA.PID != *tiB.PID || tiA.JobID == nil || tiB.JobID == nil || *tiA.JobID != *tiB.JobID {
		t.Fatalf("claims (pid %v job %v) and (pid %v job %v): the test wants the same pid and job id", tiA.PID, tiA.JobID, tiB.PID, tiB.JobID)
	}

	a.endOrphan(tiA)

	hb.releaseTry(t)
	if got := eb.wait(t, runB.RunID); got.State != windsock.DagRunSuccess {
		t.Errorf("environment B's run = %s, want success: A's cleanup touched B's try", got.State)
	}
	if got := ea.wait(t, runA.RunID); got.State != windsock.DagRunFailed {
		t.Errorf("environment A's run = %s, want failed: its cleanup did not kill its own try", got.State)
	}
}
