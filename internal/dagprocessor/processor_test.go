package dagprocessor

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/windsock/windsock/internal/dagfile"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

type testBundle struct {
	dir   string
	store store.Store
	proc  *Processor
}

func setup(t testing.TB, onPass func(*Report)) *testBundle {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return setupStore(t, dir, st, func(c *Config) { c.OnPass = onPass })
}

// setupStore returns a processor over dir/dags writing to st, a migrated
// store, with edit applied to its config.
func setupStore(t testing.TB, dir string, st store.Store, edit func(*Config)) *testBundle {
	t.Helper()
	dags := filepath.Join(dir, "dags")
	if err := os.MkdirAll(dags, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Store: st, Roots: []Root{{Dir: dags, FS: dagfile.DirFS(dags), Watch: true}}, Operators: operator.Builtins(),
		Defaults: dagfile.Defaults{
			Owner: "airflow", RetryDelay: 300 * time.Second, Catchup: true, MaxActiveRuns: 16, MaxActiveTasks: 16,
			PausedAtCreation: true, Timezone: time.UTC, Pool: windsock.DefaultPoolName, Queue: "default",
		},
		Clock: func() time.Time { return time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC) },
	}
	if edit != nil {
		edit(&cfg)
	}
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	return &testBundle{dir: dags, store: st, proc: p}
}

func (b *testBundle) write(t testing.TB, name, content string) {
	t.Helper()
	path := filepath.Join(b.dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	// Write to a temporary name and rename, as editors do, so a watcher
	// never sees a half-written file.
	tmp := path + ".tmp~"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func chainDAG(id string, tasks int, command string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: \"@daily\"\n  start_date: 2024-01-01\n  tags: [bench, t%d]\n  tasks:\n", id, tasks)
	for i := 0; i < tasks; i++ {
		fmt.Fprintf(&b, "    - task_id: t%d\n      operator: bash\n      bash_command: %s %d\n", i, command, i)
		if i > 0 {
			fmt.Fprintf(&b, "      dependencies: [t%d]\n", i-1)
		}
	}
	return b.String()
}

func activeIDs(t testing.TB, st store.Store) []string {
	t.Helper()
	dags, err := st.DAGList(context.Background(), &store.DAGListParams{OnlyActive: true})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(dags))
	for i, d := range dags {
		ids[i] = d.DagID
	}
	return ids
}

func storedDAG(t testing.TB, st store.Store, id string) *windsock.DAG {
	t.Helper()
	sd, err := st.SerializedDAGGet(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var d windsock.DAG
	if err := json.Unmarshal(sd.Data, &d); err != nil {
		t.Fatal(err)
	}
	return &d
}

func TestSyncLoadsGoodDAGsAndRecordsImportErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	b.write(t, "good.yaml", chainDAG("good", 3, "echo"))
	b.write(t, "sub/also_good.yaml", chainDAG("also_good", 2, "echo"))
	b.write(t, "broken.yaml", "broken:\n  tasks:\n    - task_id: a\n      operator: bash\n      bash_command: [unclosed\n")
	b.write(t, "bad_op.yaml", "bad_op:\n  tasks:\n    - task_id: a\n      operator: teleport\n")

	rep, err := b.proc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed != 4 {
		t.Errorf("Changed = %d, want 4", rep.Changed)
	}
	if got, want := strings.Join(activeIDs(t, b.store), ","), "also_good,good"; got != want {
		t.Errorf("active DAGs = %s, want %s", got, want)
	}
	errs, err := b.store.ImportErrorList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 {
		t.Fatalf("import errors = %d, want 2: %+v", len(errs), errs)
	}
	byFile := map[string]string{}
	for _, e := range errs {
		byFile[filepath.Base(e.Filename)] = e.Stacktrace
	}
	if st := byFile["bad_op.yaml"]; !strings.Contains(st, filepath.Join(b.dir, "bad_op.yaml")+":4:") || !strings.Contains(st, "teleport") {
		t.Errorf("bad_op import error = %q, want file:4:col and the operator name", st)
	}
	if st := byFile["broken.yaml"]; !strings.Contains(st, "broken.yaml:") {
		t.Errorf("broken import error = %q", st)
	}

	// Fix a file: its import error goes away and the DAG appears.
	b.write(t, "bad_op.yaml", chainDAG("bad_op", 1, "echo"))
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	errs, _ = b.store.ImportErrorList(ctx)
	if len(errs) != 1 {
		t.Errorf("import errors after fix = %d, want 1", len(errs))
	}
	if got := strings.Join(activeIDs(t, b.store), ","); got != "also_good,bad_op,good" {
		t.Errorf("active DAGs after fix = %s", got)
	}
}

func TestSyncSkipsUnchangedFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	b.write(t, "a.yaml", chainDAG("a", 2, "echo"))
	b.write(t, "b.yaml", chainDAG("b", 2, "echo"))
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := b.proc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed != 0 || rep.Written != 0 {
		t.Errorf("second pass: Changed=%d Written=%d, want 0 and 0", rep.Changed, rep.Written)
	}
	b.write(t, "b.yaml", chainDAG("b", 3, "echo"))
	rep, err = b.proc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Changed != 1 || rep.Written != 1 {
		t.Errorf("after edit: Changed=%d Written=%d, want 1 and 1", rep.Changed, rep.Written)
	}
	if n := len(storedDAG(t, b.store, "b").Tasks); n != 3 {
		t.Errorf("b has %d tasks, want 3", n)
	}
}

func TestRemovedFileDeactivatesItsDAGsAndKeepsThem(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	b.write(t, "a.yaml", chainDAG("a", 1, "echo"))
	b.write(t, "b.yaml", chainDAG("b", 1, "echo"))
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(b.dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	rep, err := b.proc.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Removed != 1 {
		t.Errorf("Removed = %d, want 1", rep.Removed)
	}
	if got := strings.Join(activeIDs(t, b.store), ","); got != "a" {
		t.Errorf("active = %s, want a", got)
	}
	m, err := b.store.DAGGet(ctx, "b")
	if err != nil {
		t.Fatalf("the removed DAG's row must stay: %v", err)
	}
	if m.IsActive {
		t.Error("b is still active")
	}
}

func TestDAGsWhoseFilesVanishedWhileStoppedAreDeactivated(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	b.write(t, "a.yaml", chainDAG("a", 1, "echo"))
	b.write(t, "b.yaml", chainDAG("b", 1, "echo"))
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(b.dir, "b.yaml")); err != nil {
		t.Fatal(err)
	}
	// A new processor (a restart) has no memory of b.yaml.
	fresh, err := New(b.proc.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(activeIDs(t, b.store), ","); got != "a" {
		t.Errorf("active = %s, want a", got)
	}
}

func TestDuplicateDAGIDAcrossFiles(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	b.write(t, "a.yaml", chainDAG("same", 1, "echo first"))
	b.write(t, "b.yaml", chainDAG("same", 2, "echo second"))
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d := storedDAG(t, b.store, "same")
	if !strings.HasSuffix(d.Fileloc, "a.yaml") || len(d.Tasks) != 1 {
		t.Errorf("same comes from %s with %d tasks, want a.yaml with 1", d.Fileloc, len(d.Tasks))
	}
	errs, _ := b.store.ImportErrorList(ctx)
	if len(errs) != 1 || !strings.HasSuffix(errs[0].Filename, "b.yaml") || !strings.Contains(errs[0].Stacktrace, "already defined") {
		t.Fatalf("import errors = %+v, want one on b.yaml", errs)
	}
	// Once a.yaml drops the DAG, b.yaml's definition takes over.
	b.write(t, "a.yaml", chainDAG("other", 1, "echo"))
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	d = storedDAG(t, b.store, "same")
	if !strings.HasSuffix(d.Fileloc, "b.yaml") || len(d.Tasks) != 2 {
		t.Errorf("same comes from %s with %d tasks, want b.yaml with 2", d.Fileloc, len(d.Tasks))
	}
	if errs, _ := b.store.ImportErrorList(ctx); len(errs) != 0 {
		t.Errorf("import errors = %+v, want none", errs)
	}
}

func TestBrokenDAGKeepsLastGoodDefinition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	b.write(t, "a.yaml", chainDAG("a", 2, "echo"))
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	b.write(t, "a.yaml", "a:\n  tasks:\n    - task_id: t0\n      operator: bash\n")
	if _, err := b.proc.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	m, err := b.store.DAGGet(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if !m.IsActive || !m.HasImportErrors {
		t.Errorf("a: active=%v has_import_errors=%v, want true, true", m.IsActive, m.HasImportErrors)
	}
	if n := len(storedDAG(t, b.store, "a").Tasks); n != 2 {
		t.Errorf("stored definition has %d tasks, want the last good one with 2", n)
	}
	errs, _ := b.store.ImportErrorList(ctx)
	if len(errs) != 1 || !strings.Contains(errs[0].Stacktrace, "bash_command") {
		t.Errorf("import errors = %+v, want the missing bash_command", errs)
	}
}

func TestServiceReparsesChangedFile(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	passes := make(chan *Report, 16)
	b := setup(t, func(r *Report) { passes <- r })
	b.write(t, "a.yaml", chainDAG("a", 1, "echo"))
	if err := b.proc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(activeIDs(t, b.store), ","); got != "a" {
		t.Fatalf("after start: active = %s", got)
	}
	b.write(t, "nested/new.yaml", chainDAG("new", 4, "echo"))
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-passes:
		case <-deadline:
			t.Fatal("no pass picked up the new file within 10 s")
		}
		if _, err := b.store.SerializedDAGGet(ctx, "new"); err == nil {
			break
		}
	}
	if n := len(storedDAG(t, b.store, "new").Tasks); n != 4 {
		t.Errorf("new has %d tasks, want 4", n)
	}
	j, err := b.store.JobLatest(ctx, windsock.JobTypeDagProcessor)
	if err != nil {
		t.Fatalf("the service must record its job: %v", err)
	}
	b.proc.Stop()
	b.proc.Stop() // idempotent
	ended, err := b.store.JobLatest(ctx, windsock.JobTypeDagProcessor)
	if err == nil && ended.ID == j.ID {
		t.Errorf("job %d still running after Stop", j.ID)
	}
}

