package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/benchdir"
)

// binary is the windsock binary built once for every test in this package:
// CLI tests run the real thing in a temporary WINDSOCK_HOME.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "windsock-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "windsock")
	build := exec.Command("go", "build", "-o", binary, "../../cmd/windsock")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build windsock:", err)
		os.Exit(1)
	}
	code := benchdir.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// home is a temporary WINDSOCK_HOME with its own environment.
type home struct {
	dir string
	env []string
}

func newHome(t *testing.T, extraEnv ...string) *home {
	t.Helper()
	dir := t.TempDir()
	env := []string{
		"WINDSOCK_HOME=" + dir,
		"HOME=" + dir,
		"PATH=" + os.Getenv("PATH"),
		"WINDSOCK__CORE__LOAD_EXAMPLES=False",
	}
	return &home{dir: dir, env: append(env, extraEnv...)}
}

func (h *home) dags() string { return filepath.Join(h.dir, "dags") }

func (h *home) writeDAG(t *testing.T, name, content string) {
	t.Helper()
	path := filepath.Join(h.dags(), name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

type result struct {
	stdout, stderr string
	code           int
}

// run runs windsock with args and returns its output and exit code.
func (h *home) run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = h.env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return result{stdout: out.String(), stderr: errb.String(), code: code}
}

// ok runs windsock and fails the test unless it exits 0.
func (h *home) ok(t *testing.T, args ...string) string {
	t.Helper()
	r := h.run(t, "", args...)
	if r.code != 0 {
		t.Fatalf("windsock %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs windsock, expects a non-zero exit with a one-line error
// containing want (or, for a usage error, exit 2 with a usage line and an
// error line), and returns stderr.
func (h *home) fails(t *testing.T, want string, args ...string) string {
	t.Helper()
	r := h.run(t, "", args...)
	if r.code == 0 {
		t.Fatalf("windsock %s: exit 0, want failure\nstdout: %s", strings.Join(args, " "), r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	usage := r.code == 2 && len(lines) == 2 && strings.HasPrefix(lines[0], "usage: windsock") && strings.Contains(lines[1], ": error: ")
	if !usage && (len(lines) != 1 || !strings.HasPrefix(lines[0], "Error: ")) {
		t.Errorf("windsock %s: stderr is not one error line: %q", strings.Join(args, " "), r.stderr)
	}
	if !strings.Contains(r.stderr, want) {
		t.Errorf("windsock %s: stderr %q does not contain %q", strings.Join(args, " "), r.stderr, want)
	}
	return r.stderr
}
