package api

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/logserver"
	"github.com/windsock/windsock/internal/logstore"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// logsEnv is an API server on "another host": its log folder is empty,
// the worker's log server (on 127.0.0.1) has its own folder, and finished
// logs may be in a remote store.
type logsEnv struct {
	*runsEnv
	run    *windsock.DagRun
	worker *logserver.Server
}

// setupLogs starts a worker log server (stopped at once when workerGone)
// and an API server that looks for logs there and in remote.
func setupLogs(t *testing.T, remote logstore.Store, workerGone bool) *logsEnv {
	t.Helper()
	re := setupRuns(t)
	envID, err := re.st.EnvironmentID(t.Context())
	mustDo(t, err)
	worker := &logserver.Server{Folder: t.TempDir(), SecretKey: logserver.EnvironmentKey(re.cfg.Webserver.SecretKey, envID), Addr: "127.0.0.1:0"}
	mustDo(t, worker.Start(t.Context()))
	t.Cleanup(worker.Stop)
	if workerGone {
		worker.Stop()
	}
	_, port, err := net.SplitHostPort(worker.ListenAddr())
	mustDo(t, err)
	cfg := *re.cfg
	cfg.Logging.WorkerLogServerPort, err = strconv.Atoi(port)
	mustDo(t, err)
	srv := httptest.NewServer((&Server{Store: re.st, Config: &cfg, Version: "1.2.3", LogFolder: re.logs, RemoteLogs: remote}).Handler())
	t.Cleanup(srv.Close)
	re.srv.Close()
	re.srv = srv
	return &logsEnv{runsEnv: re, run: re.createRun("etl", 1), worker: worker}
}

// tryOn records task taskID as having run try 1 on host, in state.
func (le *logsEnv) tryOn(taskID, host string, state windsock.TaskInstanceState) *windsock.TaskInstance {
	return le.setTI("etl", le.run.RunID, taskID, func(ti *windsock.TaskInstance) {
		ti.State, ti.TryNumber, ti.Hostname = state, 1, host
	})
}

// writeLog appends lines to try 1's log in folder, as the task would.
func writeLog(t *testing.T, folder string, ti *windsock.TaskInstance, lines ...string) {
	t.Helper()
	f, err := tasklog.Open(folder, ti.TaskInstanceKey, 1, nil)
	mustDo(t, err)
	for _, l := range lines {
		fmt.Fprintln(f, l)
	}
	mustDo(t, f.Close())
}

type logAnswer struct {
	Content string `json:"content"`
	Token   string `json:"continuation_token"`
}

func (le *logsEnv) logPath(taskID string) string {
	return "/api/v1/dags/etl/dagRuns/" + le.run.RunID + "/taskInstances/" + taskID + "/logs/1"
}

func TestLogFromTheWorkerRunningTheTry(t *testing.T) {
	t.Parallel()
	le := setupLogs(t, nil, false)
	ti := le.tryOn("extract", "127.0.0.1", windsock.TaskStateRunning)
	writeLog(t, le.worker.Folder, ti, "starting")

	var out logAnswer
	le.ok(le.doChecked("GET", le.logPath("extract"), "viewer", nil), http.StatusOK, &out)
	if !strings.Contains(out.Content, "{output} INFO - starting\n") {
		t.Fatalf("content = %q", out.Content)
	}
	if tok, err := le.parseToken(out.Token); err != nil || tok.EndOfLog || tok.LogPos != int64(len(out.Content)) {
		t.Fatalf("token = %+v, %v", tok, err)
	}
	// The try goes on writing; the token continues where the last answer
	// stopped.
	writeLog(t, le.worker.Folder, ti, "halfway")
	first := out.Content
	le.ok(le.doChecked("GET", le.logPath("extract")+"?token="+url.QueryEscape(out.Token), "viewer", nil), http.StatusOK, &out)
	if strings.Contains(out.Content, "starting") || !strings.Contains(out.Content, "{output} INFO - halfway\n") {
		t.Fatalf("continued = %q", out.Content)
	}
	r := le.doWith("GET", le.logPath("extract"), nil, func(r *http.Request) {
		r.SetBasicAuth("viewer", password)
		r.Header.Set("Accept", "text/plain")
	})
	if r.status != 200 || string(r.body) != first+out.Content {
		t.Fatalf("text/plain: %d %q", r.status, r.body)
	}
	// Nothing was copied to the API's own folder.
	if _, err := os.Stat(tasklog.Path(le.logs, ti.TaskInstanceKey, 1)); err == nil {
		t.Fatal("the log was written to the API's folder")
	}
}

