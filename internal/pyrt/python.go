package pyrt

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/osenv"
)

var resolved sync.Map // resolutionKey -> resolution

// resolutionKey is what an interpreter's resolution depends on: the
// executable found, and the variable a pyenv shim picks a version by.
type resolutionKey struct{ found, pyenvVersion string }

type resolution struct {
	once sync.Once
	path string
	err  error
}

// ResolvePython returns the real interpreter for name (core.python_executable;
// "" means python3), looked up on the PATH of environ, the environment's
// variables: never this process's, which environments with other
// interpreters may share. A version-manager shim such as pyenv's costs
// about a second per start, so the shim is run once (with environ) to ask
// for sys.executable, and that binary is used from then on. The answer is
// remembered for the life of the process, per executable and PYENV_VERSION.
func ResolvePython(ctx context.Context, name string, environ []string) (string, error) {
	if name == "" {
		name = "python3"
	}
	found, err := osenv.LookPath(name, environ)
	if err != nil {
		return "", fmt.Errorf("find python interpreter %q (core.python_executable): %w", name, err)
	}
	version, _ := osenv.Get(environ, "PYENV_VERSION")
	v, _ := resolved.LoadOrStore(resolutionKey{found, version}, &resolution{})
	r := v.(*resolution)
	r.once.Do(func() { r.path, r.err = resolvePython(ctx, found, environ) })
	return r.path, r.err
}

func resolvePython(ctx context.Context, found string, environ []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, found, "-c", "import sys; sys.stdout.write(sys.executable)")
	cmd.Env = environ
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("run python interpreter %s: %w: %s", found, err, strings.TrimSpace(stderr.String()))
	}
	real := strings.TrimSpace(string(out))
	if real == "" || !filepath.IsAbs(real) {
		return found, nil
	}
	if st, err := os.Stat(real); err != nil || st.IsDir() {
		return found, nil
	}
	return real, nil
}
