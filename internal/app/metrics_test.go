package app

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// scrape returns the body of GET http://addr/metrics.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d %v\n%s", resp.StatusCode, err, body)
	}
	return string(body)
}

// sample returns the value of one sample (its name with labels, as
// exposed) and whether it is there.
func sample(body, series string) (float64, bool) {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			return v, err == nil
		}
	}
	return 0, false
}

// TestProcessMetricsCountTheWork: a process without a web server serves
// its metrics on a listener of its own (on a free port when the default
// one is taken, recorded in its job rows); after a run through
// the engine its event counters moved: the tries it ran per task and
// state, its successes and failures, the run's duration, the scheduler's
// heartbeats, the DAG processor's parses and import errors; the
// environment's gauges (pools, executor slots) are served beside them.
func TestProcessMetricsCountTheWork(t *testing.T) {
	t.Parallel()
	// The default port is taken: by this test, or else by another
	// process of the host (which may let it go meanwhile).
	defaultAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(config.DefaultMetricsPort))
	taken, err := net.Listen("tcp", defaultAddr)
	if err == nil {
		defer taken.Close()
	}
	cfg, environ := benchConfig(t, map[string]string{
		"hello.yaml":  chainYAML("hello", 2),
		"boom.yaml":   "boom:\n  schedule: null\n  start_date: 2024-01-01\n  tasks:\n    - {task_id: fail, operator: bash, bash_command: \"exit 3\"}\n",
		"broken.yaml": "broken: [not a dag\n",
	})
	env, err := Open(context.Background(), cfg, Options{Environ: environ, Version: "test",
		Roles: Roles{DAGProcessor: true, Schedulers: 1, Metrics: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(env.Stop)
	addr := env.MetricsAddr()
	if addr == "" || !strings.HasPrefix(addr, "127.0.0.1:") || taken != nil && addr == defaultAddr {
		t.Fatalf("metrics served on %q; want a free loopback port, not the taken default %s", addr, defaultAddr)
	}
	if env.Handler() != nil {
		t.Fatal("no web server was asked for")
	}

	ctx := context.Background()
	for _, dag := range []struct {
		id    string
		state windsock.DagRunState
	}{{"hello", windsock.DagRunSuccess}, {"boom", windsock.DagRunFailed}} {
		run := createRun(t, env, dag.id)
		eventually(t, time.Minute, dag.id+" ending "+string(dag.state), func() bool {
			r, err := env.Store.DagRunGet(ctx, dag.id, run.RunID)
			return err == nil && r.State == dag.state
		})
	}
	body := scrape(t, addr)
	for series, want := range map[string]float64{
		"airflow_ti_successes":                                           2,
		"airflow_ti_failures":                                            1,
		`airflow_ti_start{dag_id="hello",task_id="t0"}`:                  1,
		`airflow_ti_finish{dag_id="hello",state="success",task_id="t1"}`: 1,
		`airflow_ti_finish{dag_id="boom",state="failed",task_id="fail"}`: 1,
		`airflow_task_duration_count{dag_id="hello",task_id="t1"}`:       1,
		`airflow_dagrun_duration_success_count{dag_id="hello"}`:          1,
		`airflow_dagrun_duration_failed_count{dag_id="boom"}`:            1,
		"airflow_dagbag_size":                                            2,
		"airflow_dag_processing_import_errors":                           1,
		`airflow_dag_processing_last_duration_count{file_name="hello"}`:  1,
		`airflow_pool_open_slots{pool_name="default_pool"}`:              float64(env.Config.Core.DefaultPoolTaskSlotCount),
		"airflow_executor_open_slots":                                    float64(env.Config.Core.Parallelism),
		"airflow_executor_running_tasks":                                 0,
		"airflow_executor_queued_tasks":                                  0,
	} {
		if got, ok := sample(body, series); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	for _, series := range []string{"airflow_scheduler_heartbeat", "airflow_dag_processing_processes", "airflow_dag_processing_total_parse_time"} {
		if got, ok := sample(body, series); !ok || got <= 0 {
			t.Errorf("%s = %v (present %v), want it above 0", series, got, ok)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}

	// Every job of the process says where its metrics are served.
	jobs, err := env.Store.JobList(ctx, &store.JobListParams{})
	if err != nil {
		t.Fatal(err)
	}
	types := map[string]bool{}
	for _, j := range jobs {
		if j.MetricsAddr != addr {
			t.Errorf("the %s job records metrics at %q, want %q", j.JobType, j.MetricsAddr, addr)
		}
		types[j.JobType] = true
	}
	for _, want := range []string{windsock.JobTypeScheduler, windsock.JobTypeDagProcessor, windsock.JobTypeWorker} {
		if !types[want] {
			t.Errorf("no %s job among %v", want, types)
		}
	}
	// Stopping the roles stops the listener.
	env.Stop()
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
		t.Fatalf("the metrics listener %s still answers after Stop", addr)
	}
}

// TestMetricsPortSetByUserStays: a metrics port the user set that another
// process has fails the start, naming the option, as a web port the user
// chose does; only the default moves (TestProcessMetricsCountTheWork).
func TestMetricsPortSetByUserStays(t *testing.T) {
	t.Parallel()
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	_, port, _ := net.SplitHostPort(taken.Addr().String())
	cfg, environ := benchConfig(t, map[string]string{"hello.yaml": chainYAML("hello", 1)}, "WINDSOCK__METRICS__METRICS_PORT="+port)
	env, err := Open(context.Background(), cfg, Options{Environ: environ, Version: "test",
		Roles: Roles{DAGProcessor: true, Schedulers: 1, Metrics: true}})
	if err == nil {
		addr := env.MetricsAddr()
		env.Stop()
		t.Fatalf("started with metrics on %s although the port set, %s, is taken", addr, port)
	}
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "metrics.metrics_port "+port+" is taken") {
		t.Fatalf("error %q, want metrics.metrics_port %s is taken (EADDRINUSE)", err, port)
	}
}
