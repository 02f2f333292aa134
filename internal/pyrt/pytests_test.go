package pyrt_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/pyrt"
	"github.com/windsock/windsock/internal/windsock"
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

// TestCorpusThroughRuntime parses the DAG corpus the way the DAG processor
// does: through the warm server's workers, with the corpus as the DAG
// folder on sys.path (files import its common/ package) and Variables
// answered over the RPC socket (none exist, so defaults apply).
func TestCorpusThroughRuntime(t *testing.T) {
	t.Parallel()
	const python = "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is not installed (%v)", python, err)
	}
	corpus, err := filepath.Abs(filepath.Join("testdata", "corpus"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := pyrt.New(ctx, pyrt.Config{Python: python, CacheDir: t.TempDir(), DagsFolder: corpus})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Stop)
	var (
		mu    sync.Mutex
		asked []string
	)
	h := pyrt.HandlerFunc(func(ctx context.Context, name string, args json.RawMessage) (any, error) {
		var a struct {
			Key string `json:"key"`
		}
		_ = json.Unmarshal(args, &a)
		mu.Lock()
		asked = append(asked, name+":"+a.Key)
		mu.Unlock()
		return nil, windsock.Errorf(windsock.ENOTFOUND, "no %s %s", name, a.Key)
	})
	files, err := filepath.Glob(filepath.Join(corpus, "*.py"))
	if err != nil || len(files) < 60 {
		t.Fatalf("corpus files: %d, %v", len(files), err)
	}
	dags := 0
	start := time.Now()
	for _, f := range files {
		res, err := r.Parse(ctx, f, time.Minute, h)
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(f), err)
		}
		for _, e := range res.ImportErrors {
			t.Errorf("%s:%d: %s", filepath.Base(f), e.Line, e.Message)
		}
		if len(res.DAGs) == 0 {
			t.Errorf("%s: no DAG", filepath.Base(f))
		}
		dags += len(res.DAGs)
		if filepath.Base(f) == "user_variables_parse_time.py" {
			if got := res.VariablesRead; len(got) != 2 || got[0] != "environment" || got[1] != "pipeline_config" {
				t.Errorf("variables_read = %q", got)
			}
		}
	}
	t.Logf("%d files, %d DAGs parsed one after another in %s (server start included)", len(files), dags, time.Since(start))
	if dags < 65 {
		t.Errorf("%d DAGs from %d files", dags, len(files))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) == 0 || asked[0] != "variable_get:environment" && asked[0] != "variable_get:mwaa_bucket" {
		t.Errorf("variable lookups did not reach the handler: %q", asked)
	}
}
