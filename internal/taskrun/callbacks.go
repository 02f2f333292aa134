package taskrun

import (
	"context"
	"fmt"
	"io"

	"github.com/windsock/windsock/internal/callback"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/template"
	"github.com/windsock/windsock/internal/windsock"
)

// taskCallbacks maps a try's outcome to the task callback it fires.
var taskCallbacks = map[windsock.TaskInstanceState]string{
	windsock.TaskStateSuccess:    "on_success_callback",
	windsock.TaskStateFailed:     "on_failure_callback",
	windsock.TaskStateUpForRetry: "on_retry_callback",
	windsock.TaskStateSkipped:    "on_skipped_callback",
}

// runCallbacks runs the task's callback for the outcome; its output and
// any failure go to the try's log (a failing callback does not change the
// task's state, as in Airflow). Secrets a Python callback reads go to
// masker.
func (r *Runner) runCallbacks(ctx context.Context, try *Try, out *Outcome, logf tryLog, masker *tasklog.Masker) {
	r.alertEmail(ctx, try, out, logf)
	task := try.DAG.Task(try.TI.TaskID)
	name, ok := taskCallbacks[out.State]
	if task == nil || !ok || r.Callbacks == nil {
		return
	}
	spec, ok := task.Args[name]
	if !ok || spec == nil {
		return
	}
	ev := callback.Event{
		Callback: name, DagID: try.TI.DagID, TaskID: try.TI.TaskID, RunID: try.TI.RunID,
		LogicalDate: try.Run.LogicalDate, State: string(out.State), TryNumber: try.TI.TryNumber,
	}
	if out.Err != nil {
		ev.Reason = out.Err.Error()
	}
	ctx = context.WithoutCancel(ctx)
	if callback.HasPython(spec) {
		ti := try.TI
		if out.TI != nil {
			ti = out.TI // the state the try ended in, as the callback's ti sees it
		}
		ev.Try = r.callbackContext(ctx, try, ti, logf, masker)
	}
	logf.Infof("Running %s", name)
	if err := r.Callbacks.Run(ctx, spec, ev, logf); err != nil {
		logf.Infof("%s failed: %v", name, err)
	}
}

// DagCallback runs a finished run's DAG callback (on_success_callback or
// on_failure_callback, with Airflow's reason), writing its output to out.
// A Python callback gets the template context of the run's last task
// instance plus reason, as Airflow's DAG.handle_callback builds it.
func (r *Runner) DagCallback(ctx context.Context, d *windsock.DAG, run *windsock.DagRun, name, reason string, out io.Writer) error {
	spec, ok := d.Callbacks[name]
	if !ok || spec == nil || r.Callbacks == nil {
		return nil
	}
	ev := callback.Event{Callback: name, DagID: run.DagID, RunID: run.RunID, LogicalDate: run.LogicalDate, State: string(run.State), Reason: reason}
	if callback.HasPython(spec) {
		ti, err := r.lastTaskInstance(ctx, run)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		try := &Try{TI: ti, DAG: d, Run: run}
		ev.Try = r.callbackContext(ctx, try, ti, out, tasklog.NewMasker())
	}
	return r.Callbacks.Run(ctx, spec, ev, out)
}

// lastTaskInstance is the task instance whose context a DAG callback
// gets: Airflow takes the last of the run's task instances that were not
// removed.
func (r *Runner) lastTaskInstance(ctx context.Context, run *windsock.DagRun) (*windsock.TaskInstance, error) {
	tis, err := r.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID})
	if err != nil {
		return nil, err
	}
	for i := len(tis) - 1; i >= 0; i-- {
		if tis[i].State != windsock.TaskStateRemoved {
			return tis[i], nil
		}
	}
	return nil, windsock.Errorf(windsock.ENOTFOUND, "run %s of %s has no task instance", run.RunID, run.DagID)
}

// callbackContext returns what a Python callback of try sees: the try's
// sources, and Airflow's template context for ti (the event adds the
// exception or reason).
func (r *Runner) callbackContext(ctx context.Context, try *Try, ti *windsock.TaskInstance, logf io.Writer, masker *tasklog.Masker) *operator.Context {
	tc := r.operatorContext(try, ti, logf, masker)
	tc.Template = map[string]any{}
	if tc.Task != nil {
		tctx, err := template.NewContext(ctx, try.DAG, tc.Task, try.Run, ti, r.templateSources(try, masker))
		if err != nil {
			r.logger().Warn("building a callback's context failed", "dag_id", ti.DagID, "task_id", ti.TaskID, "error", err)
		} else {
			tc.Template = tctx.JSON()
		}
	}
	return tc
}
