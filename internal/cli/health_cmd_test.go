package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A home whose requirements.txt pip cannot install: standalone installs
// it at start, keeps running on the base interpreter, and /health and
// `windsock health` report pip's message.
func TestHealthReportsAFailedRequirementsInstall(t *testing.T) {
	t.Parallel()
	h := newHome(t, "WINDSOCK__CORE__PYTHON_EXECUTABLE=/usr/bin/python3", "PIP_CONFIG_FILE="+os.DevNull)
	req := "--no-index\nwindsock-no-such-package==1.0\n"
	if err := os.WriteFile(filepath.Join(h.dir, "requirements.txt"), []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	d := h.startDaemon(t, "windsock standalone is ready", "standalone", "--port", port)
	_ = d

	resp, err := http.Get("http://127.0.0.1:" + port + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Python struct {
			Status string  `json:"status"`
			Python *string `json:"python"`
			Error  *string `json:"error"`
		} `json:"python_environment"`
	}
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	py := health.Python
	if py.Status != "unhealthy" || py.Error == nil || !strings.Contains(*py.Error, "No matching distribution found for windsock-no-such-package==1.0") {
		t.Errorf("/health python_environment = %+v", py)
	}
	if py.Python == nil || *py.Python != "/usr/bin/python3" {
		t.Errorf("/health python = %v, want the base interpreter", py.Python)
	}

	r := h.run(t, "", "health")
	t.Logf("windsock health:\n%s", r.stdout)
	if r.code != 1 {
		t.Errorf("health exit %d, want 1 (the Python environment is unhealthy)\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"python_environment | unhealthy", "No matching distribution found for windsock-no-such-package", "scheduler          | healthy"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("health output lacks %q:\n%s", want, r.stdout)
		}
	}
	r = h.run(t, "", "health", "-o", "json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || component(doc, "python_environment") != "unhealthy" {
		t.Errorf("health -o json: %v\n%s", err, r.stdout)
	}
}

// Without requirements.txt or plugins.zip the environment's Python is
// healthy and nothing is installed.
func TestHealthOfAHomeWithoutPythonRequirements(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	r := h.run(t, "", "health", "-o", "json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("health -o json: %v\n%s%s", err, r.stdout, r.stderr)
	}
	if component(doc, "python_environment") != "healthy" || component(doc, "scheduler") != "unhealthy" || r.code != 1 {
		t.Errorf("health = %d %v", r.code, doc)
	}
	if _, err := os.Stat(filepath.Join(h.dir, "python_env")); err == nil {
		t.Error("python_env created for a home without requirements")
	}
}

// component returns the status of a component of a /health document.
func component(doc map[string]any, name string) any {
	c, _ := doc[name].(map[string]any)
	return c["status"]
}
