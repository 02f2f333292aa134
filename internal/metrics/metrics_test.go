package metrics_test

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/windsock"
)

// TestNilProcessRecordsNothing: the services built without metrics (the
// one-shot commands) call the same methods on a nil Process.
func TestNilProcessRecordsNothing(t *testing.T) {
	t.Parallel()
	var p *metrics.Process
	p.SchedulerHeartbeat()
	p.ZombiesKilled(2)
	p.TryStarted("d", "t")
	p.TryFinished("d", "t", windsock.TaskStateSuccess, time.Second)
	p.DagRunFinished(&windsock.DagRun{DagID: "d"})
	p.DAGFileParsed("f", time.Second)
	p.DAGProcessorPass(time.Second, 1, 0)
	if err := p.Register(metrics.Executors{Load: func() (int, int) { return 0, 0 }}); err != nil {
		t.Fatal(err)
	}
}

// TestNamesAsTheStatsdExporterShowsThem: Airflow's statsd names, with
// their per-DAG, per-task and per-file parts as labels and timers as
// summaries in seconds.
func TestNamesAsTheStatsdExporterShowsThem(t *testing.T) {
	t.Parallel()
	p := metrics.New()
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Second)
	p.SchedulerHeartbeat()
	p.ZombiesKilled(2)
	p.TryStarted("etl", "load")
	p.TryFinished("etl", "load", windsock.TaskStateUpForRetry, 1500*time.Millisecond)
	p.TryFinished("etl", "load", windsock.TaskStateSuccess, 500*time.Millisecond)
	p.TryFinished("etl", "skip", windsock.TaskStateSkipped, 0)
	p.DagRunFinished(&windsock.DagRun{DagID: "etl", State: windsock.DagRunSuccess, StartDate: &start, EndDate: &end})
	p.DagRunFinished(&windsock.DagRun{DagID: "etl", State: windsock.DagRunRunning, StartDate: &start, EndDate: &end})
	p.DAGFileParsed("/dags/etl.yaml", 20*time.Millisecond)
	p.DAGProcessorPass(250*time.Millisecond, 3, 1)
	if err := p.Register(metrics.Executors{Load: func() (int, int) { return 3, 16 }}); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	p.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"\nairflow_scheduler_heartbeat 1\n",
		"\nairflow_zombies_killed 2\n",
		"\nairflow_ti_successes 1\n",
		"\nairflow_ti_failures 1\n", // a try up for retry failed; a skipped one did not
		`airflow_ti_start{dag_id="etl",task_id="load"} 1`,
		`airflow_ti_finish{dag_id="etl",state="up_for_retry",task_id="load"} 1`,
		`airflow_ti_finish{dag_id="etl",state="skipped",task_id="skip"} 1`,
		`airflow_task_duration_sum{dag_id="etl",task_id="load"} 2`,
		`airflow_dagrun_duration_success{dag_id="etl",quantile="0.5"} 90`,
		`airflow_dagrun_duration_success_count{dag_id="etl"} 1`,
		"# TYPE airflow_dagrun_duration_success summary",
		`airflow_dag_processing_last_duration_sum{file_name="etl"} 0.02`,
		"\nairflow_dag_processing_processes 1\n",
		"\nairflow_dag_processing_total_parse_time 0.25\n",
		"\nairflow_dagbag_size 3\n",
		"\nairflow_dag_processing_import_errors 1\n",
		"\nairflow_executor_running_tasks 3\n",
		"\nairflow_executor_open_slots 13\n",
		"\ngo_goroutines ",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if strings.Contains(string(body), "airflow_dagrun_duration_failed_count") {
		t.Error("a run that did not end is not observed")
	}
	if t.Failed() {
		t.Logf("%s", body)
	}
}
