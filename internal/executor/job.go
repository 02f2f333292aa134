package executor

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/osproc"
	"github.com/windsock/windsock/internal/windsock"
)

// An executor records a WorkerJob row: the schedulers read its heartbeat
// to tell a live worker from a dead one (worker_health_check_threshold),
// its process to find, on the same host, the tries of one that crashed,
// and its log server to fetch the logs of the tries it runs. The tries it
// claims carry the job's id.

// createJob records this executor's job row.
func (e *Local) createJob(ctx context.Context) error {
	now := e.cfg.Clock().UTC()
	self := osproc.Self()
	class := "LocalExecutor"
	if e.cfg.ClaimQueued {
		class = "CeleryExecutor"
	}
	job := &windsock.Job{State: windsock.JobRunning, JobType: windsock.JobTypeWorker, StartDate: now, LatestHeartbeat: now,
		ExecutorClass: class, Hostname: e.cfg.Hostname, Unixname: unixName(),
		PID: self.PID, ProcessStart: self.Start, LogServer: e.cfg.LogServer, MetricsAddr: e.cfg.MetricsAddr}
	if err := e.cfg.Store.JobCreate(ctx, job); err != nil {
		return fmt.Errorf("record worker job: %w", err)
	}
	e.jobID.Store(job.ID)
	return nil
}

// heartbeatJob heartbeats the job row; one that is gone (removed by
// `db clean`) is recorded again, and the tries claimed from then on carry
// the new id.
func (e *Local) heartbeatJob(ctx context.Context, now time.Time) error {
	hctx, cancel := context.WithTimeout(ctx, e.storeTimeout())
	defer cancel()
	err := e.cfg.Store.JobHeartbeat(hctx, e.jobID.Load(), now.UTC())
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return e.createJob(hctx)
	}
	return err
}

// endJob records that the executor stopped.
func (e *Local) endJob() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.cfg.Store.JobEnd(ctx, e.jobID.Load(), windsock.JobSuccess, e.cfg.Clock().UTC()); err != nil {
		e.cfg.Logger.Warn("could not end the worker job", "error", err)
	}
}

// JobID is the id of this executor's job row (0 before Start).
func (e *Local) JobID() int64 { return e.jobID.Load() }
