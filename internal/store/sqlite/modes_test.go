package sqlite_test

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/store/sqlstore"
	"github.com/windsock/windsock/internal/store/storetest"
	"github.com/windsock/windsock/internal/windsock"
)

// withUmask runs the rest of a test under umask mask. The umask belongs to
// the process: tests that call it do not run in parallel (a parallel test
// waits until every sequential one has finished).
func withUmask(t *testing.T, mask int) {
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func wantMode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
	}
}

// TestFilesArePrivate: with the home already there at 0755 and umask 022,
// the database and its WAL and shared-memory files are 0600, a folder
// Open creates is 0700, and a database an older version left at 0644 is
// made 0600.
func TestFilesArePrivate(t *testing.T) {
	withUmask(t, 0o022)
	home := t.TempDir()
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(home, "windsock.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := st.VariableSet(t.Context(), &windsock.Variable{Key: "k", Val: "secret"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		wantMode(t, name, 0o600)
	}
	st.Close()

	// An older version's files, open to everyone.
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.Chmod(name, 0o644); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	st, err = sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	wantMode(t, path, 0o600)

	nested := filepath.Join(home, "new", "windsock.db")
	st2, err := sqlite.Open(t.Context(), nested)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	wantMode(t, filepath.Dir(nested), 0o700)
	wantMode(t, nested, 0o600)
}

// TestUnavailable: SQLite refusing writes because the database is full
// (PRAGMA max_page_count, the real SQLITE_FULL a full disk gives) is
// store.ErrUnavailable.
func TestUnavailable(t *testing.T) {
	t.Parallel()
	storetest.RunUnavailable(t, func(t *testing.T) store.Store {
		st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "windsock.db"))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}, storetest.WriteFault{
		Break: func(t *testing.T, st store.Store) { setMaxPages(t, st, 0) },
		Mend:  func(t *testing.T, st store.Store) { setMaxPages(t, st, 1<<30) },
	})
}

// setMaxPages caps the database at n pages (0: its current size) on the
// store's single write connection.
func setMaxPages(t *testing.T, st store.Store, n int) {
	t.Helper()
	db := st.(*sqlstore.Store).DB()
	if n == 0 {
		if err := db.QueryRowContext(t.Context(), "PRAGMA page_count").Scan(&n); err != nil {
			t.Fatal(err)
		}
	}
	var got int
	if err := db.QueryRowContext(t.Context(), fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got); err != nil || got != n {
		t.Fatalf("max_page_count = %d, %v; want %d", got, err, n)
	}
}
