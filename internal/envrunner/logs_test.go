package envrunner_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/windsock"
)

// lineWatch is a writer that signals when a wanted text arrives.
type lineWatch struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	seen chan struct{}
}

func (l *lineWatch) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	if l.seen != nil && strings.Contains(l.buf.String(), l.want) {
		close(l.seen)
		l.seen = nil
	}
	return len(p), nil
}

// TestLogGroups: each component's output lands in its MWAA-named group,
// a disabled component writes none, and Logs reads a group with --since
// and --follow.
func TestLogGroups(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	ctx := context.Background()
	s := spec("logs", "logbucket")
	s.Logging = map[string]envspec.ModuleLogging{
		"Scheduler":           {Enabled: true, LogLevel: "INFO"},
		envspec.DAGProcessing: {Enabled: true, LogLevel: "INFO"},
		"WebServer":           {Enabled: false, LogLevel: "INFO"},
		"Worker":              {Enabled: true, LogLevel: "WARNING"},
		"Task":                {Enabled: true, LogLevel: "INFO"},
	}
	tr.putLocal("logbucket", "dags/.keep", "")
	tr.start(s)
	h := envrunner.EnvironmentHome(tr.home, "logs")
	if _, err := os.Stat(filepath.Join(h, "loggroups", "airflow-logs-Scheduler", "standalone.log")); err != nil {
		t.Fatalf("no scheduler stream: %v", err)
	}
	if _, err := os.Lstat(filepath.Join(h, "loggroups", "airflow-logs-WebServer", "standalone.log")); err == nil {
		t.Fatal("the disabled web server group has a stream")
	}

	var all bytes.Buffer
	if _, err := tr.Logs(ctx, "logs", envspec.LogQuery{Group: "scheduler"}, &all); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(all.String(), "standalone ") {
		t.Fatalf("scheduler group:\n%s", all.String())
	}
	var none bytes.Buffer
	if _, err := tr.Logs(ctx, "logs", envspec.LogQuery{Group: "airflow-logs-Scheduler", Since: time.Now().Add(time.Hour)}, &none); err != nil || none.Len() != 0 {
		t.Fatalf("lines from the future: %q %v", none.String(), err)
	}
	if _, err := tr.Logs(ctx, "logs", envspec.LogQuery{Group: "triggerer"}, &none); windsock.ErrorCode(err) != windsock.EINVALID {
		t.Fatalf("unknown group: %v", err)
	}

	// Follow the task group while a DAG runs.
	followCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := &lineWatch{want: "followed-output", seen: make(chan struct{})}
	seen := w.seen
	done := make(chan error, 1)
	go func() {
		_, err := envrunner.Logs(followCtx, tr.home, "logs", envrunner.LogsOptions{Group: "Task", Follow: true, PollInterval: 100 * time.Millisecond,
			TokenKey: []byte("test key")}, w)
		done <- err
	}()
	tr.putLocal("logbucket", "dags/followed.yaml", dagYAML("followed", 1, "echo followed-output"))
	select {
	case <-seen:
	case <-time.After(2 * time.Minute):
		t.Fatal("the task's output never reached the follower")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestCapacityFollowsWorkers: on one process the executor runs no more
// tries than its workers hold, whatever core.parallelism says.
func TestCapacityFollowsWorkers(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	s := spec("capacity", "capbucket")
	s.AirflowConfigurationOptions["core.parallelism"] = "50"
	tr.putLocal("capbucket", "dags/wide.yaml", dagYAML("wide", 12, "sleep 1"))
	tr.start(s)
	db := tr.openStore("capacity")
	most := 0
	waitFor(t, 3*time.Minute, "the DAG to finish", func() bool {
		most = max(most, states(t, db, "wide")[windsock.TaskStateRunning])
		return allFinal(t, db, "wide", 12)
	})
	if most > 5 || most == 0 {
		t.Fatalf("%d tries ran at once, want at most one mw1.small worker's 5", most)
	}
}
