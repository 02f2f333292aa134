package taskrun

import (
	"context"
	"fmt"
	"html"
	"net/url"
	"strings"

	"github.com/windsock/windsock/internal/callback"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// alertEmail sends Airflow's alert email for a try that failed or will be
// retried, when the task names recipients in `email`: email_on_failure
// and email_on_retry (both true unless set false) choose which. Airflow
// sends it from the task process through the SMTP connection; a send that
// fails is logged in the try's log and changes nothing else.
func (r *Runner) alertEmail(ctx context.Context, try *Try, out *Outcome, logf tryLog) {
	task := try.DAG.Task(try.TI.TaskID)
	if task == nil || r.Callbacks == nil || r.Callbacks.Email == nil {
		return
	}
	var flag string
	switch out.State {
	case windsock.TaskStateFailed:
		flag = "email_on_failure"
	case windsock.TaskStateUpForRetry:
		flag = "email_on_retry"
	default:
		return
	}
	if on, ok := task.Args[flag].(bool); ok && !on {
		return
	}
	// The list as the task gives it; EmailOperator splits "a, b; c" and
	// checks each address when it sends.
	to, err := operator.StringListArg(task.Args, "email")
	if err != nil {
		logf.Infof("Failed to send email: %v", err)
		return
	}
	if len(to) == 0 {
		return
	}
	ti := try.TI
	mapIndex := ""
	if ti.MapIndex >= 0 {
		mapIndex = fmt.Sprintf("map_index=%d ", ti.MapIndex)
	}
	// Airflow's default subject is the task instance's repr.
	subject := fmt.Sprintf("Airflow alert: <TaskInstance: %s.%s %s %s[%s]>", ti.DagID, ti.TaskID, ti.RunID, mapIndex, out.State)
	reason := "None"
	if out.Err != nil {
		reason = out.Err.Error()
	}
	var body strings.Builder
	fmt.Fprintf(&body, "Try %d out of %d<br>\nException:<br>%s<br>\n", ti.TryNumber, task.Retries+1, html.EscapeString(reason))
	if r.BaseURL != "" {
		page := fmt.Sprintf("%s/dags/%s/grid/%s/%s?try=%d", strings.TrimRight(r.BaseURL, "/"),
			url.PathEscape(ti.DagID), url.PathEscape(ti.RunID), url.PathEscape(ti.TaskID), ti.TryNumber)
		if ti.MapIndex >= 0 {
			page += fmt.Sprintf("&map_index=%d", ti.MapIndex)
		}
		fmt.Fprintf(&body, "Log: <a href='%s'>Link</a><br>\n", html.EscapeString(page))
	}
	fmt.Fprintf(&body, "Host: %s<br>\n", html.EscapeString(r.Hostname))
	msg := callback.EmailMessage{To: strings.Join(to, ","), Subject: subject, Message: body.String()}
	if err := r.Callbacks.Email(context.WithoutCancel(ctx), msg); err != nil {
		logf.Infof("Failed to send email to: %s: %v", strings.Join(to, ", "), err)
		return
	}
	logf.Infof("Sent the %s alert email to %s", out.State, strings.Join(to, ", "))
}
