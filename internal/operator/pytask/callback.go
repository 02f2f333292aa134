package pytask

import (
	"context"
	"fmt"
	"io"

	"github.com/windsock/windsock/internal/callback"
	"github.com/windsock/windsock/internal/windsock"
)

// RunPython runs the Python callbacks of ev (callback.PythonRunner): the
// child of the DAG file's warm server finds the DAG (and, for a task
// callback, the task), and calls each callable it holds under
// ev.Callback with the context of ev.Try. What they print goes to out; a
// callback's exception fails the run of the callbacks (the child logs
// its traceback).
func (o *Operator) RunPython(ctx context.Context, ev callback.Event, out io.Writer) error {
	tc := *ev.Try
	tc.Log = out
	kind := "dag_callback"
	switch {
	case ev.Callback == "sla_miss_callback":
		kind = "sla_callback"
	case ev.TaskID != "":
		kind = "task_callback"
	}
	req := Request{
		Kind: kind, File: tc.DAG.Fileloc, DagID: ev.DagID, RunID: ev.RunID, Context: tc.Template, Callback: ev.Callback,
	}
	switch kind {
	case "task_callback":
		req.Exception = ev.Reason // the try's error, for failure and retry callbacks
	case "sla_callback":
		for _, m := range ev.Misses {
			req.Slas = append(req.Slas, map[string]any{
				"task_id": m.TaskID, "dag_id": m.DagID, "execution_date": windsock.ISOFormat(m.ExecutionDate),
				"timestamp": windsock.ISOFormat(m.Timestamp), "email_sent": m.EmailSent,
				"notification_sent": m.NotificationSent, "description": m.Description,
			})
		}
	default:
		req.Reason = ev.Reason
	}
	if tc.TI != nil {
		req.TaskID, req.MapIndex, req.TryNumber, req.MaxTries = tc.TI.TaskID, tc.TI.MapIndex, tc.TI.TryNumber, tc.TI.MaxTries
	}
	res, err := o.run(ctx, req, &tc)
	if err != nil {
		return fmt.Errorf("%s: %w", ev.Callback, err)
	}
	if res.State == stateSuccess || res.State == stateSkipped {
		return nil
	}
	// The child logged each failing callback's traceback.
	if res.Error == nil {
		return fmt.Errorf("%s failed", ev.Callback)
	}
	return fmt.Errorf("%s: %w", ev.Callback, res.Error)
}
