// Package benchdir gives benchmarks the directories they create task homes
// in: under $WINDSOCK_BENCH_DIR when set, on the disk being measured.
//
// Those directories are left in place when the benchmark ends: Main
// removes them when the test binary ends (or `make bench`, once every
// benchmark has run). The reason is a
// property of ext4 without a journal, as on the machines this was measured
// on: for at least a minute after an inode is freed, every new inode in its
// block group skips it, and finding the next free one checks each recently
// freed inode in turn. Deleting the 2,000 files and folders a 1,000-task
// run logs into made each file the next run created cost 0.3–0.5 ms of
// processor time instead of 0.03 (perf: recently_deleted under ext4_mkdir
// and ext4_create), which halved the throughput the next benchmark
// measured.
package benchdir

import (
	"fmt"
	"os"
	"testing"
)

// Env names the folder benchmark homes go in.
const Env = "WINDSOCK_BENCH_DIR"

// Main runs the tests of a package whose benchmarks use New, and returns
// the exit code for os.Exit. With $WINDSOCK_BENCH_DIR unset, it points it
// at a temporary directory for the run and removes that at the end; a
// benchmark function runs several times (a first time with b.N = 1), and
// deleting one run's files between them would slow the next.
func Main(m *testing.M) int {
	if os.Getenv(Env) != "" {
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "windsock-bench")
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchdir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	os.Setenv(Env, dir)
	return m.Run()
}

// New returns a new empty directory for one home. A benchmark's is under
// $WINDSOCK_BENCH_DIR and kept when the benchmark ends; a test's (or any
// home with the variable unset, outside Main) is tb.TempDir(), removed
// when the test ends.
func New(tb testing.TB, prefix string) string {
	tb.Helper()
	base := os.Getenv(Env)
	if _, bench := tb.(*testing.B); !bench || base == "" {
		return tb.TempDir()
	}
	if err := os.MkdirAll(base, 0o755); err != nil {
		tb.Fatal(err)
	}
	dir, err := os.MkdirTemp(base, prefix)
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}
