package cli_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
)

// TestEventLogHoldsNoSecrets sets secrets through the real API server (a
// sensitive variable, a sensitive field inside a JSON variable, a
// connection's password and sensitive extra fields, a password nested in
// a run's conf, names made sensitive by [core] sensitive_var_conn_names)
// and checks that the event log a Viewer reads, the event
// log rows and the database files hold none of them.
func TestEventLogHoldsNoSecrets(t *testing.T) {
	t.Parallel()
	var key [32]byte
	rand.Read(key[:])
	h := newHome(t, "WINDSOCK__CORE__FERNET_KEY="+base64.URLEncoding.EncodeToString(key[:]),
		"WINDSOCK__LOGGING__WORKER_LOG_SERVER_PORT="+freePort(t),
		"WINDSOCK__CORE__SENSITIVE_VAR_CONN_NAMES=client_cert, Ssh_Blob")
	h.writeDAG(t, "pipeline.yaml", pipelineDAG)
	listDAGs(t, h)
	h.ok(t, "users", "create", "-u", "root", "-p", "root-pw-1", "-r", "Admin", "-f", "R", "-l", "R", "-e", "root@example.com")
	h.ok(t, "users", "create", "-u", "watcher", "-p", "watch-pw-1", "-r", "Viewer", "-f", "W", "-l", "W", "-e", "w@example.com")

	secret := func(name string) string {
		var b [8]byte
		rand.Read(b[:])
		return name + "-" + hex.EncodeToString(b[:])
	}
	varSecret, varSecret2, jsonVarSecret := secret("varsecret"), secret("varsecret2"), secret("jsonvarsecret")
	connPassword, extraKey, extraToken := secret("connpassword"), secret("extrakey"), secret("extratoken")
	confPassword := secret("confpassword")
	// Names made sensitive by [core] sensitive_var_conn_names.
	certSecret, blobSecret := secret("certsecret"), secret("blobsecret")

	port := freePort(t)
	stop := startWebserver(t, h, port)
	base := "http://127.0.0.1:" + port + "/api/v1"
	call := func(user, pw, method, path string, body any) (int, []byte) {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, r)
		req.SetBasicAuth(user, pw)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		out, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, out
	}
	admin := func(method, path string, body any, want int) {
		t.Helper()
		if code, out := call("root", "root-pw-1", method, path, body); code != want {
			t.Fatalf("%s %s: %d %s", method, path, code, out)
		}
	}
	admin("POST", "/variables", map[string]any{"key": "api_secret", "value": varSecret}, 200)
	admin("PATCH", "/variables/api_secret", map[string]any{"key": "api_secret", "value": varSecret2}, 200)
	admin("POST", "/variables", map[string]any{"key": "settings",
		"value": `{"region": "eu", "db": {"password": "` + jsonVarSecret + `"}}`}, 200)
	admin("POST", "/connections", map[string]any{"connection_id": "svc", "conn_type": "http", "host": "svc.example",
		"password": connPassword, "extra": `{"api_key": "` + extraKey + `", "timeout": 5}`}, 200)
	admin("PATCH", "/connections/svc", map[string]any{"connection_id": "svc", "conn_type": "http",
		"extra": `{"nested": {"access_token": "` + extraToken + `"}}`}, 200)
	admin("POST", "/variables", map[string]any{"key": "client_cert_pem", "value": certSecret}, 200)
	admin("POST", "/connections", map[string]any{"connection_id": "sshy", "conn_type": "ssh",
		"extra": `{"ssh_blob": "` + blobSecret + `"}`}, 200)
	admin("POST", "/dags/pipeline/dagRuns", map[string]any{"dag_run_id": "with_secret",
		"conf": map[string]any{"n": 5, "db": map[string]any{"user": "etl", "password": confPassword}}}, 200)
	all := []string{varSecret, varSecret2, jsonVarSecret, connPassword, extraKey, extraToken, certSecret, blobSecret, confPassword}

	code, body := call("watcher", "watch-pw-1", "GET", "/eventLogs?limit=100", nil)
	if code != 200 {
		t.Fatalf("GET /eventLogs as Viewer: %d %s", code, body)
	}
	for _, s := range all {
		if bytes.Contains(body, []byte(s)) {
			t.Errorf("GET /eventLogs shows the secret %s:\n%s", s, body)
		}
	}
	for _, want := range []string{"api.post_variables", "api.patch_connection", "api.post_dag_run", "***", "region", "svc.example", "etl"} {
		if !bytes.Contains(body, []byte(want)) {
			t.Errorf("GET /eventLogs lacks %s:\n%s", want, body)
		}
	}
	// The run's conf itself is the user's data and stays as given.
	if code, body := call("root", "root-pw-1", "GET", "/dags/pipeline/dagRuns/with_secret", nil); code != 200 || !bytes.Contains(body, []byte(confPassword)) {
		t.Errorf("the run's conf lost its value: %d %s", code, body)
	}
	stop()

	// The same through the CLI, whose cli_* rows record the command line.
	cliVar, cliConn, cliConf := secret("clivar"), secret("cliconn"), secret("cliconf")
	h.ok(t, "variables", "set", "cli_secret", cliVar)
	h.ok(t, "connections", "add", "cli_conn", "--conn-uri", "postgres://u:"+cliConn+"@db.example:5432/x")
	h.ok(t, "dags", "trigger", "pipeline", "-c", `{"db": {"password": "`+cliConf+`"}}`)
	all = append([]string{cliVar, cliConn}, all...)
	all = append(all, cliConf) // in dag_run.conf, like confPassword

	db := filepath.Join(h.dir, "windsock.db")
	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	events, err := st.EventLogList(context.Background(), &store.EventLogListParams{})
	st.Close()
	if err != nil || len(events) < 6 {
		t.Fatalf("event log rows: %d, %v", len(events), err)
	}
	for _, e := range events {
		for _, s := range all {
			if strings.Contains(e.Extra, s) {
				t.Errorf("event log row %s holds the secret %s: %s", e.Event, s, e.Extra)
			}
		}
	}
	// The raw database files: only dag_run.conf may hold the confs'
	// passwords; nothing else a test set may appear anywhere.
	files, _ := filepath.Glob(db + "*")
	if len(files) == 0 {
		t.Fatal("no database file")
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all[:len(all)-2] {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("%s holds the secret %s", filepath.Base(f), s)
			}
		}
	}
}

// startWebserver runs `windsock webserver` until the returned stop is
// called (or the test ends).
func startWebserver(t *testing.T, h *home, port string) (stop func()) {
	t.Helper()
	cmd := exec.Command(binary, "webserver", "--port", port)
	cmd.Env = h.env
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		signalled := false
		for sc.Scan() {
			if !signalled && strings.Contains(sc.Text(), "is ready") {
				close(ready)
				signalled = true
			}
		}
	}()
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-ready:
	case <-done:
		t.Fatal("webserver exited before it was ready")
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("webserver not ready within 60 s")
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	t.Cleanup(stop)
	return stop
}
