package bash

import (
	"errors"
	"io"
	"os"
	"sync"
)

// maxIdleDirs bounds how many empty working directories are kept for reuse.
const maxIdleDirs = 32

// workDirs hands out empty temporary working directories, as Airflow runs
// each bash command in a fresh TemporaryDirectory. Creating and removing a
// directory costs about 0.15 ms on a journaling file system, a sizeable
// part of a short task, so a directory the command left empty is kept and
// handed out again; one it wrote to is removed.
type workDirs struct {
	mu   sync.Mutex
	idle []string
}

// get returns an empty directory in tmp (the environment's temporary
// folder: a workDirs serves one environment).
func (w *workDirs) get(tmp string) (string, error) {
	w.mu.Lock()
	if n := len(w.idle); n > 0 {
		dir := w.idle[n-1]
		w.idle = w.idle[:n-1]
		w.mu.Unlock()
		return dir, nil
	}
	w.mu.Unlock()
	return os.MkdirTemp(tmp, "airflowtmp")
}

// put takes back a directory after the command ended: kept when still
// empty (and room is left), removed otherwise.
func (w *workDirs) put(dir string) {
	if isEmptyDir(dir) {
		w.mu.Lock()
		if len(w.idle) < maxIdleDirs {
			w.idle = append(w.idle, dir)
			w.mu.Unlock()
			return
		}
		w.mu.Unlock()
	}
	_ = os.RemoveAll(dir)
}

func isEmptyDir(dir string) bool {
	f, err := os.Open(dir)
	if err != nil {
		return false
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.IsDir() || st.Mode().Perm() != 0o700 {
		return false
	}
	_, err = f.Readdirnames(1)
	return errors.Is(err, io.EOF)
}
