// Package metrics holds a process's Prometheus metrics, under Airflow's
// metric names as the Prometheus statsd exporter shows them when Airflow
// sends them through statsd: the "airflow." prefix and the dots become
// underscores, and the per-DAG, per-task, per-file and per-pool parts of
// a name become labels (airflow.ti.finish.<dag_id>.<task_id>.<state> is
// airflow_ti_finish{dag_id,task_id,state}); timers are summaries in
// seconds, as the exporter turns statsd's milliseconds into them.
//
// Airflow's counters and timers are events: the process that does the
// work counts them (a scheduler its heartbeats, the runs it ends and the
// zombies it fails; an executor or worker the tries it runs; the DAG
// processor its parses), so each process serves its own, as each Airflow
// process sends its own to statsd. The gauges that describe the whole
// environment (pool slots, queued task instances) are read from the
// metadata database at each scrape (Environment), so any process that
// serves them gives the same answer.
//
// Nothing here is global: each environment opened in a process has its
// own Process, and a control plane that holds many environments keeps
// their metrics apart.
package metrics

import (
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/windsock/windsock/internal/windsock"
)

// timerObjectives are the quantiles the statsd exporter gives a timer by
// default, with its error margins.
var timerObjectives = map[float64]float64{0.5: 0.05, 0.9: 0.01, 0.99: 0.001}

// Process is the metrics of one environment in one process. Its methods
// may be called on a nil *Process, which records nothing: the one-shot
// commands and the tests that build a service without metrics pass nil.
type Process struct {
	reg *prometheus.Registry

	schedulerHeartbeat prometheus.Counter
	zombiesKilled      prometheus.Counter

	tiSuccesses  prometheus.Counter
	tiFailures   prometheus.Counter
	tiStart      *prometheus.CounterVec
	tiFinish     *prometheus.CounterVec
	taskDuration *prometheus.SummaryVec

	dagrunSuccess *prometheus.SummaryVec
	dagrunFailed  *prometheus.SummaryVec

	dagbagSize      prometheus.Gauge
	importErrors    prometheus.Gauge
	totalParseTime  prometheus.Gauge
	processes       prometheus.Counter
	lastDuration    *prometheus.SummaryVec
	processorPasses prometheus.Counter
}

// New returns an empty Process with the Go runtime's and the process's
// own metrics (go_*, process_*) registered.
func New() *Process {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	f := factory{reg}
	return &Process{
		reg:                reg,
		schedulerHeartbeat: f.counter("airflow_scheduler_heartbeat", "Scheduler heartbeats (a scheduler beats every scheduler.scheduler_heartbeat_sec)."),
		zombiesKilled:      f.counter("airflow_zombies_killed", "Running tries failed because their process stopped heartbeating (zombies)."),

		tiSuccesses: f.counter("airflow_ti_successes", "Tries that ended in success, run by this process."),
		tiFailures:  f.counter("airflow_ti_failures", "Tries that failed (up for retry or failed), run by this process."),
		tiStart:     f.counterVec("airflow_ti_start", "Tries started by this process, per task.", "dag_id", "task_id"),
		tiFinish:    f.counterVec("airflow_ti_finish", "Tries ended in this process, per task and state.", "dag_id", "task_id", "state"),
		taskDuration: f.countedVec("airflow_task_duration", "Seconds a try took to run, per task.",
			"dag_id", "task_id"),

		dagrunSuccess: f.summaryVec("airflow_dagrun_duration_success", "Seconds a successful DAG run took, per DAG.", "dag_id"),
		dagrunFailed:  f.summaryVec("airflow_dagrun_duration_failed", "Seconds a failed DAG run took, per DAG.", "dag_id"),

		dagbagSize:      f.gauge("airflow_dagbag_size", "DAGs found in the DAG folder by the last pass."),
		importErrors:    f.gauge("airflow_dag_processing_import_errors", "DAG files that failed to import in the last pass."),
		totalParseTime:  f.gauge("airflow_dag_processing_total_parse_time", "Seconds the last pass over the DAG folder took."),
		processes:       f.counter("airflow_dag_processing_processes", "DAG file parses started."),
		lastDuration:    f.countedVec("airflow_dag_processing_last_duration", "Seconds a DAG file took to parse, per file.", "file_name"),
		processorPasses: f.counter("windsock_dag_processor_passes", "Passes of the DAG processor over the DAG folder (not an Airflow metric)."),
	}
}

// factory registers the instruments of one registry.
type factory struct{ reg *prometheus.Registry }

