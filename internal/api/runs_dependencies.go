package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// blockingDependencies explains why a task instance waiting to be queued
// is not, as the scheduler judges it.
func (s *Server) blockingDependencies(r *http.Request, ti *store.TaskInstanceDetail) ([]dependencyJSON, error) {
	ctx := r.Context()
	d, g, err := s.runsDAG(ctx, ti.DagID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		d, g = nil, nil
	} else if err != nil {
		return nil, err
	}
	failed, err := scheduler.FailedDependencies(ctx, s.Store, d, g, ti.TaskInstance, s.Clock())
	if err != nil {
		return nil, err
	}
	deps := make([]dependencyJSON, len(failed))
	for i, f := range failed {
		deps[i] = dependencyJSON{f.Name, f.Reason}
	}
	return deps, nil
}

// compareTimes orders times ascending with nil last.
func compareTimes(a, b *time.Time) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return 1
	case b == nil:
		return -1
	}
	return a.Compare(*b)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// tryNumber reads the task_try_number path value: an integer >= 1.
func tryNumber(r *http.Request) (int, error) {
	v := r.PathValue("task_try_number")
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, windsock.Errorf(windsock.EINVALID, "task_try_number: expected an integer >= 1, got %q", v)
	}
	return n, nil
}
