package cli_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmwaa "github.com/aws/aws-sdk-go-v2/service/mwaa"

	"github.com/windsock/windsock/internal/mwaaclient"
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

	// A DAG file copied into the environment's bucket folder appears in
	// the environment and runs when triggered through MWAA's CLI endpoint.
	dagDir := filepath.Join(dir, "buckets", "first", "dags")
	if err := os.MkdirAll(dagDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dagDir, "hello.yaml"), []byte(`hello:
  schedule: null
  start_date: 2024-01-01
  tasks:
    say:
      operator: airflow.operators.bash.BashOperator
      bash_command: echo hello from the bucket
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out2, stderr, code := windsock(cp.url, "env", "create", "first", "--wait", "-o", "json")
	var created struct{ Status string }
	_ = json.Unmarshal([]byte(out2), &created)
	if code != 0 || created.Status != "AVAILABLE" {
		t.Fatalf("env create: %d %s %s", code, out2, stderr)
	}
	client, err := mwaaclient.New(mwaaclient.Settings{Endpoint: cp.url, Environ: env})
	if err != nil {
		t.Fatal(err)
	}
	airflowCLI := func(line string) string {
		t.Helper()
		tok, err := client.CreateCliToken(context.Background(), &awsmwaa.CreateCliTokenInput{Name: aws.String("first")})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", "http://"+aws.ToString(tok.WebServerHostname)+"/aws_mwaa/cli", strings.NewReader(line))
		req.Header.Set("Authorization", "Bearer "+aws.ToString(tok.CliToken))
		req.Header.Set("Content-Type", "text/plain")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ Stdout, Stderr string }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("%s: status %d: %v", line, resp.StatusCode, err)
		}
		o, _ := base64.StdEncoding.DecodeString(body.Stdout)
		e, _ := base64.StdEncoding.DecodeString(body.Stderr)
		return string(o) + string(e)
	}
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(airflowCLI("dags list"), "hello") {
		if time.Now().After(deadline) {
			t.Fatalf("the bucket's DAG never appeared: %s", airflowCLI("dags list"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	airflowCLI("dags unpause hello")
	airflowCLI("dags trigger hello -e 2024-03-01")
	for !strings.Contains(airflowCLI("dags state hello 2024-03-01"), "success") {
		if time.Now().After(deadline) {
			t.Fatalf("the run did not succeed: %s", airflowCLI("dags state hello 2024-03-01"))
		}
		time.Sleep(200 * time.Millisecond)
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
	// The restarted control plane adopted the environment: deleting it
	// stops its processes.
	if _, stderr, code := windsock(cp2.url, "env", "delete", "first"); code != 0 {
		t.Fatalf("env delete: %d %s", code, stderr)
	}
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		_, stderr, code := windsock(cp2.url, "env", "get", "first")
		if code != 0 && strings.Contains(stderr, "ResourceNotFoundException") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the environment was not deleted: %d %s", code, stderr)
		}
	}
}

// `datapipeline import --environment` writes the converted DAG file into
// the environment's DAG folder in its source bucket, a folder of the
// control plane's home, from where the control plane syncs it.
func TestDatapipelineImportIntoControlPlaneBucket(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	dir := filepath.Join(h.dir, "cp")
	cp := startControlPlane(t, h, dir)
	out, err := exec.Command(binary, "controlplane", "keys", "create", "--home", dir, "--name", "dp", "-o", "json").Output()
	if err != nil {
		t.Fatal(err)
	}
	var key struct {
		ID     string `json:"access_key_id"`
		Secret string `json:"secret_access_key"`
	}
	if err := json.Unmarshal(out, &key); err != nil {
		t.Fatal(err)
	}
	env := append(h.env, "AWS_ACCESS_KEY_ID="+key.ID, "AWS_SECRET_ACCESS_KEY="+key.Secret)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(binary, args...)
		cmd.Env = env
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := run("env", "create", "pipes", "--dag-s3-path", "team/dags", "--wait", "--endpoint-url", cp.url); err != nil {
		t.Fatalf("env create: %v %s", err, out)
	}
	t.Cleanup(func() {
		// Deleting is asynchronous: wait until the environment's processes
		// are gone, before the control plane stops (and lets go of them).
		if out, err := run("env", "delete", "pipes", "--endpoint-url", cp.url); err != nil {
			t.Errorf("env delete: %v %s", err, out)
		}
		var last string
		for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			out, err := run("env", "get", "pipes", "--endpoint-url", cp.url)
			if err != nil && strings.Contains(out, "ResourceNotFoundException") {
				return
			}
			last = out
		}
		t.Errorf("the environment was not deleted: %s", last)
	})
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
