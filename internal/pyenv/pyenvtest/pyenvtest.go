// Package pyenvtest helps tests install Python packages without a package
// index: it builds wheels of tiny projects locally, to install with
// --no-index --find-links lines in a requirements file.
package pyenvtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Python is Debian's interpreter, which has pip, setuptools and wheel to
// build wheels (the python3 first on PATH may be a shim without them).
const Python = "/usr/bin/python3"

// BuildWheel builds a wheel of project name at version into dir: one
// package, name, whose __init__.py is source. The build runs offline
// (--no-index, --no-build-isolation).
func BuildWheel(dir, name, version, source string) error {
	src, err := os.MkdirTemp("", "wheel-src-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(src)
	if err := os.MkdirAll(filepath.Join(src, name), 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"pyproject.toml": fmt.Sprintf("[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n"+
			"[project]\nname = %q\nversion = %q\n", name, version),
		filepath.Join(name, "__init__.py"): source,
	}
	for path, body := range files {
		if err := os.WriteFile(filepath.Join(src, path), []byte(body), 0o644); err != nil {
			return err
		}
	}
	cmd := exec.Command(Python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dir, src)
	cmd.Env = Env()
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build wheel %s %s: %v\n%s", name, version, err, out)
	}
	return nil
}

// Env is the process environment without the host's pip settings
// (PIP_* variables, pip.conf), so that pip sees only what a test gives it.
func Env() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PIP_") {
			env = append(env, kv)
		}
	}
	return append(env, "PIP_CONFIG_FILE="+os.DevNull)
}

// Requirements returns a requirements file installing lines from the
// wheels in dir only.
func Requirements(dir string, lines ...string) string {
	return "--no-index\n--find-links " + dir + "\n" + strings.Join(lines, "\n") + "\n"
}
