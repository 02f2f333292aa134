// Package atomicfile changes files so that readers, and other processes
// changing them, never see half of a change: Write replaces a file whole,
// Lock serializes a read-modify-write between processes.
package atomicfile

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// Write replaces path with data: a temporary file beside it (in the same
// directory, so the rename stays on one file system), written, synced,
// given mode and renamed over path. A reader sees the old file or the new
// one, never a part; a crash leaves the old one. Missing directories are
// created (0700).
func Write(path string, data []byte, mode os.FileMode) error {
	return WriteFrom(path, bytes.NewReader(data), mode)
}

// WriteFrom is Write with what r holds.
func WriteFrom(path string, r io.Reader, mode os.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	// A unique name: two writers of one path never share a temporary file.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // nothing left to remove after the rename
	_, err = io.Copy(tmp, r)
	if err == nil {
		err = tmp.Chmod(mode)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Lock takes an exclusive lock on path (created, 0600, if missing),
// waiting while another process holds it; unlock releases it. Hold it
// around reading, changing and writing a file that several processes
// change (e.g. path = the file's name + ".lock").
func Lock(path string) (unlock func(), err error) {
	return LockContext(context.Background(), path)
}

// LockContext is Lock that gives up waiting when ctx ends, with ctx's
// error.
func LockContext(ctx context.Context, path string) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// flock cannot be interrupted by ctx: it waits in a goroutine, and a
	// lock obtained after the caller gave up is released at once (closing
	// the file releases it).
	done := make(chan error, 1)
	go func() { done <- flock(f) }()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return func() { f.Close() }, nil
	case <-ctx.Done():
		go func() {
			<-done
			f.Close()
		}()
		return nil, ctx.Err()
	}
}

// flock takes an exclusive lock on f, waiting for it; a signal that
// interrupts the wait does not end it.
func flock(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			return err
		}
	}
}
