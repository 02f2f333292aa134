package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/pyenv"
)

// A failed pip install of the home's requirements.txt shows on every page
// in a banner with pip's message, escaped, and in /health; the previous
// environment (here the base interpreter) stays in use.
func TestPythonEnvironmentFailureShownInBannerAndHealth(t *testing.T) {
	t.Parallel()
	e := setup(t)
	health := func() (out struct {
		Python struct {
			Status string  `json:"status"`
			Python *string `json:"python"`
			Error  *string `json:"error"`
		} `json:"python_environment"`
	}) {
		t.Helper()
		r := e.get("/health", "")
		if err := json.Unmarshal([]byte(r.body), &out); err != nil || r.status != 200 {
			t.Fatalf("/health: %d %v %s", r.status, err, r.body)
		}
		return out
	}
	if strings.Contains(e.page("/", "admin", 200), "python-env-error") {
		t.Fatal("banner shown before any install")
	}
	if h := health(); h.Python.Status != "healthy" || h.Python.Error != nil {
		t.Fatalf("health before any install: %+v", h.Python)
	}

	req := "--no-index\nwindsock-no-such<b>pkg</b>\n"
	if err := os.WriteFile(filepath.Join(e.cfg.Home, "requirements.txt"), []byte(req), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := pyenv.FromConfig(e.cfg, append(os.Environ(), "PIP_CONFIG_FILE="+os.DevNull))
	cfg.Python = "/usr/bin/python3"
	res, err := pyenv.Prepare(e.ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Venv != "" || res.Status.Healthy() {
		t.Fatalf("Prepare = %+v, want a failed install and no environment", res)
	}

	for _, path := range []string{"/", "/datasets"} {
		body := e.page(path, "viewer", 200)
		i := strings.Index(body, `id="python-env-error"`)
		if i < 0 {
			t.Fatalf("GET %s: no Python environment banner", path)
		}
		banner := body[i:min(len(body), i+3000)]
		if !strings.Contains(banner, "No matching distribution found for windsock-no-such&lt;b&gt;pkg&lt;/b&gt;") {
			t.Errorf("GET %s: banner lacks pip's escaped message: %s", path, banner)
		}
		if strings.Contains(body, "<b>pkg</b>") {
			t.Errorf("GET %s: pip's message reached the page unescaped", path)
		}
	}
	h := health()
	if h.Python.Status != "unhealthy" || h.Python.Error == nil || !strings.Contains(*h.Python.Error, "No matching distribution found for windsock-no-such<b>pkg</b>") {
		t.Errorf("health after the failed install: %+v", h.Python)
	}
	if h.Python.Python == nil || *h.Python.Python != "/usr/bin/python3" {
		t.Errorf("health python = %v, want the base interpreter kept", h.Python.Python)
	}
	// The login page, seen before anyone is known, shows nothing.
	if strings.Contains(e.page("/login", "", 200), "python-env-error") {
		t.Error("banner shown to an anonymous visitor")
	}
}
