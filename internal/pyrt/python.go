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
)

var resolved sync.Map // name -> resolution

type resolution struct {
	once sync.Once
	path string
	err  error
}

// ResolvePython returns the real interpreter for name (core.python_executable;
// "" means the first python3 on PATH). A version-manager shim such as
// pyenv's costs about a second per start, so the shim is run once to ask
// for sys.executable, and that binary is used from then on. The answer is
// remembered for the life of the process.
func ResolvePython(ctx context.Context, name string) (string, error) {
	if name == "" {
		name = "python3"
	}
	v, _ := resolved.LoadOrStore(name, &resolution{})
	r := v.(*resolution)
	r.once.Do(func() { r.path, r.err = resolvePython(ctx, name) })
	return r.path, r.err
}

func resolvePython(ctx context.Context, name string) (string, error) {
	found, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("find python interpreter %q (core.python_executable): %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, found, "-c", "import sys; sys.stdout.write(sys.executable)")
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
