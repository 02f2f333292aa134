package cli_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store/postgres/pgtest"
)

// recipe returns the shell block of the README between the cluster-recipe
// markers.
func recipe(t *testing.T) string {
	return readmeBlock(t, "cluster-recipe", "sh")
}

// TestReadmeClusterRecipe runs the README's "Running on several machines"
// recipe as written (two schedulers, three workers, a DAG processor and a
// webserver against PostgreSQL) and runs a DAG through its webserver.
func TestReadmeClusterRecipe(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.FreshSchemaURL(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "dags"), 0o755); err != nil {
		t.Fatal(err)
	}
	side := filepath.Join(dir, "side.log")
	os.WriteFile(filepath.Join(dir, "dags", "hello.yaml"), []byte(`hello:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: a, operator: bash, bash_command: 'echo "a $(hostname)" >> `+side+`'}
    - {task_id: b, operator: bash, bash_command: 'echo b >> `+side+`', dependencies: [a]}
`), 0o644)
	port := freePort(t)
	script := strings.ReplaceAll(recipe(t), "--port 8080", "--port "+port) + "\nwait\n"

	cmd := exec.Command("bash", "-e", "-c", script)
	cmd.Dir = dir
	cmd.Env = []string{
		"PATH=" + filepath.Dir(binary) + ":" + os.Getenv("PATH"), "HOME=" + dir,
		"WINDSOCK__DATABASE__SQL_ALCHEMY_CONN=" + dbURL,
		"WINDSOCK__CORE__LOAD_EXAMPLES=False",
		// Other tests may run workers on these addresses at the same time.
		"WINDSOCK__LOGGING__WORKER_LOG_SERVER_PORT=" + freePort(t),
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("recipe output:\n%s", out.String())
			for _, f := range []string{"scheduler-1", "worker-1", "worker-2", "worker-3", "webserver", "dag-processor"} {
				b, _ := os.ReadFile(filepath.Join(dir, "logs", f+".log"))
				t.Logf("--- %s ---\n%s", f, b)
			}
		}
	})

	base := "http://127.0.0.1:" + port + "/api/v1"
	call := func(method, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.SetBasicAuth("admin", "admin")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, nil
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	wait := func(what string, cond func() bool) {
		deadline := time.Now().Add(90 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 90 s", what)
			}
			time.Sleep(100 * time.Millisecond) // polling the webserver, as a user's script would
		}
	}
	wait("the DAG to be served by the webserver", func() bool { code, _ := call("GET", "/dags/hello", ""); return code == 200 })
	if code, body := call("PATCH", "/dags/hello", `{"is_paused": false}`); code != 200 {
		t.Fatalf("unpause: %d %v", code, body)
	}
	if code, body := call("POST", "/dags/hello/dagRuns", `{"dag_run_id": "recipe"}`); code != 200 {
		t.Fatalf("trigger: %d %v", code, body)
	}
	wait("the run to succeed", func() bool {
		_, body := call("GET", "/dags/hello/dagRuns/recipe", "")
		if body["state"] == "failed" {
			t.Fatalf("run failed: %v", body)
		}
		return body["state"] == "success"
	})
	b, _ := os.ReadFile(side)
	if lines := strings.Count(string(b), "\n"); lines != 2 {
		t.Fatalf("side effects %q: want each task once", b)
	}
	if code, body := call("GET", "/dags/hello/dagRuns/recipe/taskInstances/a/logs/1", ""); code != 200 || !strings.Contains(body["content"].(string), "a ") {
		t.Fatalf("log of a through the webserver: %d %v", code, body)
	}
}
