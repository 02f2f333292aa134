package windsock_test

import (
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

func TestJobHealthy(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	th := windsock.HealthThresholds{Scheduler: 30 * time.Second, Worker: 10 * time.Second}
	for _, tt := range []struct {
		name    string
		job     windsock.Job
		healthy bool
	}{
		{"a scheduler within its threshold", windsock.Job{JobType: windsock.JobTypeScheduler, State: windsock.JobRunning, LatestHeartbeat: now.Add(-30 * time.Second)}, true},
		{"a scheduler past it", windsock.Job{JobType: windsock.JobTypeScheduler, State: windsock.JobRunning, LatestHeartbeat: now.Add(-31 * time.Second)}, false},
		{"a DAG processor by the scheduler's", windsock.Job{JobType: windsock.JobTypeDagProcessor, State: windsock.JobRunning, LatestHeartbeat: now.Add(-20 * time.Second)}, true},
		{"a worker by its own", windsock.Job{JobType: windsock.JobTypeWorker, State: windsock.JobRunning, LatestHeartbeat: now.Add(-20 * time.Second)}, false},
		{"a worker within its own", windsock.Job{JobType: windsock.JobTypeWorker, State: windsock.JobRunning, LatestHeartbeat: now.Add(-5 * time.Second)}, true},
		{"a failed job, however fresh", windsock.Job{JobType: windsock.JobTypeScheduler, State: windsock.JobFailed, LatestHeartbeat: now}, false},
	} {
		if got := tt.job.Healthy(now, th); got != tt.healthy {
			t.Errorf("%s: Healthy = %v, want %v", tt.name, got, tt.healthy)
		}
	}
}
