package pyrt_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestPythonPackage runs the unittest suites of the embedded Python tree
// (the airflow authoring package and windsock_rt's parser) with the
// interpreter Windsock's tests use, so `go test ./internal/pyrt/` covers
// the Python side too.
func TestPythonPackage(t *testing.T) {
	t.Parallel()
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is not installed (%v): the Python suites need Debian's python3", python, err)
	}
	root, err := filepath.Abs("py")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-m", "unittest", "discover", "-s", "tests", "-t", ".")
	cmd.Dir = root
	// No bytecode files in the source tree; no user site-packages or
	// PYTHONPATH from the caller's environment leaking into the run.
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONNOUSERSITE=1", "PYTHONPATH=")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("python unittest failed: %v\n%s", err, out)
	}
	t.Logf("%s", out)
}
