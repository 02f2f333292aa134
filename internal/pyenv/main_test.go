package pyenv_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// python is Debian's interpreter, which has setuptools and wheel to build
// the test wheels (the python3 first on PATH may be a shim without them).
const python = "/usr/bin/python3"

// wheels is a directory of wheels built once for the package's tests:
// wsdemo 1.0 and 2.0, whose module says its version. Tests install them
// with --no-index --find-links: no package index is reachable.
var wheels string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "pyenv-wheels-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	wheels = filepath.Join(dir, "wheels")
	for _, v := range []string{"1.0", "2.0"} {
		if err := buildWheel(filepath.Join(dir, "src-"+v), v); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return m.Run()
}

// buildWheel writes a tiny project and builds its wheel into wheels, with
// pip's own build (no isolation: nothing to download).
func buildWheel(src, version string) error {
	if err := os.MkdirAll(filepath.Join(src, "wsdemo"), 0o755); err != nil {
		return err
	}
	files := map[string]string{
		"pyproject.toml":     "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"wsdemo\"\nversion = \"" + version + "\"\n",
		"wsdemo/__init__.py": "VERSION = \"" + version + "\"\n",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			return err
		}
	}
	cmd := exec.Command(python, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, src)
	cmd.Env = pipEnv()
	cmd.Dir = src
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build wheel %s: %v\n%s", version, err, out)
	}
	return nil
}

// pipEnv is the process environment without the host's pip settings, so
// that the tests see only the wheels they built.
func pipEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PIP_") {
			env = append(env, kv)
		}
	}
	return append(env, "PIP_CONFIG_FILE="+os.DevNull)
}
