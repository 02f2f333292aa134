package pyrt_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/windsock/windsock/internal/operator"
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

// TestNativeTableMatchesCatalog checks that every class the Python side
// leaves to Go (windsock_rt/native.py) is in Go's operator catalog with
// every argument it may pass: a mismatch would turn a loadable Python DAG
// into a dagfile error.
func TestNativeTableMatchesCatalog(t *testing.T) {
	t.Parallel()
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is not installed (%v)", python, err)
	}
	cmd := exec.Command(python, "-c",
		"import json; from windsock_rt.native import NATIVE; print(json.dumps({k: sorted(v) for k, v in NATIVE.items()}))")
	cmd.Dir = "py"
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1", "PYTHONPATH=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reading the native table: %v", err)
	}
	var native map[string][]string
	if err := json.Unmarshal(out, &native); err != nil {
		t.Fatal(err)
	}
	if len(native) == 0 {
		t.Fatal("empty native table")
	}
	cat := operator.Builtins()
	for path, args := range native {
		spec, ok := cat.Lookup(path)
		if !ok {
			t.Errorf("native class %s is not in the operator catalog", path)
			continue
		}
		known := map[string]bool{}
		for _, a := range spec.Args {
			known[a.Name] = true
		}
		for _, a := range args {
			if !known[a] {
				t.Errorf("native class %s passes %q, which catalog spec %s does not take", path, a, spec.Name)
			}
		}
	}
}
