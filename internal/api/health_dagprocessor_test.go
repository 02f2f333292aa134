package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/dagfile"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/store/sqlite"
)

// TestHealthFollowsTheDAGProcessorsScans runs a real DAG processor: bad
// entries in the DAG folder leave it healthy (they are import errors), a
// folder it cannot scan makes it unhealthy, and it recovers on its own.
func TestHealthFollowsTheDAGProcessorsScans(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	// The DAG folder is a symbolic link, so that it can be swapped for
	// something that is not a directory in one step.
	realDir, dags := filepath.Join(dir, "real"), filepath.Join(dir, "dags")
	if err := os.MkdirAll(realDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	pointAt := func(target string) {
		t.Helper()
		if err := os.Symlink(target, dags+".new"); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(dags+".new", dags); err != nil {
			t.Fatal(err)
		}
	}
	pointAt("real")
	if err := os.WriteFile(filepath.Join(dags, "good.yaml"), []byte("good:\n  tasks:\n    t:\n      operator: empty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dags, "zero.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("loop.yaml", filepath.Join(dags, "loop.yaml")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(dags, "fifo.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	// The hooks never block the processor: a full channel already says
	// what the test waits for.
	passes := make(chan error, 1)
	failures := make(chan error, 1)
	signal := func(ch chan error, err error) {
		select {
		case ch <- err:
		default:
		}
	}
	proc, err := dagprocessor.New(dagprocessor.Config{
		Store: st, Roots: []dagprocessor.Root{{Dir: dags, FS: dagfile.DirFS(dags), Watch: true}}, Operators: operator.Builtins(),
		RescanInterval: 5 * time.Millisecond, HeartbeatInterval: 5 * time.Millisecond, Clock: clock,
		OnPass:      func(*dagprocessor.Report) { signal(passes, nil) },
		OnPassError: func(err error) { signal(failures, err) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := proc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer proc.Stop()
	srv := httptest.NewServer((&Server{Store: st, HealthThreshold: 30 * time.Second, Clock: clock}).Handler())
	defer srv.Close()
	status := func() string {
		t.Helper()
		resp, err := http.Get(srv.URL + "/api/v1/health")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var h HealthInfo
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		if h.DagProcessor.Status == nil {
			return "null"
		}
		return *h.DagProcessor.Status
	}
	// wait drains ch, then waits for a signal sent after the call.
	wait := func(ch chan error, what string) {
		t.Helper()
		select {
		case <-ch:
		default:
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("no %s", what)
		}
	}

	if got := status(); got != "healthy" {
		t.Fatalf("with bad entries in the folder: dag_processor %s, want healthy", got)
	}
	errs, err := st.ImportErrorList(ctx)
	if err != nil || len(errs) != 3 {
		t.Errorf("import errors = %d (%v), want 3", len(errs), err)
	}

	// The folder can no longer be listed: every scan fails.
	pointAt("file")
	wait(failures, "failed pass after the folder became a file")
	mu.Lock()
	now = now.Add(time.Minute)
	mu.Unlock()
	// A failure after the clock moved: passes went on failing, none beat.
	wait(failures, "failed pass after the clock moved")
	if got := status(); got != "unhealthy" {
		t.Errorf("scans failing for a minute: dag_processor %s, want unhealthy", got)
	}

	// The folder is back: the next pass succeeds and beats.
	pointAt("real")
	wait(passes, "successful pass once the folder was back")
	if got := status(); got != "healthy" {
		t.Errorf("after recovery: dag_processor %s, want healthy", got)
	}
}
