package envrunner

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/envspec"
)

// openFilesUnder counts this process's open files whose path starts with
// prefix (a SQLite database and its -wal and -shm files).
func openFilesUnder(t *testing.T, prefix string) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("no /proc/self/fd: %v", err)
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasPrefix(target, prefix) {
			n++
		}
	}
	return n
}

// TestStoppedEnvironmentStoreStaysClosed: the store the runner opens to
// read an environment's activity is closed when the environment stops,
// and a read that comes after (an Activity between the stop and the
// environment leaving the runner's list) is refused rather than opening
// it again, which nothing would close.
func TestStoppedEnvironmentStoreStaysClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, err := New(Config{Home: t.TempDir(), Executable: "/bin/false"})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvironment(r, envspec.Spec{Name: "closing"})
	e.logger = slog.New(slog.DiscardHandler)
	if err := os.MkdirAll(string(e.h), 0o700); err != nil {
		t.Fatal(err)
	}
	db := e.h.path("windsock.db")
	if err := renderConfig(e.h, e.spec, "sqlite:///"+db, true); err != nil {
		t.Fatal(err)
	}
	read := func() error {
		st, _, err := e.store(ctx)
		if err != nil {
			return err
		}
		return st.Ping(ctx)
	}
	if err := read(); err != nil {
		t.Fatal(err)
	}
	if n := openFilesUnder(t, db); n == 0 {
		t.Fatalf("no open file of %s while the store is open: the count cannot tell a leak", db)
	}
	e.stop(ctx)
	if n := openFilesUnder(t, db); n != 0 {
		t.Fatalf("%d files of the store open after the environment stopped", n)
	}
	if err := read(); !errors.Is(err, errStopping) {
		t.Fatalf("a read after the stop: %v, want it refused", err)
	}
	if n := openFilesUnder(t, db); n != 0 {
		t.Fatalf("a read after the stop opened the store again: %d files open", n)
	}
}
