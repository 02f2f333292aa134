package taskrun

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/callback"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// slaTry is the try whose sources a Python sla_miss_callback gets: the
// missed task instance in the run of the miss's logical date.
func (r *Runner) slaTry(ctx context.Context, d *windsock.DAG, m *windsock.SlaMiss) (*Try, error) {
	runs, err := r.Store.DagRunList(ctx, &store.DagRunListParams{DagID: d.DagID, LogicalDateGTE: &m.ExecutionDate, LogicalDateLTE: &m.ExecutionDate, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "no run of %s at %s", d.DagID, windsock.ISOFormat(m.ExecutionDate))
	}
	ti, err := r.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: d.DagID, RunID: runs[0].RunID, TaskID: m.TaskID, MapIndex: -1})
	if err != nil {
		return nil, err
	}
	return &Try{TI: ti, DAG: d, Run: runs[0]}, nil
}

// SLAMiss notifies a DAG's SLA misses as Airflow does: the DAG's
// sla_miss_callback runs once for them, and the tasks that missed and
// name recipients in `email` send one "[airflow] SLA miss" email. What
// the callback prints goes to out.
func (r *Runner) SLAMiss(ctx context.Context, d *windsock.DAG, misses []*windsock.SlaMiss, out io.Writer) error {
	if len(misses) == 0 || r.Callbacks == nil {
		return nil
	}
	var tasks, lines []string
	for _, m := range misses {
		if !slices.Contains(tasks, m.TaskID) {
			tasks = append(tasks, m.TaskID)
		}
		lines = append(lines, fmt.Sprintf("%s on %s", m.TaskID, windsock.ISOFormat(m.ExecutionDate)))
	}
	var errs []error
	if spec, ok := d.Callbacks["sla_miss_callback"]; ok && spec != nil {
		ev := callback.Event{Callback: "sla_miss_callback", DagID: d.DagID, TaskID: strings.Join(tasks, ","),
			LogicalDate: misses[0].ExecutionDate, State: "sla_miss", Reason: strings.Join(lines, "; "), Misses: misses}
		if callback.HasPython(spec) {
			// A Python callable runs in the DAG file's Python with the
			// sources of the first miss's task instance.
			try, err := r.slaTry(ctx, d, misses[0])
			if err != nil {
				return fmt.Errorf("sla_miss_callback: %w", err)
			}
			ev.RunID = try.Run.RunID
			ev.Try = r.callbackContext(ctx, try, try.TI, out, tasklog.NewMasker())
		}
		errs = append(errs, r.Callbacks.Run(context.WithoutCancel(ctx), spec, ev, out))
	}
	var to []string
	for _, id := range tasks {
		if t := d.Task(id); t != nil {
			for _, a := range recipients(t.Args["email"]) {
				if !slices.Contains(to, a) {
					to = append(to, a)
				}
			}
		}
	}
	if len(to) > 0 && r.Callbacks.Email != nil {
		body := "Here is the list of tasks that missed their SLA:<br>\n<pre><code>" + html.EscapeString(strings.Join(lines, "\n")) + "</code></pre>\n"
		msg := callback.EmailMessage{To: strings.Join(to, ","), Subject: "[airflow] SLA miss on DAG=" + d.DagID, Message: body}
		if err := r.Callbacks.Email(context.WithoutCancel(ctx), msg); err != nil {
			errs = append(errs, fmt.Errorf("SLA miss email to %s: %w", strings.Join(to, ", "), err))
		}
	}
	return errors.Join(errs...)
}
