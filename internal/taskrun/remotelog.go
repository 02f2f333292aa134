package taskrun

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// uploadTimeout bounds the copy of one log to the remote store, so that an
// unreachable bucket holds a worker slot for a bounded time.
const uploadTimeout = 2 * time.Minute

// closeLog closes the try's log and, with remote logging on, copies it to
// the remote store, as Airflow's remote task handlers do when the task's
// log handler closes. A failed copy is a warning in the worker's log, never
// a failure of the task: the local file stays, and the worker's log server
// keeps serving it. out is nil when the try did not get as far as an
// outcome (a panic).
func (r *Runner) closeLog(ctx context.Context, try *Try, logf *tasklog.File, out *Outcome) {
	if err := logf.Close(); err != nil {
		r.logger().Warn("closing task log failed", "ti", try.TI.TaskInstanceKey, "try", try.TI.TryNumber, "error", err)
	}
	if r.RemoteLogs == nil {
		return
	}
	local := logf.Name()
	rel := filepath.ToSlash(tasklog.Path("", try.TI.TaskInstanceKey, try.TI.TryNumber))
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), uploadTimeout)
	defer cancel()
	if err := r.RemoteLogs.Upload(uctx, rel, local); err != nil {
		r.logger().Warn("copying task log to remote storage failed; it stays on this host",
			"ti", try.TI.TaskInstanceKey, "try", try.TI.TryNumber, "path", local, "error", err)
		return
	}
	// A try that will run again under the same try number (a rescheduled
	// sensor, a deferred task) appends to its local log: keep it, so that
	// the next copy holds the whole log.
	if !r.DeleteLocalLogs || out == nil || !tryFinished(out.State) || sameFile(r.RemoteLogs.Location(rel), local) {
		return // (a remote folder that is the log folder itself holds the only copy)
	}
	if err := os.Remove(local); err != nil {
		r.logger().Warn("removing copied task log failed", "path", local, "error", err)
	}
}

// tryFinished reports whether a try in state writes no more to its log.
func tryFinished(state windsock.TaskInstanceState) bool {
	return state != windsock.TaskStateUpForReschedule && state != windsock.TaskStateDeferred
}

// sameFile reports whether path (a remote location, which may be a URL)
// is the local file itself.
func sameFile(path, local string) bool {
	a, err := os.Stat(path)
	if err != nil {
		return false
	}
	b, err := os.Stat(local)
	return err == nil && os.SameFile(a, b)
}
