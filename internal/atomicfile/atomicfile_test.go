package atomicfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/windsock/windsock/internal/atomicfile"
)

// TestWrite: the file is replaced whole with the mode asked, in folders
// made on the way; writers racing on one path leave one writer's content
// and no temporary file.
func TestWrite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "a", "b", "state.json")
	if err := atomicfile.Write(path, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := atomicfile.WriteFrom(path, strings.NewReader("second"), 0o640); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if err != nil || string(b) != "second" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("after two writes: %q %v %v", b, fi.Mode(), err)
	}
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := atomicfile.Write(path, bytes.Repeat([]byte{byte('a' + i)}, 1<<16), 0o600); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	b, _ = os.ReadFile(path)
	if len(b) != 1<<16 || bytes.Count(b, b[:1]) != len(b) {
		t.Fatalf("racing writers left a mixed or partial file (%d bytes)", len(b))
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

// TestLock: a second holder waits until the first unlocks.
func TestLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := atomicfile.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		unlock2, err := atomicfile.Lock(path) // another open file: flock excludes it
		if err != nil {
			t.Error(err)
		} else {
			unlock2()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("the lock was taken twice")
	default:
	}
	unlock()
	<-got
}
