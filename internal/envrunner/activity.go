package envrunner

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

var _ envspec.ActivityReader = (*Runner)(nil)

// recentlyLost is how long a process presumed dead (its job ended failed)
// stays in the activity, shown unhealthy, after its last heartbeat.
const recentlyLost = 10 * time.Minute

// Activity lists the environment's processes from the job rows of its
// metadata database: the running ones, healthy when their heartbeat is
// within the environment's threshold for their kind (the scheduler's for
// schedulers and the DAG processor, the worker's for workers), and those
// presumed dead in the last minutes, unhealthy.
func (r *Runner) Activity(ctx context.Context, name string) ([]envspec.Component, error) {
	e, err := r.env(name)
	if err != nil {
		return nil, err
	}
	st, cfg, err := e.store(ctx)
	if err != nil {
		return nil, fmt.Errorf("activity of %s: %w", name, err)
	}
	jobs, err := st.JobList(ctx, &store.JobListParams{Limit: 500})
	if err != nil {
		return nil, fmt.Errorf("activity of %s: %w", name, err)
	}
	now := r.cfg.Clock()
	var out []envspec.Component
	thresholds := cfg.Scheduler.HealthThresholds()
	for _, j := range jobs {
		var kind string
		switch j.JobType {
		case windsock.JobTypeScheduler:
			kind = "Scheduler"
		case windsock.JobTypeDagProcessor:
			kind = "DAG processor"
		case windsock.JobTypeWorker:
			kind = "Worker"
		default:
			continue // one-shot jobs (backfills)
		}
		lost := j.State == windsock.JobFailed && now.Sub(j.LatestHeartbeat) <= recentlyLost
		if j.State != windsock.JobRunning && !lost {
			continue
		}
		out = append(out, envspec.Component{Kind: kind, Hostname: j.Hostname, State: j.State, StartDate: j.StartDate,
			LatestHeartbeat: j.LatestHeartbeat, Healthy: j.Healthy(now, thresholds), MetricsAddr: j.MetricsAddr})
	}
	return out, nil
}
