package metrics

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// scrapeTimeout bounds the database reads of one scrape.
const scrapeTimeout = 10 * time.Second

var (
	poolOpenDesc    = prometheus.NewDesc("airflow_pool_open_slots", "Free slots per pool (-1: unlimited).", []string{"pool_name"}, nil)
	poolQueuedDesc  = prometheus.NewDesc("airflow_pool_queued_slots", "Slots of the task instances queued in each pool.", []string{"pool_name"}, nil)
	poolRunningDesc = prometheus.NewDesc("airflow_pool_running_slots", "Slots of the task instances running in each pool.", []string{"pool_name"}, nil)
	queuedDesc      = prometheus.NewDesc("airflow_executor_queued_tasks", "Task instances queued in the environment, waiting for an executor or worker to claim them.", nil, nil)
	runningDesc     = prometheus.NewDesc("airflow_executor_running_tasks", "Task instances running.", nil, nil)
	openDesc        = prometheus.NewDesc("airflow_executor_open_slots", "Slots free for more tries.", nil, nil)
)

// Environment is the environment-wide gauges, read from the metadata
// database at each scrape: every process sharing the store that serves
// them gives the same answer, whichever process did the work.
type Environment struct {
	Store store.Store
	// Parallelism is core.parallelism: the environment's executor slots,
	// for airflow_executor_open_slots.
	Parallelism int
	// OwnExecutors leaves airflow_executor_running_tasks and
	// airflow_executor_open_slots to an Executors collector: a process
	// that runs tries (a scheduler with a local executor, a worker)
	// reports its own executors, as an Airflow scheduler reports its
	// executor's. Unset, both are the environment's (core.parallelism
	// less what is queued and running): what a CeleryExecutor's scheduler
	// or a web server sees.
	OwnExecutors bool
	Logger       *slog.Logger
}

// Executors reports the tries running in this process's executors and
// their free slots: Load returns the running tries and the slots.
type Executors struct {
	Load func() (running, slots int)
}

// Describe sends the two gauges' descriptions.
func (c Executors) Describe(ch chan<- *prometheus.Desc) {
	ch <- runningDesc
	ch <- openDesc
}

// Collect reads the executors' load.
func (c Executors) Collect(ch chan<- prometheus.Metric) {
	running, slots := c.Load()
	ch <- prometheus.MustNewConstMetric(runningDesc, prometheus.GaugeValue, float64(running))
	ch <- prometheus.MustNewConstMetric(openDesc, prometheus.GaugeValue, float64(max(slots-running, 0)))
}

// Describe describes nothing: the gauges are read from the store at each
// scrape, so the registry takes them unchecked.
func (c *Environment) Describe(chan<- *prometheus.Desc) {}

// Collect reads the gauges from the store. A failed read is reported as
// an invalid metric, which the handler skips (the other metrics are still
// served) and logs.
func (c *Environment) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if err := c.collect(ctx, ch); err != nil {
		if c.Logger != nil {
			c.Logger.Warn("reading the environment's metrics failed", "error", err)
		}
		ch <- prometheus.NewInvalidMetric(queuedDesc, err)
	}
}

// collect reads the pools and their usage, two reads whatever the number
// of pools: the environment's totals are the sums over every pool (pools
// the table lacks too, as an instance's pool may have been deleted).
func (c *Environment) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	pools, err := c.Store.PoolList(ctx)
	if err != nil {
		return fmt.Errorf("metrics: pools: %w", err)
	}
	usage, err := c.Store.PoolUsage(ctx)
	if err != nil {
		return fmt.Errorf("metrics: pool usage: %w", err)
	}
	queued, running := 0, 0
	for _, states := range usage {
		queued += states[windsock.TaskStateQueued].Tasks
		running += states[windsock.TaskStateRunning].Tasks
	}
	gauge(queuedDesc, float64(queued))
	if !c.OwnExecutors {
		gauge(runningDesc, float64(running))
		gauge(openDesc, float64(max(c.Parallelism-queued-running, 0)))
	}
	// As Airflow's scheduler reports them: slots (pool_slots summed), not
	// task instances.
	for _, p := range pools {
		q := usage[p.Pool][windsock.TaskStateQueued].Slots
		r := usage[p.Pool][windsock.TaskStateRunning].Slots
		free := float64(p.Slots - q - r)
		if p.Slots < 0 {
			free = -1
		}
		gauge(poolOpenDesc, free, p.Pool)
		gauge(poolQueuedDesc, float64(q), p.Pool)
		gauge(poolRunningDesc, float64(r), p.Pool)
	}
	return nil
}
