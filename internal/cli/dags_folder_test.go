package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDagsFolderBadEntriesThroughTheBinary runs the built binary over a
// DAG folder holding a /dev/zero link, a FIFO, a symlink loop and a 100 MB
// file, entries that once took all memory, hung the DAG processor or
// failed every scan: the command finishes, lists one import error per
// entry, and its peak memory stays far below the big file's size.
func TestDagsFolderBadEntriesThroughTheBinary(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "good.yaml", "good:\n  tasks:\n    t:\n      operator: empty\n")
	h.writeDAG(t, "team/also_good.yaml", "also_good:\n  tasks:\n    t:\n      operator: empty\n")
	dags := h.dags()
	for target, name := range map[string]string{"/dev/zero": "zero.yaml", "loop.yaml": "loop.yaml"} {
		if err := os.Symlink(target, filepath.Join(dags, name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dags, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Not sparse: the data is really there to be read.
	big, err := os.Create(filepath.Join(dags, "big.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	chunk := bytes.Repeat([]byte("# padding padding padding padding\n"), 30840) // about 1 MiB
	for i := 0; i < 100; i++ {
		if _, err := big.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	big.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "dags", "list-import-errors", "-o", "json")
	cmd.Env = h.env
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatal("windsock dags list-import-errors did not finish: a DAG folder entry blocks it")
	}
	// As Airflow's dag_list_import_errors: the errors, then exit 1.
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Fatalf("windsock dags list-import-errors: %v, want exit status 1\n%s", err, stderr.String())
	}
	var errs []struct {
		Filename   string `json:"filepath"`
		StackTrace string `json:"error"`
	}
	if err := json.Unmarshal(out.Bytes(), &errs); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	want := map[string]string{
		"big.yaml":  "more than core.max_dag_file_size (10 MiB)",
		"fifo.yaml": "a named pipe (FIFO)",
		"loop.yaml": "too many levels of symbolic links",
		"zero.yaml": "a character device",
	}
	if len(errs) != len(want) {
		t.Errorf("import errors = %+v, want %d", errs, len(want))
	}
	for _, e := range errs {
		name := filepath.Base(e.Filename)
		if e.Filename != filepath.Join(dags, name) || !strings.Contains(e.StackTrace, want[name]) {
			t.Errorf("import error %s: %q, want %q", e.Filename, e.StackTrace, want[name])
		}
	}
	// The peak resident set (Linux reports it in KiB) against the same
	// command's over a folder without the big file, run just after under
	// the same conditions: 32-38 MiB alone, 53 with the race detector, and
	// up to 115 seen while the whole suite ran, so no fixed bound holds.
	// Reading the file would add its 100 MB on top.
	baseline := exec.CommandContext(ctx, binary, "dags", "list-import-errors", "-o", "json")
	baseline.Env = append(slices.Clone(h.env), "WINDSOCK__CORE__DAGS_FOLDER="+t.TempDir())
	// Its exit status does not matter here (the store still lists the
	// other folder's errors); that it ran does.
	if err := baseline.Run(); err != nil && baseline.ProcessState == nil {
		t.Fatalf("dags list-import-errors over an empty folder: %v", err)
	}
	peak, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	base, ok2 := baseline.ProcessState.SysUsage().(*syscall.Rusage)
	if ok && ok2 {
		grew := (peak.Maxrss - base.Maxrss) << 10
		if grew > 64<<20 {
			t.Errorf("peak memory %d MiB, %d MiB above an empty folder's: the 100 MB file must not be read", peak.Maxrss>>10, grew>>20)
		} else {
			t.Logf("peak memory %d MiB (an empty folder's: %d MiB)", peak.Maxrss>>10, base.Maxrss>>10)
		}
	}

	list := h.ok(t, "dags", "list", "-o", "json")
	if !strings.Contains(list, `"also_good"`) || !strings.Contains(list, `"good"`) {
		t.Errorf("dags list = %s, want good and also_good", list)
	}
}
