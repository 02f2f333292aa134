// Package osenv reads an explicit process environment (a list of
// "KEY=value" strings, as exec.Cmd.Env takes) instead of this process's
// own: each Windsock environment gives its tasks and Python processes its
// own variables, and several environments may share one process, so what
// they start must be found and configured from their list, never from
// os.Getenv or the process's PATH.
package osenv

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Get returns the value of key in environ (the last one when it appears
// twice, as most programs read it) and whether it is set.
func Get(environ []string, key string) (string, bool) {
	val, found := "", false
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			val, found = v, true
		}
	}
	return val, found
}

// ErrNotFound is LookPath's error when no directory of PATH holds an
// executable of that name.
var ErrNotFound = errors.New("executable file not found in the environment's PATH")

// LookPath finds the executable name as a shell of environ would: a name
// with a slash is used as it is (and must be an executable file); any other
// is searched in the directories of environ's PATH, in order. Relative
// PATH entries are ignored, as exec.LookPath refuses them.
func LookPath(name string, environ []string) (string, error) {
	if strings.Contains(name, "/") {
		if err := executable(name); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return name, nil
	}
	path, _ := Get(environ, "PATH")
	for _, dir := range filepath.SplitList(path) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		p := filepath.Join(dir, name)
		if executable(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrNotFound)
}

func executable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fs.ErrPermission
	}
	return nil
}
