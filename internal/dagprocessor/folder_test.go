package dagprocessor

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/windsock"
)

// badEntries fills dir with entries that once stopped every pass or the
// whole server, and returns, by file name, what each one's import error
// must say.
func badEntries(t *testing.T, dir string) map[string]string {
	t.Helper()
	link := func(target, name string) {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	link("/dev/zero", "zero.yaml")
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	link("loop_b.yaml", "loop_a.yaml")
	link("loop_a.yaml", "loop_b.yaml")
	link("nowhere.yaml", "dangling.yaml")
	// 100 MB that take no disk space: reading them would take the memory.
	f, err := os.Create(filepath.Join(dir, "big.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(100 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return map[string]string{
		"zero.yaml":     "it is a character device",
		"fifo.yaml":     "it is a named pipe (FIFO)",
		"loop_a.yaml":   "too many levels of symbolic links",
		"loop_b.yaml":   "too many levels of symbolic links",
		"dangling.yaml": "no such file or directory",
		"big.yaml":      "100 MiB is more than core.max_dag_file_size (10 MiB)",
	}
}

// syncWithin runs one pass and fails the test if it does not finish: a
// read that blocks must fail the test rather than hang it.
func syncWithin(t *testing.T, p *Processor) *Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	type result struct {
		r   *Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := p.Sync(ctx)
		done <- result{r, err}
	}()
	select {
	case res := <-done:
		if res.err != nil {
			t.Fatalf("pass failed: %v", res.err)
		}
		return res.r
	case <-ctx.Done():
		t.Fatal("the pass did not finish: a DAG folder entry blocks it")
		return nil
	}
}

func importErrors(t *testing.T, st store.Store) map[string]string {
	t.Helper()
	errs, err := st.ImportErrorList(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range errs {
		out[filepath.Base(e.Filename)] = e.Stacktrace
	}
	return out
}

// TestBadEntriesAreImportErrors is not parallel: it measures the memory
// the pass allocates, which other tests would add to.
func TestBadEntriesAreImportErrors(t *testing.T) {
	b := setup(t, nil)
	b.write(t, "good.yaml", chainDAG("good", 3, "echo"))
	b.write(t, "sub/also_good.yaml", chainDAG("also_good", 2, "echo"))
	want := badEntries(t, b.dir)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	syncWithin(t, b.proc)
	runtime.ReadMemStats(&after)
	// TotalAlloc only grows, so a collection cannot hide a big read.
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 32<<20 {
		t.Errorf("the pass allocated %d MiB; the folder holds a 100 MB file and /dev/zero, neither may be read", alloc>>20)
	} else {
		t.Logf("the pass allocated %d KiB", alloc>>10)
	}
	if got := strings.Join(activeIDs(t, b.store), ","); got != "also_good,good" {
		t.Errorf("active DAGs = %s, want also_good,good", got)
	}
	got := importErrors(t, b.store)
	for name, msg := range want {
		full := filepath.Join(b.dir, name)
		if st := got[name]; !strings.HasPrefix(st, full+": cannot read: ") || !strings.Contains(st, msg) {
			t.Errorf("%s: import error %q, want %q naming the file", name, st, msg)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d import errors, want %d: %v", len(got), len(want), got)
	}

	// Bad entries that stay bad are not parsed nor written again.
	if r := syncWithin(t, b.proc); r.Changed != 0 {
		t.Errorf("second pass parsed %d files, want 0", r.Changed)
	}
	// Fixed, an entry becomes a DAG file like any other.
	if err := os.Remove(filepath.Join(b.dir, "fifo.yaml")); err != nil {
		t.Fatal(err)
	}
	b.write(t, "fifo.yaml", chainDAG("was_fifo", 1, "echo"))
	syncWithin(t, b.proc)
	if got := strings.Join(activeIDs(t, b.store), ","); got != "also_good,good,was_fifo" {
		t.Errorf("active DAGs after the fix = %s", got)
	}
	if _, ok := importErrors(t, b.store)["fifo.yaml"]; ok {
		t.Error("the fixed file keeps its import error")
	}
}

// TestServiceStartsAndBeatsWithBadEntries starts the service over the
// same folder: the first pass finishes, the job is recorded, the good DAGs
// are there.
func TestServiceStartsAndBeatsWithBadEntries(t *testing.T) {
	t.Parallel()
	passes := make(chan *Report, 16)
	b := setup(t, func(r *Report) { passes <- r })
	b.write(t, "good.yaml", chainDAG("good", 1, "echo"))
	badEntries(t, b.dir)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	started := make(chan error, 1)
	go func() { started <- b.proc.Start(ctx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatal(err)
		}
	case <-ctx.Done():
		t.Fatal("Start did not return: a DAG folder entry blocks the first pass")
	}
	if _, err := b.store.JobLatest(ctx, windsock.JobTypeDagProcessor); err != nil {
		t.Fatalf("no dag processor job: %v", err)
	}
	b.write(t, "later.yaml", chainDAG("later", 1, "echo"))
	for {
		select {
		case <-passes:
		case <-ctx.Done():
			t.Fatal("the service did not pick up a new file next to the bad entries")
		}
		if _, err := b.store.SerializedDAGGet(ctx, "later"); err == nil {
			break
		}
	}
	if got := strings.Join(activeIDs(t, b.store), ","); got != "good,later" {
		t.Errorf("active DAGs = %s", got)
	}
}

func utf16LE(s string) []byte {
	out := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

// postgresStore opens a migrated store in a fresh schema of the server in
// WINDSOCK_TEST_POSTGRES_URL (skipping without one, outside CI).
func postgresStore(t *testing.T) store.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), pgtest.FreshSchemaURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestTextThatPostgresRefusesNeverReachesIt runs on PostgreSQL, which
// refuses invalid UTF-8 and NUL in text columns and so once failed the
// whole pass (every DAG update) for one such file.
func TestTextThatPostgresRefusesNeverReachesIt(t *testing.T) {
	t.Parallel()
	st := postgresStore(t)
	b := setupStore(t, t.TempDir(), st, nil)
	b.write(t, "good.yaml", chainDAG("good", 1, "echo"))
	src := "# Écrit sous Windows\nwide:\n  description: \"données: été\"\n  tasks:\n    - task_id: t\n      operator: bash\n      bash_command: echo é\n"
	b.write(t, "wide.yaml", string(utf16LE(src)))
	b.write(t, "latin1.yaml", "latin1:\n  description: caf\xe9\n  tasks:\n    - task_id: t\n      operator: empty\n")
	b.write(t, "nul_escape.yaml", "nul_escape:\n  description: \"a\\0b\"\n  tasks:\n    - task_id: t\n      operator: empty\n")
	b.write(t, "raw\xffname.yaml", chainDAG("badname", 1, "echo"))
	deep := filepath.Join(strings.Repeat("d", 200), strings.Repeat("e", 200), strings.Repeat("e", 200), strings.Repeat("p", 200), strings.Repeat("q", 200), "deep.yaml")
	b.write(t, deep, "deep: [unclosed\n")
	owners := "owners:\n  tasks:\n"
	for i := 0; i < 30; i++ {
		owners += fmt.Sprintf("    - task_id: t%d\n      operator: empty\n      owner: %s%d\n", i, strings.Repeat("o", 100), i)
	}
	b.write(t, "owners.yaml", owners)
	syncWithin(t, b.proc)

	if got := strings.Join(activeIDs(t, b.store), ","); got != "good,wide" {
		t.Errorf("active DAGs = %s, want good,wide", got)
	}
	d := storedDAG(t, st, "wide")
	if d.Description != "données: été" || d.Task("t").Args["bash_command"] != "echo é" {
		t.Errorf("wide = %q / %v, want the decoded text", d.Description, d.Task("t").Args)
	}
	code, err := st.DAGCodeGet(context.Background(), windsock.FilelocHash(filepath.Join(b.dir, "wide.yaml")))
	if err != nil || code.SourceCode != src {
		t.Errorf("stored source = %q, %v; want the UTF-8 text", code.SourceCode, err)
	}
	errs := importErrors(t, st)
	if e := errs["latin1.yaml"]; !strings.Contains(e, "latin1.yaml:2:19: cannot read: invalid UTF-8 byte 0xe9 at byte offset 26") {
		t.Errorf("latin1 import error = %q", e)
	}
	if e := errs["nul_escape.yaml"]; !strings.Contains(e, "nul_escape.yaml:2:16: a NUL character") {
		t.Errorf("nul_escape import error = %q", e)
	}
	if e := errs["raw\uFFFDname.yaml"]; !strings.Contains(e, "the name is not valid UTF-8") {
		t.Errorf("import errors = %v, want one for the file whose name is not UTF-8", errs)
	}
	var deepErr string
	for name, e := range errs {
		if strings.HasSuffix(name, "…") {
			deepErr = e
		}
	}
	if !strings.Contains(deepErr, "the metadata database stores at most 1024") {
		t.Errorf("import errors = %v, want one for the path longer than 1024 characters", errs)
	}
	if e := errs["owners.yaml"]; !strings.Contains(e, "dag.owners holds at most 2000") {
		t.Errorf("owners import error = %q", e)
	}

	// The other files' DAGs still update.
	b.write(t, "good.yaml", chainDAG("good", 4, "echo"))
	syncWithin(t, b.proc)
	if n := len(storedDAG(t, st, "good").Tasks); n != 4 {
		t.Errorf("good has %d tasks after its update, want 4", n)
	}
}

// TestUnlistableDirectoryKeepsItsDAGs: when a directory's ignore file
// cannot be read, which of its files are DAG files is unknown; its DAGs
// are kept as they were rather than deactivated, and the ignore file gets
// the import error.
func TestUnlistableDirectoryKeepsItsDAGs(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.write(t, "good.yaml", chainDAG("good", 1, "echo"))
	b.write(t, "team/team_dag.yaml", chainDAG("team_dag", 1, "echo"))
	syncWithin(t, b.proc)
	ignore := filepath.Join(b.dir, "team", ".airflowignore")
	if err := os.Symlink("/dev/zero", ignore); err != nil {
		t.Fatal(err)
	}
	syncWithin(t, b.proc)
	if got := strings.Join(activeIDs(t, b.store), ","); got != "good,team_dag" {
		t.Errorf("active DAGs = %s, want good,team_dag", got)
	}
	if e := importErrors(t, b.store)[".airflowignore"]; !strings.HasPrefix(e, ignore+": cannot read: not a regular file") {
		t.Errorf("ignore file import error = %q", e)
	}
	if err := os.Remove(ignore); err != nil {
		t.Fatal(err)
	}
	b.write(t, "team/.airflowignore", "team_dag\n")
	syncWithin(t, b.proc)
	if got := strings.Join(activeIDs(t, b.store), ","); got != "good" {
		t.Errorf("active DAGs once the ignore file is read = %s, want good", got)
	}
	if errs := importErrors(t, b.store); len(errs) != 0 {
		t.Errorf("import errors = %v, want none", errs)
	}
}
