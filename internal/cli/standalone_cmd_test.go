package cli_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func freePort(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

func TestStandalone(t *testing.T) {
	t.Parallel()
	h := newHome(t, "WINDSOCK__CORE__LOAD_EXAMPLES=True")
	h.writeDAG(t, "etl.yaml", etlDAG)
	port := freePort(t)

	cmd := exec.Command(binary, "standalone", "--port", port)
	cmd.Env = h.env
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// The password is printed once on stdout; readiness is logged on stderr.
	printed := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(stdout)
		printed <- string(b)
	}()
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "is ready") {
				ready <- sc.Text()
			}
		}
	}()
	select {
	case line := <-ready:
		if !strings.Contains(line, "127.0.0.1:"+port) {
			t.Errorf("ready line %q does not name 127.0.0.1:%s", line, port)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("standalone not ready within 30 s")
	}

	resp, err := http.Get("http://127.0.0.1:" + port + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct {
		Metadatabase struct{ Status string } `json:"metadatabase"`
		DagProcessor struct {
			Status    *string `json:"status"`
			Heartbeat *string `json:"latest_dag_processor_heartbeat"`
		} `json:"dag_processor"`
		Version string `json:"version"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&health); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || health.Metadatabase.Status != "healthy" || health.DagProcessor.Status == nil || *health.DagProcessor.Status != "healthy" || health.Version == "" {
		t.Errorf("health = %d %+v", resp.StatusCode, health)
	}

	pwFile := filepath.Join(h.dir, "standalone_admin_password.txt")
	fi, err := os.Stat(pwFile)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("password file mode %v, want 0600", fi.Mode().Perm())
	}
	pw, _ := os.ReadFile(pwFile)
	checkUILogin(t, "http://127.0.0.1:"+port, strings.TrimSpace(string(pw)))

	// The DAG folder and the examples were loaded into the store.
	dags := listDAGs(t, h)
	for _, id := range []string{"etl", "example_bash_operator"} {
		if _, ok := dags[id]; !ok {
			t.Errorf("%s not loaded: %v", id, dags)
		}
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("standalone exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("standalone did not stop within 20 s of SIGTERM")
	}
	out := <-printed
	if !regexp.MustCompile(`password: ` + regexp.QuoteMeta(strings.TrimSpace(string(pw)))).MatchString(out) {
		t.Errorf("stdout %q does not print the password from the file", out)
	}

	// A second start reuses the admin user and does not print a password.
	cmd2 := exec.Command(binary, "standalone", "--port", freePort(t))
	cmd2.Env = h.env
	var out2 strings.Builder
	cmd2.Stdout = &out2
	stderr2, _ := cmd2.StderrPipe()
	if err := cmd2.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd2.Process.Kill()
	sc := bufio.NewScanner(stderr2)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "is ready") {
			break
		}
	}
	cmd2.Process.Signal(syscall.SIGINT)
	if err := cmd2.Wait(); err != nil {
		t.Errorf("second standalone exited with %v after SIGINT", err)
	}
	if strings.Contains(out2.String(), "password") {
		t.Errorf("second start printed a password: %q", out2.String())
	}
}