// A file written while the processor starts is parsed at once, not at the
// next rescan: the watches exist before the first pass lists the folder,
// so a file lands either in that listing or in a watch's event. Here it
// lands as the watcher is made; the control plane's bucket copy hit that
// window (a burst DAG waited the 5-minute rescan with the old order: the
// pass listed first, the watch came after the file).
func TestServiceSeesFileWrittenAsItStarts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t, nil)
	b.proc.cfg.RescanInterval = time.Hour
	b.proc.newWatcher = func() (*fsnotify.Watcher, error) {
		b.write(t, "arrived.yaml", chainDAG("arrived", 1, "echo"))
		return fsnotify.NewWatcher()
	}
	if err := b.proc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	// Start returns once its first pass is stored.
	if _, err := b.store.SerializedDAGGet(ctx, "arrived"); err != nil {
		t.Fatalf("the file written as the processor started is not parsed by its first pass: %v", err)
	}
}

// A processor that cannot get a watcher (the host's inotify instances are
// all taken) says so and polls the folder instead of stopping: a new file
// is parsed without any event.
func TestServicePollsWhenItCannotWatch(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var logged strings.Builder
	var mu sync.Mutex
	passes := make(chan *Report, 1)
	b := setup(t, func(r *Report) {
		select { // polls go on after the test stops reading
		case passes <- r:
		default:
		}
	})
	b.proc.cfg.PollInterval = 20 * time.Millisecond
	b.proc.cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, &logged}, nil))
	b.proc.newWatcher = func() (*fsnotify.Watcher, error) {
		return nil, fmt.Errorf("inotify_init1: %w", syscall.EMFILE)
	}
	b.write(t, "a.yaml", chainDAG("a", 1, "echo"))
	if err := b.proc.Start(ctx); err != nil {
		t.Fatalf("Start without a watcher = %v, want it to poll", err)
	}
	mu.Lock()
	if s := logged.String(); !strings.Contains(s, "level=WARN") || !strings.Contains(s, "polling it instead") {
		t.Errorf("log %q does not warn that it polls", s)
	}
	mu.Unlock()
	b.write(t, "later.yaml", chainDAG("later", 2, "echo"))
	deadline := time.After(30 * time.Second)
	for {
		if _, err := b.store.SerializedDAGGet(ctx, "later"); err == nil {
			break
		}
		select {
		case <-passes:
		case <-deadline:
			t.Fatal("no poll picked up the new file within 30 s")
		}
	}
}

// lockedWriter serialises writes to w.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