func TestLogFromTheRemoteCopy(t *testing.T) {
	t.Parallel()
	remote := &logstore.Dir{Path: t.TempDir()}
	// The worker is gone; its log was copied when the try finished.
	le := setupLogs(t, remote, true)
	ti := le.tryOn("load", "127.0.0.1", windsock.TaskStateSuccess)
	local := t.TempDir()
	writeLog(t, local, ti, "loaded 42 rows")
	rel := filepath.ToSlash(tasklog.Path("", ti.TaskInstanceKey, 1))
	mustDo(t, remote.Upload(t.Context(), rel, tasklog.Path(local, ti.TaskInstanceKey, 1)))

	var out logAnswer
	le.ok(le.doChecked("GET", le.logPath("load"), "viewer", nil), http.StatusOK, &out)
	if !strings.Contains(out.Content, "{output} INFO - loaded 42 rows\n") {
		t.Fatalf("content = %q", out.Content)
	}
	if tok, err := le.parseToken(out.Token); err != nil || !tok.EndOfLog {
		t.Fatalf("token = %+v, %v", tok, err)
	}
}

func TestLogOfAGoneHost(t *testing.T) {
	t.Parallel()
	remoteDir := t.TempDir()
	le := setupLogs(t, &logstore.Dir{Path: remoteDir}, true)
	ti := le.tryOn("extract", "127.0.0.1", windsock.TaskStateRunning)
	rel := filepath.ToSlash(tasklog.Path("", ti.TaskInstanceKey, 1))
	p := le.problem(le.doChecked("GET", le.logPath("extract"), "viewer", nil), http.StatusNotFound, "")
	for _, want := range []string{
		`Log of try 1 of task "extract" not found: it was written on host 127.0.0.1; `,
		"looked for " + rel + " in the task log folder",
		"worker log server at http://" + le.worker.ListenAddr() + " unreachable: connection refused",
		"no copy at " + filepath.Join(remoteDir, rel),
	} {
		if !strings.Contains(p.Detail, want) {
			t.Errorf("detail %q\nlacks %q", p.Detail, want)
		}
	}
	t.Log(p.Detail)
	// The worker is asked before the remote copy while the try runs.
	if strings.Index(p.Detail, "worker log server") > strings.Index(p.Detail, "no copy at") {
		t.Errorf("detail %q: remote copy tried first for a running try", p.Detail)
	}
}

func TestLogWorkerWithoutTheFile(t *testing.T) {
	t.Parallel()
	le := setupLogs(t, nil, false)
	le.tryOn("extract", "127.0.0.1", windsock.TaskStateFailed)
	p := le.problem(le.doChecked("GET", le.logPath("extract"), "viewer", nil), http.StatusNotFound, "")
	for _, want := range []string{
		"worker log server at http://" + le.worker.ListenAddr() + " has no dag_id=etl/",
		"no remote copy (logging.remote_logging is off)",
	} {
		if !strings.Contains(p.Detail, want) {
			t.Errorf("detail %q\nlacks %q", p.Detail, want)
		}
	}
}

func TestLogWorkerWithAnotherSecret(t *testing.T) {
	t.Parallel()
	le := setupLogs(t, nil, true)
	other := &logserver.Server{Folder: le.worker.Folder, SecretKey: "not the API's", Addr: le.worker.ListenAddr()}
	mustDo(t, other.Start(t.Context()))
	t.Cleanup(other.Stop)
	ti := le.tryOn("extract", "127.0.0.1", windsock.TaskStateRunning)
	writeLog(t, le.worker.Folder, ti, "private")
	p := le.problem(le.doChecked("GET", le.logPath("extract"), "viewer", nil), http.StatusNotFound, "refused the request")
	if strings.Contains(p.Detail, "private") {
		t.Fatal("the log leaked")
	}
}

// A log server of another environment on the port, with the same
// webserver.secret_key, has a log at the same path (same DAG, run, task
// and try): it refuses the request rather than answer with its own log.
func TestLogWorkerOfAnotherEnvironment(t *testing.T) {
	t.Parallel()
	le := setupLogs(t, nil, true)
	other := &logserver.Server{Folder: le.worker.Folder, SecretKey: logserver.EnvironmentKey(le.cfg.Webserver.SecretKey, "another environment"), Addr: le.worker.ListenAddr()}
	mustDo(t, other.Start(t.Context()))
	t.Cleanup(other.Stop)
	ti := le.tryOn("extract", "127.0.0.1", windsock.TaskStateRunning)
	writeLog(t, le.worker.Folder, ti, "the other environment's")
	p := le.problem(le.doChecked("GET", le.logPath("extract"), "viewer", nil), http.StatusNotFound, "refused the request")
	if strings.Contains(p.Detail, "other environment's") {
		t.Fatal("the other environment's log was shown")
	}
}

func (le *logsEnv) parseToken(tok string) (logToken, error) {
	return (&Server{cfg: le.cfg}).parseLogToken(tok)
}
