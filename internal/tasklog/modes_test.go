package tasklog

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// TestLogsArePrivate: with the log folder already there at 0755 and umask
// 022, the folders a log opens are 0700 and the log files 0600, for a
// first try (folders made) and a later one (folders there). Not parallel:
// the umask belongs to the process.
func TestLogsArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })
	base := t.TempDir()
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	key := windsock.TaskInstanceKey{DagID: "d", RunID: "r", TaskID: "t", MapIndex: 2}
	for try := 1; try <= 2; try++ {
		f, err := Open(base, key, try, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.Write([]byte("password=hunter2\n")); err != nil {
			t.Fatal(err)
		}
		f.Close()
		path := Path(base, key, try)
		if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("try %d log: %v, %v; want mode 0600", try, info.Mode(), err)
		}
	}
	for dir := filepath.Dir(Path(base, key, 1)); dir != base; dir = filepath.Dir(dir) {
		if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v, %v; want mode 0700", dir, info.Mode(), err)
		}
	}
}
