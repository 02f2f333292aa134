package windsock

import "time"

// HealthThresholds are how old a process's last heartbeat may be for it
// to count as healthy: Worker for workers (as the scheduler that hands
// back a dead worker's tries judges them), Scheduler for the others.
// They are scheduler.worker_health_check_threshold and
// scheduler.scheduler_health_check_threshold.
type HealthThresholds struct {
	Scheduler time.Duration
	Worker    time.Duration
}

// Healthy reports whether the job is a running process whose last
// heartbeat, at now, is within its kind's threshold: the health the
// cluster activity pages (an environment's and the control plane's)
// show.
func (j *Job) Healthy(now time.Time, t HealthThresholds) bool {
	threshold := t.Scheduler
	if j.JobType == JobTypeWorker {
		threshold = t.Worker
	}
	return j.State == JobRunning && now.Sub(j.LatestHeartbeat) <= threshold
}
