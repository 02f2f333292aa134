package cli_test

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// controlPlane is a running `windsock controlplane`.
type controlPlane struct {
	cmd  *exec.Cmd
	url  string
	done chan error
}

var listening = regexp.MustCompile(`msg="control plane listening" address=(http://\S+)`)

// startControlPlane runs the binary on a free port and returns once it
// logs where it listens.
func startControlPlane(t *testing.T, h *home, dir string) *controlPlane {
	t.Helper()
	cmd := exec.Command(binary, "controlplane", "--port", "0", "--home", dir)
	cmd.Env = h.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cp := &controlPlane{cmd: cmd, done: make(chan error, 1)}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-cp.done
	})
	lines := bufio.NewScanner(stderr)
	for lines.Scan() {
		if m := listening.FindStringSubmatch(lines.Text()); m != nil {
			cp.url = m[1]
			break
		}
		t.Log(lines.Text())
	}
	go func() {
		for lines.Scan() {
			t.Log(lines.Text())
		}
		cp.done <- cmd.Wait()
	}()
	if cp.url == "" {
		t.Fatal("the control plane did not say where it listens")
	}
	return cp
}

func TestControlPlaneBinary(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	dir := filepath.Join(h.dir, "cp")
	cp := startControlPlane(t, h, dir)

	out, err := exec.Command(binary, "controlplane", "keys", "create", "--home", dir, "--name", "ci", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		ID     string `json:"access_key_id"`
		Secret string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(out, &key); err != nil || !strings.HasPrefix(key.ID, "AKIA") || len(key.Secret) != 40 {
		t.Fatalf("keys create: %s", out)
	}
	env := append(h.env, "AWS_ACCESS_KEY_ID="+key.ID, "AWS_SECRET_ACCESS_KEY="+key.Secret)
	windsock := func(url string, args ...string) (string, string, int) {
		cmd := exec.Command(binary, append(args, "--endpoint-url", url)...)
		cmd.Env = env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return stdout.String(), stderr.String(), code
	}

	// Until internal/envrunner is wired in, environments fail to start
	// with a message saying so; once it is, they become AVAILABLE.
	out2, stderr, code := windsock(cp.url, "env", "create", "first", "--wait", "-o", "json")
	var created struct{ Status string }
	_ = json.Unmarshal([]byte(out2), &created)
	switch created.Status {
	case "AVAILABLE":
	case "CREATE_FAILED":
		if code != 1 || !strings.Contains(stderr, "no environment runner") {
			t.Fatalf("env create: %d %s", code, stderr)
		}
	default:
		t.Fatalf("env create: %d %s %s", code, out2, stderr)
	}
	_, stderr, code = windsock(cp.url, "env", "create", "1st")
	if code != 1 || !strings.Contains(stderr, "(ValidationException) when calling the CreateEnvironment operation: 1 validation error detected: Value '1st' at 'name'") {
		t.Fatalf("a bad name: %d %s", code, stderr)
	}

	// The state survives a restart of the control plane.
	if err := cp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-cp.done; err != nil {
		t.Fatalf("the control plane exited with %v after SIGTERM", err)
	}
	cp.done <- nil // for the cleanup
	cp2 := startControlPlane(t, h, dir)
	out3, stderr, code := windsock(cp2.url, "env", "status", "first")
	if code != 0 || !strings.HasPrefix(out3, "first\t"+created.Status) {
		t.Fatalf("env status after a restart: %d %q %s", code, out3, stderr)
	}
	badEnv := append(h.env, "AWS_ACCESS_KEY_ID="+key.ID, "AWS_SECRET_ACCESS_KEY=wrong")
	cmd := exec.Command(binary, "env", "list", "--endpoint-url", cp2.url)
	cmd.Env = badEnv
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "InvalidSignatureException") {
		t.Fatalf("a wrong secret: %v %s", err, out)
	}
}
