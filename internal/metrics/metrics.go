// Package metrics serves an environment's Prometheus metrics at /metrics,
// under Airflow's metric names (as its statsd names appear through the
// Prometheus statsd exporter: dots become underscores, the per-pool and
// per-DAG parts become labels). They are read from the metadata database
// at each scrape, so any web server of the environment gives the same
// answer whichever process did the work.
package metrics

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Collector reads the metrics from an environment's store.
type Collector struct {
	Store store.Store
	// Parallelism is core.parallelism: the executor's slots.
	Parallelism int
	Logger      *slog.Logger
}

// ServeHTTP writes the metrics in Prometheus's text format.
func (c *Collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	fams, err := c.Collect(ctx)
	if err != nil {
		if c.Logger != nil {
			c.Logger.Error("collecting metrics failed", "error", err)
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_ = Write(w, fams)
}

// Family is one metric with its samples.
type Family struct {
	Name, Help, Type string
	Samples          []Sample
}

// Sample is one value with its labels (name, value pairs).
type Sample struct {
	Labels []string
	Value  float64
}

// Collect reads every metric.
func (c *Collector) Collect(ctx context.Context) ([]Family, error) {
	var fams []Family
	gauge := func(name, help string, v float64) {
		fams = append(fams, Family{Name: name, Help: help, Type: "gauge", Samples: []Sample{{Value: v}}})
	}
	count := func(states ...windsock.TaskInstanceState) (int, error) {
		_, n, err := c.Store.TaskInstanceQuery(ctx, &store.TaskInstanceQueryParams{States: states, Limit: 1})
		return n, err
	}

	hb := 0.0
	if job, err := c.Store.JobLatest(ctx, windsock.JobTypeScheduler); err == nil {
		hb = float64(job.LatestHeartbeat.UnixMilli()) / 1000
	} else if windsock.ErrorCode(err) != windsock.ENOTFOUND {
		return nil, fmt.Errorf("metrics: scheduler heartbeat: %w", err)
	}
	gauge("airflow_scheduler_heartbeat", "Unix time of the latest scheduler heartbeat (Airflow counts heartbeats; alert on time() minus this).", hb)

	dags, err := c.Store.DAGList(ctx, &store.DAGListParams{OnlyActive: true})
	if err != nil {
		return nil, fmt.Errorf("metrics: dags: %w", err)
	}
	gauge("airflow_dagbag_size", "DAGs found in the DAG folder.", float64(len(dags)))
	ies, err := c.Store.ImportErrorList(ctx)
	if err != nil {
		return nil, fmt.Errorf("metrics: import errors: %w", err)
	}
	gauge("airflow_dag_processing_import_errors", "DAG files that failed to import.", float64(len(ies)))

	queued, err := count(windsock.TaskStateQueued)
	if err != nil {
		return nil, fmt.Errorf("metrics: queued: %w", err)
	}
	running, err := count(windsock.TaskStateRunning)
	if err != nil {
		return nil, fmt.Errorf("metrics: running: %w", err)
	}
	gauge("airflow_executor_queued_tasks", "Task instances queued.", float64(queued))
	gauge("airflow_executor_running_tasks", "Task instances running.", float64(running))
	gauge("airflow_executor_open_slots", "core.parallelism less the queued and running task instances.", float64(max(c.Parallelism-queued-running, 0)))

	if err := c.pools(ctx, &fams); err != nil {
		return nil, err
	}

	for _, m := range []struct {
		name, help string
		state      windsock.TaskInstanceState
	}{
		{"airflow_ti_successes", "Task instances that succeeded (as the metadata database holds them).", windsock.TaskStateSuccess},
		{"airflow_ti_failures", "Task instances that failed (as the metadata database holds them).", windsock.TaskStateFailed},
	} {
		n, err := count(m.state)
		if err != nil {
			return nil, fmt.Errorf("metrics: %s: %w", m.name, err)
		}
		fams = append(fams, Family{Name: m.name, Help: m.help, Type: "counter", Samples: []Sample{{Value: float64(n)}}})
	}

	for _, m := range []struct {
		name  string
		state windsock.DagRunState
	}{{"airflow_dagrun_duration_success", windsock.DagRunSuccess}, {"airflow_dagrun_duration_failed", windsock.DagRunFailed}} {
		f, err := c.runDurations(ctx, m.name, m.state)
		if err != nil {
			return nil, err
		}
		fams = append(fams, f)
	}
	return fams, nil
}

// pools adds each pool's open, queued and running slots.
func (c *Collector) pools(ctx context.Context, fams *[]Family) error {
	pools, err := c.Store.PoolList(ctx)
	if err != nil {
		return fmt.Errorf("metrics: pools: %w", err)
	}
	usage, err := c.Store.TaskInstanceSlotUsage(ctx)
	if err != nil {
		return fmt.Errorf("metrics: pool usage: %w", err)
	}
	open := Family{Name: "airflow_pool_open_slots", Help: "Free slots per pool.", Type: "gauge"}
	queuedF := Family{Name: "airflow_pool_queued_slots", Help: "Queued task instances per pool.", Type: "gauge"}
	runningF := Family{Name: "airflow_pool_running_slots", Help: "Running task instances per pool.", Type: "gauge"}
	for _, p := range pools {
		labels := []string{"pool_name", p.Pool}
		_, q, err := c.Store.TaskInstanceQuery(ctx, &store.TaskInstanceQueryParams{Pools: []string{p.Pool}, States: []windsock.TaskInstanceState{windsock.TaskStateQueued}, Limit: 1})
		if err != nil {
			return fmt.Errorf("metrics: pool %s: %w", p.Pool, err)
		}
		_, r, err := c.Store.TaskInstanceQuery(ctx, &store.TaskInstanceQueryParams{Pools: []string{p.Pool}, States: []windsock.TaskInstanceState{windsock.TaskStateRunning}, Limit: 1})
		if err != nil {
			return fmt.Errorf("metrics: pool %s: %w", p.Pool, err)
		}
		free := float64(p.Slots - usage.PoolSlots[p.Pool])
		if p.Slots < 0 { // -1: unlimited
			free = -1
		}
		open.Samples = append(open.Samples, Sample{Labels: labels, Value: free})
		queuedF.Samples = append(queuedF.Samples, Sample{Labels: labels, Value: float64(q)})
		runningF.Samples = append(runningF.Samples, Sample{Labels: labels, Value: float64(r)})
	}
	*fams = append(*fams, open, queuedF, runningF)
	return nil
}

// runDurations is, per DAG, the duration of its latest run that ended in
// state, in seconds.
func (c *Collector) runDurations(ctx context.Context, name string, state windsock.DagRunState) (Family, error) {
	f := Family{Name: name, Help: "Seconds the latest " + string(state) + " run of each DAG took.", Type: "gauge"}
	runs, _, err := c.Store.DagRunQuery(ctx, &store.DagRunQueryParams{States: []windsock.DagRunState{state}, OrderBy: "-end_date", Limit: 1000})
	if err != nil {
		return f, fmt.Errorf("metrics: %s: %w", name, err)
	}
	seen := map[string]bool{}
	for _, r := range runs {
		if seen[r.DagID] || r.StartDate == nil || r.EndDate == nil {
			continue
		}
		seen[r.DagID] = true
		f.Samples = append(f.Samples, Sample{Labels: []string{"dag_id", r.DagID}, Value: r.EndDate.Sub(*r.StartDate).Seconds()})
	}
	sort.Slice(f.Samples, func(i, j int) bool { return f.Samples[i].Labels[1] < f.Samples[j].Labels[1] })
	return f, nil
}

// Write writes families in Prometheus's text exposition format.
func Write(w io.Writer, fams []Family) error {
	var b strings.Builder
	for _, f := range fams {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n", f.Name, escapeHelp(f.Help), f.Name, f.Type)
		for _, s := range f.Samples {
			b.WriteString(f.Name)
			if len(s.Labels) > 0 {
				b.WriteByte('{')
				for i := 0; i+1 < len(s.Labels); i += 2 {
					if i > 0 {
						b.WriteByte(',')
					}
					fmt.Fprintf(&b, "%s=\"%s\"", s.Labels[i], escapeLabel(s.Labels[i+1]))
				}
				b.WriteByte('}')
			}
			b.WriteByte(' ')
			b.WriteString(strconv.FormatFloat(s.Value, 'g', -1, 64))
			b.WriteByte('\n')
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`)

func escapeLabel(s string) string { return labelEscaper.Replace(s) }
func escapeHelp(s string) string  { return helpEscaper.Replace(s) }
