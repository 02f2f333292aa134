package cli_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
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
	u := newCPUser(t, h, cp, dir, "ci", "")
	if id := strings.TrimPrefix(envValue(u.env, "AWS_ACCESS_KEY_ID"), "AKIA"); len(id) != 16 || len(envValue(u.env, "AWS_SECRET_ACCESS_KEY")) != 40 {
		t.Fatalf("keys create: %v", u.env)
	}

	// A DAG file copied into the environment's bucket folder appears in
	// the environment and runs when triggered through MWAA's CLI endpoint.
	u.create("first", map[string]string{"hello.yaml": `hello:
  schedule: null
  start_date: 2024-01-01
  tasks:
    say:
      operator: airflow.operators.bash.BashOperator
      bash_command: echo hello from the bucket
`})
	u.until("first", "dags list", "hello", 60*time.Second)
	u.airflow("first", "dags unpause hello")
	u.airflow("first", "dags trigger hello -e 2024-03-01")
	u.until("first", "dags state hello 2024-03-01", "success", 60*time.Second)
	if res := u.windsock("env", "create", "1st"); res.code != 1 || !strings.Contains(res.stderr, "(ValidationException) when calling the CreateEnvironment operation: 1 validation error detected: Value '1st' at 'name'") {
		t.Fatalf("a bad name: %d %s", res.code, res.stderr)
	}

	// The state survives a restart of the control plane.
	if err := cp.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-cp.done; err != nil {
		t.Fatalf("the control plane exited with %v after SIGTERM", err)
	}
	cp.done <- nil // for the cleanup
	u.cp = startControlPlane(t, h, dir)
	if res := u.windsock("env", "status", "first"); res.code != 0 || !strings.HasPrefix(res.stdout, "first\tAVAILABLE") {
		t.Fatalf("env status after a restart: %d %q %s", res.code, res.stdout, res.stderr)
	}
	badEnv := append(h.env, "AWS_ACCESS_KEY_ID="+envValue(u.env, "AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY=wrong")
	cmd := exec.Command(binary, "env", "list", "--endpoint-url", u.cp.url)
	cmd.Env = badEnv
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "InvalidSignatureException") {
		t.Fatalf("a wrong secret: %v %s", err, out)
	}
	// The restarted control plane adopted the environment: deleting it
	// stops its processes.
	u.delete("first")
}

// envValue is a variable's value in an os.Environ()-style list (the last
// one wins, as in a process's environment).
func envValue(env []string, name string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == name {
			v = val
		}
	}
	return v
}

// `datapipeline import --environment` writes the converted DAG file into
// the environment's DAG folder in its source bucket, a folder of the
// control plane's home, from where the control plane syncs it.
func TestDatapipelineImportIntoControlPlaneBucket(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	dir := filepath.Join(h.dir, "cp")
	cp := startControlPlane(t, h, dir)
	u := newCPUser(t, h, cp, dir, "dp", "")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = u.env
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	u.create("pipes", nil, "--dag-s3-path", "team/dags")
	// Deleting is asynchronous: the cleanup waits until the environment's
	// processes are gone, before the control plane stops (and lets go of
	// them).
	t.Cleanup(func() { u.delete("pipes") })
	def := writeDefinition(t, h.dir, "hello_pipe.json", dpShell)
	if out, err := run("datapipeline", "import", def, "--environment", "pipes", "--endpoint-url", cp.url); err == nil ||
		!strings.Contains(out, "s3://pipes/team/dags") {
		t.Fatalf("without the control plane's home: %v %s", err, out)
	}
	out2, err := run("datapipeline", "import", def, "--environment", "pipes", "--endpoint-url", cp.url, "--controlplane-home", dir)
	if err != nil {
		t.Fatalf("datapipeline import: %v %s", err, out2)
	}
	want := filepath.Join(dir, "buckets", "pipes", "team", "dags", "hello_pipe.yaml")
	if b, err := os.ReadFile(want); err != nil || !strings.Contains(string(b), "hello_pipe:") || !strings.Contains(out2, want) {
		t.Fatalf("the DAG file is not in the bucket folder %s (%v):\n%s\nreport:\n%s", want, err, b, out2)
	}
}
