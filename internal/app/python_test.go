package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/pyenv/pyenvtest"
)

// The Python runtime runs the virtual environment of the home's
// requirements.txt, with the home's plugins folder.
func TestPythonRuntimeUsesTheRequirementsEnvironment(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	wheels := filepath.Join(t.TempDir(), "wheels")
	if err := pyenvtest.BuildWheel(wheels, "wsapp", "1.0", "ANSWER = 42\n"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, "requirements.txt"), []byte(pyenvtest.Requirements(wheels, "wsapp==1.0")), 0o644); err != nil {
		t.Fatal(err)
	}
	environ := append(pyenvtest.Env(), "WINDSOCK_HOME="+home, "WINDSOCK__CORE__PYTHON_EXECUTABLE="+pyenvtest.Python,
		"WINDSOCK__CORE__LOAD_EXAMPLES=False")
	cfg, err := config.Load(home, environ)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	env, err := Open(ctx, cfg, Options{Environ: environ})
	if err != nil {
		t.Fatal(err)
	}
	defer env.Close()

	env.PreparePythonAtStart(ctx)
	res, err := env.PreparePython(ctx)
	if err != nil || res.Venv == "" || !res.Status.Healthy() {
		t.Fatalf("PreparePython = %+v, %v", res, err)
	}
	rt, err := env.PythonRuntime(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rt.Python() != res.Python || !strings.HasPrefix(rt.Python(), res.Venv) {
		t.Errorf("runtime python %s, want the environment's %s", rt.Python(), res.Python)
	}
	out, err := exec.Command(rt.Python(), "-c", "import wsapp; print(wsapp.ANSWER)").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "42" {
		t.Errorf("import wsapp from the runtime's python: %v %s", err, out)
	}
	if res.PluginsFolder != filepath.Join(home, "plugins") {
		t.Errorf("plugins folder %s", res.PluginsFolder)
	}
}
