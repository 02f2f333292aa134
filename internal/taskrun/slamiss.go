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
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

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
			// environment's sources (variables, connections); Airflow hands
			// it no template context, so none is built.
			ti := &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: d.DagID, MapIndex: -1}}
			ev.Try = r.operatorContext(&Try{TI: ti, DAG: d}, ti, out, tasklog.NewMasker())
		}
		errs = append(errs, r.Callbacks.Run(context.WithoutCancel(ctx), spec, ev, out))
	}
	var to []string
	for _, id := range tasks {
		if t := d.Task(id); t != nil {
			list, _ := operator.StringListArg(t.Args, "email") // a bad value is the task's own alert's to report
			for _, a := range list {
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
