// Package callback runs the callbacks DAG files attach to tasks and DAGs
// (on_success_callback, on_failure_callback, on_retry_callback, ...). A
// YAML DAG's callback is a shell command, or a webhook that receives the
// event as JSON; a Python DAG file's callbacks are Python callables, which
// the parser marks {"__python__": "<name>"} and which run in the DAG
// file's Python (Runner.Python).
//
//	on_failure_callback: ./notify.sh                     # a command
//	on_failure_callback: {command: "./notify.sh"}        # the same
//	on_failure_callback: {url: "https://hooks.example/x", headers: {Authorization: "Bearer t"}}
//	on_failure_callback: [./notify.sh, {url: "https://hooks.example/x"}]
//	on_failure_callback: {__python__: "notify"}          # from a Python DAG file
//	on_failure_callback: {sns: {topic_arn: "arn:aws:sns:...", subject: "{dag_id} failed", message: "...", aws_conn_id: aws_default}}
//	on_failure_callback: {email: {to: "ops@example.com", subject: "{dag_id} failed", message: "...", conn_id: smtp_default}}
//
// An sns callback publishes to Amazon SNS (or an SNS-compatible endpoint
// from the aws connection); an email callback sends through the
// environment's SMTP connection as EmailOperator does. {dag_id},
// {task_id}, {run_id}, {logical_date}, {state}, {try_number} and {reason}
// in their subject and message are replaced by the event's values.
package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// Timeout bounds one callback: a hung webhook must not hold a worker.
const Timeout = 60 * time.Second

// Event is what a callback is told.
type Event struct {
	// Callback is the key that named it ("on_failure_callback").
	Callback    string    `json:"callback"`
	DagID       string    `json:"dag_id"`
	TaskID      string    `json:"task_id,omitempty"`
	RunID       string    `json:"run_id"`
	LogicalDate time.Time `json:"logical_date"`
	State       string    `json:"state"`
	TryNumber   int       `json:"try_number,omitempty"`
	// Reason is why: the task's error, or Airflow's DAG-run reasons
	// ("success", "task_failure").
	Reason string `json:"reason,omitempty"`
	// Try is the context a Python callback runs with: the try's for a
	// task callback, the run's last task instance's for a DAG callback
	// (as Airflow builds it), with the sources its calls are answered
	// from. Only Python callbacks need it.
	Try *operator.Context `json:"-"`
	// Misses are an sla_miss_callback's SLA misses (the Python callback
	// receives them as Airflow's slas argument).
	Misses []*windsock.SlaMiss `json:"-"`
}

// PythonMarker is the key of the mapping that stands for a Python
// callable in a Python DAG file's definition.
const PythonMarker = "__python__"

// PythonRunner runs the Python callbacks of a DAG file. It calls every
// Python callable the DAG or task holds under ev.Callback, in order, in
// one child of the file's Python, and writes their output to out.
type PythonRunner interface {
	RunPython(ctx context.Context, ev Event, out io.Writer) error
}

// HasPython reports whether spec (one callback or a list) holds a Python
// callable.
func HasPython(spec any) bool {
	switch s := spec.(type) {
	case []any:
		for _, e := range s {
			if HasPython(e) {
				return true
			}
		}
	case map[string]any:
		_, ok := s[PythonMarker]
		return ok
	}
	return false
}

// Runner runs callbacks.
type Runner struct {
	// Client sends webhooks; nil means a client with Timeout.
	Client *http.Client
	// Environ is the base environment of command callbacks.
	Environ []string
	// Dir is where commands run (the DAG folder).
	Dir string
	// Python runs Python callbacks; without it they fail with an error.
	Python PythonRunner
	// SNS publishes an sns callback's message through the aws connection
	// connID; nil means sns callbacks fail saying so.
	SNS func(ctx context.Context, connID string, m SNSMessage) error
	// Email sends an email callback's message; nil means email callbacks
	// fail saying so.
	Email func(ctx context.Context, m EmailMessage) error
}

// EmailMessage is what an email callback sends: To is one or more
// addresses (comma or semicolon separated, as EmailOperator takes them),
// ConnID the SMTP connection ("" for smtp_default).
type EmailMessage struct {
	To, Subject, Message, ConnID string
}

// SNSMessage is what an sns callback publishes.
type SNSMessage struct {
	TopicArn, Subject, Message string
}

// Run runs every callback in spec (one, or a list) for ev, writing what
// commands print to out. It returns the errors of those that failed.
func (r *Runner) Run(ctx context.Context, spec any, ev Event, out io.Writer) error {
	if list, ok := spec.([]any); ok {
		var errs []error
		// A DAG file's Python callables of one event run together, in one
		// child, as Airflow calls them in turn in one process.
		if HasPython(list) {
			errs = append(errs, r.Run(ctx, map[string]any{PythonMarker: nil}, ev, out))
		}
		for _, s := range list {
			if !HasPython(s) {
				errs = append(errs, r.Run(ctx, s, ev, out))
			}
		}
		return errors.Join(errs...)
	}
	ctx, cancel := context.WithTimeout(ctx, Timeout)
	defer cancel()
	if HasPython(spec) {
		return r.python(ctx, ev, out)
	}
	switch s := spec.(type) {
	case nil:
		return nil
	case string:
		return r.command(ctx, s, ev, out)
	case map[string]any:
		if c, ok := s["command"].(string); ok {
			return r.command(ctx, c, ev, out)
		}
		if u, ok := s["url"].(string); ok {
			return r.webhook(ctx, u, s, ev)
		}
		if sns, ok := s["sns"].(map[string]any); ok {
			return r.sns(ctx, sns, ev)
		}
		if em, ok := s["email"].(map[string]any); ok {
			return r.email(ctx, em, ev)
		}
		if _, ok := s["callback"]; ok {
			return windsock.Errorf(windsock.EINVALID, "%s: Python callbacks cannot run in Windsock; use a command or a url", ev.Callback)
		}
	}
	return windsock.Errorf(windsock.EINVALID, "%s: want a command string, {command: ...}, {url: ...}, {sns: ...} or {email: ...}, got %T", ev.Callback, spec)
}

