package atomicfile_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
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

// TestLock: a second holder waits until the first unlocks: while the lock
// is held another open file cannot take it, and Lock returns once it is
// released, never before.
func TestLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := atomicfile.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	// Held: a non-blocking try on another open file of the same path fails.
	other, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != syscall.EWOULDBLOCK {
		t.Fatalf("a second lock while the first is held: %v, want EWOULDBLOCK", err)
	}
	var released atomic.Bool
	got := make(chan error, 1)
	go func() {
		unlock2, err := atomicfile.Lock(path)
		if err == nil {
			if !released.Load() {
				err = errors.New("the lock was taken while held")
			}
			unlock2()
		}
		got <- err
	}()
	released.Store(true)
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// TestLockContext: a wait for a held lock ends with the context, and the
// wait given up does not keep the lock once the holder lets it go (the
// next Lock gets it).
func TestLockContext(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dir", "x.lock")
	unlock, err := atomicfile.LockContext(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := atomicfile.LockContext(ctx, path); !errors.Is(err, context.Canceled) {
		t.Fatalf("waiting for a held lock with a cancelled context: %v, want context.Canceled", err)
	}
	unlock()
	unlock, err = atomicfile.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
}
