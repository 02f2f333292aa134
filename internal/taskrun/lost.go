package taskrun

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/windsock/windsock/internal/tasklog"
)

// Lost handles a try the scheduler ended because its process was gone (a
// zombie, an orphan of a killed scheduler, or a task instance queued too
// long): as Airflow does for zombies, it runs the task's on_retry_callback
// or on_failure_callback for the state the try was given (try.TI, as
// recorded). When the try ran on this host, why it ended and the
// callback's output are appended to the try's log; otherwise (the log is
// on a worker that is gone) they go to Windsock's own log.
func (r *Runner) Lost(ctx context.Context, try *Try, reason string) {
	out := &Outcome{State: try.TI.State, Err: errors.New(reason), Recorded: true, TI: try.TI}
	if try.TI.Hostname != "" && try.TI.Hostname != r.Hostname {
		r.runCallbacks(ctx, try, out, &serviceLog{r: r, try: try}, tasklog.NewMasker())
		return
	}
	r.appendToLog(ctx, try, out, func(logf *tasklog.File) {
		logf.Errorf("%s", reason)
		r.logOutcome(logf, try.TI, out)
	}, true)
}

// appendToLog writes to the log of a try that ended on this host (with
// write), runs the task's callback for out when callbacks is set, and
// closes the log again, copying it to remote storage when that is on.
func (r *Runner) appendToLog(ctx context.Context, try *Try, out *Outcome, write func(logf *tasklog.File), callbacks bool) {
	// A local log that is not there was copied away and deleted
	// (logging.delete_local_logs), or never written: the note goes in a
	// new local file, which must not replace the remote copy.
	_, statErr := os.Stat(tasklog.Path(r.LogFolder, try.TI.TaskInstanceKey, try.TI.TryNumber))
	lock := r.logLock(try.TI.TaskInstanceKey)
	lock.Lock()
	masker := tasklog.NewMasker()
	logf, err := tasklog.Open(r.LogFolder, try.TI.TaskInstanceKey, try.TI.TryNumber, masker)
	lock.Unlock()
	if err != nil {
		r.logger().Warn("opening the log of a finished try failed", "ti", try.TI.TaskInstanceKey, "try", try.TI.TryNumber, "error", err)
		if callbacks {
			r.runCallbacks(ctx, try, out, &serviceLog{r: r, try: try}, masker)
		}
		return
	}
	write(logf)
	if callbacks {
		r.runCallbacks(ctx, try, out, logf, masker)
	}
	if statErr != nil && r.RemoteLogs != nil {
		if err := logf.Close(); err != nil {
			r.logger().Warn("closing task log failed", "ti", try.TI.TaskInstanceKey, "try", try.TI.TryNumber, "error", err)
		}
		return
	}
	r.closeLog(ctx, try, logf, out)
}

// serviceLog sends what would go to a try's log to Windsock's own log.
type serviceLog struct {
	r   *Runner
	try *Try
}

func (l *serviceLog) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.Infof("%s", line)
	}
	return len(p), nil
}

func (l *serviceLog) Infof(format string, args ...any) {
	l.r.logger().Info(fmt.Sprintf(format, args...), "dag_id", l.try.TI.DagID, "task_id", l.try.TI.TaskID,
		"run_id", l.try.TI.RunID, "try_number", l.try.TI.TryNumber)
}