// sns publishes an sns callback's message with the event's values in it.
func (r *Runner) sns(ctx context.Context, spec map[string]any, ev Event) error {
	if r.SNS == nil {
		return windsock.Errorf(windsock.EINVALID, "%s: sns callbacks are not available here", ev.Callback)
	}
	str := func(k string) string { s, _ := spec[k].(string); return s }
	fill := placeholders(ev)
	connID := str("aws_conn_id")
	if connID == "" {
		connID = "aws_default"
	}
	m := SNSMessage{TopicArn: str("topic_arn"), Subject: fill.Replace(str("subject")), Message: fill.Replace(str("message"))}
	if m.TopicArn == "" {
		return windsock.Errorf(windsock.EINVALID, "%s: sns needs topic_arn", ev.Callback)
	}
	if err := r.SNS(ctx, connID, m); err != nil {
		return fmt.Errorf("%s: %w", ev.Callback, err)
	}
	return nil
}

// placeholders fills an sns or email callback's text with the event's
// values.
func placeholders(ev Event) *strings.Replacer {
	return strings.NewReplacer("{dag_id}", ev.DagID, "{task_id}", ev.TaskID, "{run_id}", ev.RunID,
		"{logical_date}", windsock.ISOFormat(ev.LogicalDate), "{state}", ev.State,
		"{try_number}", strconv.Itoa(ev.TryNumber), "{reason}", ev.Reason)
}

// email sends an email callback's message with the event's values in it.
func (r *Runner) email(ctx context.Context, spec map[string]any, ev Event) error {
	if r.Email == nil {
		return windsock.Errorf(windsock.EINVALID, "%s: email callbacks are not available here", ev.Callback)
	}
	str := func(k string) string { s, _ := spec[k].(string); return s }
	fill := placeholders(ev)
	m := EmailMessage{To: str("to"), Subject: fill.Replace(str("subject")), Message: fill.Replace(str("message")), ConnID: str("conn_id")}
	if strings.TrimSpace(m.To) == "" {
		return windsock.Errorf(windsock.EINVALID, "%s: email needs to", ev.Callback)
	}
	if err := r.Email(ctx, m); err != nil {
		return fmt.Errorf("%s: %w", ev.Callback, err)
	}
	return nil
}

// python runs the event's Python callables.
func (r *Runner) python(ctx context.Context, ev Event, out io.Writer) error {
	if r.Python == nil || ev.Try == nil {
		return fmt.Errorf("%s: Python callbacks cannot run here", ev.Callback)
	}
	if out == nil {
		out = io.Discard
	}
	return r.Python.RunPython(ctx, ev, out)
}

func (r *Runner) command(ctx context.Context, command string, ev Event, out io.Writer) error {
	if out == nil {
		out = io.Discard
	}
	cmd := exec.CommandContext(ctx, "bash", "-c", command)
	cmd.Dir = r.Dir
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// Kill the whole group on timeout, not just bash.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.Env = append(append([]string(nil), r.Environ...),
		"WINDSOCK_CALLBACK="+ev.Callback,
		"AIRFLOW_CTX_DAG_ID="+ev.DagID,
		"AIRFLOW_CTX_TASK_ID="+ev.TaskID,
		"AIRFLOW_CTX_DAG_RUN_ID="+ev.RunID,
		"AIRFLOW_CTX_LOGICAL_DATE="+windsock.ISOFormat(ev.LogicalDate),
		"AIRFLOW_CTX_TRY_NUMBER="+strconv.Itoa(ev.TryNumber),
		"WINDSOCK_STATE="+ev.State,
		"WINDSOCK_REASON="+ev.Reason,
	)
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s command: %w", ev.Callback, err)
	}
	return nil
}

func (r *Runner) webhook(ctx context.Context, url string, spec map[string]any, ev Event) error {
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		return windsock.Errorf(windsock.EINVALID, "%s: url must start with http:// or https://", ev.Callback)
	}
	method := "POST"
	if m, ok := spec["method"].(string); ok && m != "" {
		method = strings.ToUpper(m)
	}
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s webhook: %w", ev.Callback, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if h, ok := spec["headers"].(map[string]any); ok {
		for k, v := range h {
			req.Header.Set(k, fmt.Sprint(v))
		}
	}
	client := r.Client
	if client == nil {
		client = &http.Client{Timeout: Timeout}
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("%s webhook: %w", ev.Callback, err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s webhook: %s answered %s", ev.Callback, url, resp.Status)
	}
	return nil
}