func (f factory) counter(name, help string) prometheus.Counter {
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	f.reg.MustRegister(c)
	return c
}

func (f factory) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(c)
	return c
}

func (f factory) gauge(name, help string) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help})
	f.reg.MustRegister(g)
	return g
}

func (f factory) summaryVec(name, help string, labels ...string) *prometheus.SummaryVec {
	s := prometheus.NewSummaryVec(prometheus.SummaryOpts{Name: name, Help: help, Objectives: timerObjectives}, labels)
	f.reg.MustRegister(s)
	return s
}

// countedVec is a summary with a sum and a count but no quantiles, for
// timers with a series per task or per file: a quantile stream costs
// kilobytes and allocations for each of thousands of series, and was a
// tenth of the engine's CPU per try (BenchmarkFanOut1000). The mean
// (sum over count) stays.
func (f factory) countedVec(name, help string, labels ...string) *prometheus.SummaryVec {
	s := prometheus.NewSummaryVec(prometheus.SummaryOpts{Name: name, Help: help}, labels)
	f.reg.MustRegister(s)
	return s
}

// Register adds a collector (Environment, Executors) to the process's
// metrics.
func (p *Process) Register(c prometheus.Collector) error {
	if p == nil {
		return nil
	}
	return p.reg.Register(c)
}

// Handler serves the metrics in Prometheus's exposition format. A
// collector that fails (the metadata database unreachable) costs only its
// own metrics: the event counters are still served.
func (p *Process) Handler() http.Handler {
	return promhttp.HandlerFor(p.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
}

// Gatherer is the registry, for a caller that serves it with others.
func (p *Process) Gatherer() prometheus.Gatherer { return p.reg }

// SchedulerHeartbeat counts a scheduler heartbeat.
func (p *Process) SchedulerHeartbeat() {
	if p != nil {
		p.schedulerHeartbeat.Inc()
	}
}

// ZombiesKilled counts tries failed as zombies.
func (p *Process) ZombiesKilled(n int) {
	if p != nil && n > 0 {
		p.zombiesKilled.Add(float64(n))
	}
}

// TryStarted counts a try that starts running here.
func (p *Process) TryStarted(dagID, taskID string) {
	if p != nil {
		p.tiStart.WithLabelValues(dagID, taskID).Inc()
	}
}

// TryFinished counts a try that ended here in state (as recorded), having
// run for took.
func (p *Process) TryFinished(dagID, taskID string, state windsock.TaskInstanceState, took time.Duration) {
	if p == nil || state == "" {
		return
	}
	p.tiFinish.WithLabelValues(dagID, taskID, string(state)).Inc()
	p.taskDuration.WithLabelValues(dagID, taskID).Observe(took.Seconds())
	switch state {
	case windsock.TaskStateSuccess:
		p.tiSuccesses.Inc()
	case windsock.TaskStateFailed, windsock.TaskStateUpForRetry:
		// Airflow counts every failed try, retried or not.
		p.tiFailures.Inc()
	}
}

// DagRunFinished observes the duration of a run this process ended.
func (p *Process) DagRunFinished(run *windsock.DagRun) {
	if p == nil || run.StartDate == nil || run.EndDate == nil {
		return
	}
	took := run.EndDate.Sub(*run.StartDate).Seconds()
	switch run.State {
	case windsock.DagRunSuccess:
		p.dagrunSuccess.WithLabelValues(run.DagID).Observe(took)
	case windsock.DagRunFailed:
		p.dagrunFailed.WithLabelValues(run.DagID).Observe(took)
	}
}

// DAGFileParsed counts the parse of one DAG file, which took took. The
// file is named as Airflow tags it, by its name without folder or
// extension (Path(file).stem): dashboards built for Airflow find it, and
// the server's paths stay off a web server's public /metrics.
func (p *Process) DAGFileParsed(file string, took time.Duration) {
	if p != nil {
		p.processes.Inc()
		base := filepath.Base(file)
		p.lastDuration.WithLabelValues(strings.TrimSuffix(base, filepath.Ext(base))).Observe(took.Seconds())
	}
}

// DAGProcessorPass records a pass of the DAG processor: how long it took,
// the DAGs it found and the files that failed to import.
func (p *Process) DAGProcessorPass(took time.Duration, dags, importErrors int) {
	if p == nil {
		return
	}
	p.processorPasses.Inc()
	p.totalParseTime.Set(took.Seconds())
	p.dagbagSize.Set(float64(dags))
	p.importErrors.Set(float64(importErrors))
}
