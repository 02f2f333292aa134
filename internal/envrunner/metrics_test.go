package envrunner_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/supervise"
	"github.com/windsock/windsock/internal/windsock"
)

// scrapeBody returns GET http://addr/metrics ("" when it fails).
func scrapeBody(addr string) string {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return ""
	}
	return string(b)
}

// metricValue is one series' value in a scrape, -1 when absent.
func metricValue(body, series string) float64 {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			if v, err := strconv.ParseFloat(rest, 64); err == nil {
				return v
			}
		}
	}
	return -1
}

// componentsOf returns the environment's processes of a kind.
func componentsOf(t *testing.T, tr *testRunner, name, kind string) []envspec.Component {
	t.Helper()
	all, err := tr.Activity(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	var out []envspec.Component
	for _, c := range all {
		if c.Kind == kind {
			out = append(out, c)
		}
	}
	return out
}

// TestPostgresProcessMetrics: on PostgreSQL every process of an
// environment (scheduler, DAG processor, workers) serves its own
// /metrics at the address its job row records, which Activity reports
// with its health; each counts the work it did (the scheduler its
// heartbeats and the run's duration, the DAG processor its parses, the
// worker its tries). The control plane counts the scaling decisions and
// the restart of a killed worker, which Activity then shows unhealthy
// beside its healthy successor.
func TestPostgresProcessMetrics(t *testing.T) {
	t.Parallel()
	cp := metrics.NewControlPlane()
	tr := setupPostgres(t)
	tr.cfg.Metrics = cp
	r, err := envrunner.New(tr.cfg)
	if err != nil {
		t.Fatal(err)
	}
	tr.Runner = r
	name := uniqueName(t, "metrics")
	s := spec(name, "metricsbucket")
	s.MinWorkers, s.MaxWorkers = 1, 2
	s.AirflowConfigurationOptions["scheduler.worker_health_check_threshold"] = "3"
	tr.putLocal("metricsbucket", "dags/.keep", "")
	tr.startRemoved(s)
	db := tr.openStore(name)

	tr.putLocal("metricsbucket", "dags/burst.yaml", dagYAML("burst", 8, "sleep 1"))
	waitFor(t, 3*time.Minute, "the burst to succeed", func() bool { return states(t, db, "burst")[windsock.TaskStateSuccess] == 8 })
	waitFor(t, time.Minute, "the run to end", func() bool {
		_, n, err := db.DagRunQuery(context.Background(), &store.DagRunQueryParams{DagIDs: []string{"burst"},
			States: []windsock.DagRunState{windsock.DagRunSuccess}, Limit: 1})
		return err == nil && n == 1
	})

	var sched, proc, worker1 envspec.Component
	waitFor(t, time.Minute, "a healthy scheduler, DAG processor and worker", func() bool {
		s, p, w := componentsOf(t, tr, name, "Scheduler"), componentsOf(t, tr, name, "DAG processor"), componentsOf(t, tr, name, "Worker")
		if len(s) != 1 || len(p) != 1 || len(w) == 0 || !s[0].Healthy || !p[0].Healthy {
			return false
		}
		sched, proc = s[0], p[0]
		for _, c := range w {
			if c.Healthy && metricValue(scrapeBody(c.MetricsAddr), "airflow_ti_successes") > 0 {
				worker1 = c
			}
		}
		return worker1.MetricsAddr != ""
	})
	addrs := map[string]bool{sched.MetricsAddr: true, proc.MetricsAddr: true, worker1.MetricsAddr: true}
	if len(addrs) != 3 || addrs[""] {
		t.Fatalf("metrics addresses %v: want three of their own", addrs)
	}
	for addr := range addrs {
		if !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("metrics on %s: want the loopback address by default", addr)
		}
	}

	body := scrapeBody(sched.MetricsAddr)
	if v := metricValue(body, "airflow_scheduler_heartbeat"); v < 1 {
		t.Errorf("scheduler heartbeats = %v", v)
	}
	if v := metricValue(body, `airflow_dagrun_duration_success_count{dag_id="burst"}`); v != 1 {
		t.Errorf("the scheduler observed %v successful runs of burst, want 1", v)
	}
	if v := metricValue(body, `airflow_pool_open_slots{pool_name="default_pool"}`); v != 512 {
		t.Errorf("default_pool open slots = %v, want 512", v)
	}
	body = scrapeBody(proc.MetricsAddr)
	if v := metricValue(body, "airflow_dagbag_size"); v != 1 {
		t.Errorf("dagbag_size = %v, want 1", v)
	}
	if v := metricValue(body, "airflow_dag_processing_processes"); v < 1 {
		t.Errorf("dag_processing_processes = %v", v)
	}
	body = scrapeBody(worker1.MetricsAddr)
	if v := metricValue(body, "airflow_ti_successes"); v < 1 || v > 8 {
		t.Errorf("the worker counted %v successes, want some of the 8", v)
	}
	if !strings.Contains(body, `airflow_ti_finish{dag_id="burst",state="success",task_id="t`) {
		t.Errorf("the worker's ti_finish per task:\n%s", body)
	}
	if v := metricValue(body, "airflow_executor_open_slots"); v < 0 {
		t.Errorf("the worker's executor slots are missing:\n%s", body)
	}

	cpBody := func() string {
		rec := httptest.NewRecorder()
		cp.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		return rec.Body.String()
	}
	if v := metricValue(cpBody(), `windsock_controlplane_scaling_decisions_total{direction="out",environment="`+name+`"}`); v < 1 {
		t.Errorf("scale-out decisions = %v, want at least 1", v)
	}

	// Kill -9 the first worker: the supervisor restarts it, the control
	// plane counts it, and the dead one's job row shows unhealthy.
	state := filepath.Join(envrunner.EnvironmentHome(tr.home, name), "run", "worker-1.json")
	pid, alive := supervise.Recorded(state)
	if !alive {
		t.Fatal("worker-1 not running")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, time.Minute, "the restart to be counted", func() bool {
		return metricValue(cpBody(), `windsock_controlplane_process_restarts_total{environment="`+name+`",process="worker-1"}`) == 1
	})
	waitFor(t, time.Minute, "the killed worker shown unhealthy beside a healthy one", func() bool {
		healthy, unhealthy := 0, 0
		for _, c := range componentsOf(t, tr, name, "Worker") {
			if c.Healthy {
				healthy++
			} else {
				unhealthy++
			}
		}
		return healthy >= 1 && unhealthy >= 1
	})
}
