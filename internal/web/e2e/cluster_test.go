package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/windsock"
)

// TestClusterActivityShowsAKilledWorker starts a real `windsock worker`
// process beside the server (both on one PostgreSQL schema), waits for
// cluster activity to show it healthy, kills it with SIGKILL and waits on
// the page for the same worker to be shown unhealthy: its scheduler finds
// it dead and ends its job, and the page keeps it listed.
func TestClusterActivityShowsAKilledWorker(t *testing.T) {
	t.Parallel()
	b := newBrowser(t)
	dbURL := pgtest.FreshSchemaURL(t)
	bin := buildWindsock(t)
	srv := startServerWith(t, []string{"WINDSOCK__DATABASE__SQL_ALCHEMY_CONN=" + dbURL, "WINDSOCK__CORE__EXECUTOR=CeleryExecutor"})
	ctx := t.Context()

	worker := exec.Command(bin, "worker", "--skip-serve-logs", "--concurrency", "1")
	worker.Env = srv.environ
	logFile, err := os.Create(filepath.Join(t.TempDir(), "worker.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	worker.Stdout, worker.Stderr = logFile, logFile
	if err := worker.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { worker.Wait(); close(exited) }()
	t.Cleanup(func() {
		worker.Process.Kill()
		<-exited
	})

	tb := b.tab(t, srv.url)
	tb.login("viewer")
	tb.open("/", "main h1")
	tb.run("open cluster activity", chromedp.Click("#nav-cluster", q), chromedp.WaitVisible("#components-title", q))
	jobRow := func(healthy bool) string {
		return fmt.Sprintf(`#components tr[data-job-type="WorkerJob"][data-pid="%d"][data-healthy="%t"]`, worker.Process.Pid, healthy)
	}
	tb.reloadUntil("the worker shown healthy", "/cluster_activity", jobRow(true))
	tb.screenshot(artifactDir(t), "cluster_activity_worker_alive")

	if err := worker.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited
	// Shown dead: its scheduler, on this host, found its process gone and
	// ended its job; a stale heartbeat alone would not set data-dead.
	tb.reloadUntil("the killed worker shown dead", "/cluster_activity", jobRow(false)+`[data-dead="true"]`)
	if got := tb.text(jobRow(false) + ` [class^="health-"]`); !strings.Contains(got, "unhealthy") {
		t.Errorf("the killed worker's health = %q", got)
	}
	if !strings.Contains(tb.text("#unhealthy-count"), "unhealthy") {
		t.Errorf("unhealthy count = %q", tb.text("#unhealthy-count"))
	}
	jobs, err := srv.env.Store.JobList(ctx, &store.JobListParams{JobType: windsock.JobTypeWorker})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if j.PID == worker.Process.Pid {
			t.Logf("the killed worker's job: state %s, last heartbeat %s ago", j.State, time.Since(j.LatestHeartbeat).Round(time.Millisecond))
		}
	}
	if !tb.exists(`#cluster-pools tr[data-pool="default_pool"]`) || !tb.exists(`#runs-chart`) {
		t.Error("no pools or runs chart")
	}
	tb.screenshot(artifactDir(t), "cluster_activity")
	tb.phoneFits("/cluster_activity", "#components", "cluster_activity_phone")
	if t.Failed() {
		if log, err := os.ReadFile(logFile.Name()); err == nil {
			t.Logf("worker log:\n%s", log)
		}
	}
}

// reloadUntil opens path again until sel matches: for pages that show the
// state of other processes without refreshing themselves.
func (tb *tab) reloadUntil(what, path, sel string) {
	tb.t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		tb.open(path, "main h1")
		if tb.exists(sel) {
			return
		}
		if time.Now().After(deadline) {
			tb.t.Fatalf("timed out waiting for %s (%s)\npage: %s", what, sel, tb.describe())
		}
	}
}
