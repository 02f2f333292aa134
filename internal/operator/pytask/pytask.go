// Package pytask runs the tasks of Python DAG files that Windsock does not
// run natively (PythonOperator, @task, custom operators): the operator
// registered as "python_file_task". A try runs in a worker of the warm
// Python server (internal/pyrt), which imports the task's DAG file, finds
// the task, renders its templated fields, calls execute(context)
// and reports the outcome, while this package answers its calls for
// variables, connections and XCom through the try's sources. It also runs
// the Python callbacks ({"__python__": ...}) of native tasks and of DAGs.
package pytask

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/pyrt"
	"github.com/windsock/windsock/internal/windsock"
)

// Name is the operator name Python DAG files give their Python tasks.
const Name = "python_file_task"

// Runtime runs one request in a child of a DAG file's warm Python server
// (*pyrt.Runtime).
type Runtime interface {
	Run(ctx context.Context, req pyrt.RunRequest, log io.Writer, h pyrt.Handler) (json.RawMessage, error)
}

// RuntimeFunc returns the environment's Python runtime, made on first use
// so that an environment without Python DAGs needs no interpreter.
type RuntimeFunc func(ctx context.Context) (Runtime, error)

// Operator is the python_file_task operator.
type Operator struct {
	runtime RuntimeFunc
	// Grace is how long after its execution_timeout a try may still run:
	// Python enforces the timeout itself, as Airflow does (SIGALRM, the
	// task's on_kill, then its callbacks, once), and the worker kills the
	// try only if that does not end it. Zero means DefaultTimeoutGrace.
	Grace time.Duration
}

// DefaultTimeoutGrace is Operator.Grace's default.
const DefaultTimeoutGrace = 10 * time.Second

// TimeoutGrace gives a Python try time to end itself at its
// execution_timeout (operator.TimeoutEnforcer).
func (o *Operator) TimeoutGrace() time.Duration {
	if o.Grace > 0 {
		return o.Grace
	}
	return DefaultTimeoutGrace
}

// New returns the operator running tries through runtime.
func New(runtime RuntimeFunc) *Operator { return &Operator{runtime: runtime} }

// Request is what windsock_rt.execute.run_task receives (pyspec.md,
// Contract 3).
type Request struct {
	Kind      string         `json:"kind"` // "task", "task_callback", "dag_callback", "sla_callback" or "render"
	File      string         `json:"file"`
	DagID     string         `json:"dag_id"`
	TaskID    string         `json:"task_id,omitempty"`
	RunID     string         `json:"run_id"`
	MapIndex  int            `json:"map_index"`
	TryNumber int            `json:"try_number"`
	MaxTries  int            `json:"max_tries"`
	Context   map[string]any `json:"context"`
	// Callback names the callback a callback request runs
	// ("on_failure_callback").
	Callback string `json:"callback,omitempty"`
	// Exception is the try's error, for a task's failure and retry
	// callbacks (context["exception"]); Reason is a DAG callback's
	// (context["reason"]).
	Exception string `json:"exception,omitempty"`
	Reason    string `json:"reason,omitempty"`
	// Env is exported into the child's os.environ before the task runs:
	// the AIRFLOW_CTX_* variables and Windsock's try mark, which the
	// processes the task starts inherit, so that they can be found and
	// killed if the worker dies (process.KillLeftovers).
	Env map[string]string `json:"env,omitempty"`
	// Expand holds an instance of a mapped task's own mapped arguments,
	// for when the Python side cannot read the task's expansion itself.
	Expand map[string]any `json:"expand,omitempty"`
	// Slas are an sla_callback's misses (sla_miss rows).
	Slas []map[string]any `json:"slas,omitempty"`
}

// Outcome is what run_task reports (pyspec.md, Contract 3).
type Outcome struct {
	State                        string                     `json:"state"`
	ReturnValue                  json.RawMessage            `json:"return_value"`
	HasReturn                    bool                       `json:"has_return"`
	XComs                        map[string]json.RawMessage `json:"xcoms"`
	Branch                       []string                   `json:"branch"`
	SkipDownstream               bool                       `json:"skip_downstream"`
	SkipTasks                    []string                   `json:"skip_tasks"`
	RescheduleDate               *time.Time                 `json:"reschedule_date"`
	IgnoreDownstreamTriggerRules *bool                      `json:"ignore_downstream_trigger_rules"`
	RenderedFields               map[string]any             `json:"rendered_fields"`
	RenderedMapIndex             string                     `json:"rendered_map_index"`
	OutletEvents                 []OutletEvent              `json:"outlet_events"`
	Error                        *PythonError               `json:"error"`
}

// OutletEvent is what a try set through outlet_events[key]: the extra of
// the event of dataset key (a URI). Events added to a DatasetAlias
// (alias_events) are not recorded.
type OutletEvent struct {
	Key   string          `json:"key"`
	Extra json.RawMessage `json:"extra"`
}

// PythonError is the exception a try or callback ended with.
type PythonError struct {
	// Types are the exception's class and its bases, most derived first.
	Types     []string `json:"types"`
	Message   string   `json:"message"`
	Traceback string   `json:"traceback"`
}

// Error reads as Python's last traceback line ("ValueError: boom").
func (e *PythonError) Error() string {
	name := "Exception"
	if len(e.Types) > 0 {
		name = e.Types[0]
	}
	if e.Message == "" {
		return name
	}
	return name + ": " + e.Message
}

// States run_task reports.
const (
	stateSuccess       = "success"
	stateSkipped       = "skipped"
	stateFailed        = "failed"
	stateFailedNoRetry = "failed_no_retry"
	// A sensor in reschedule mode poked and runs again at reschedule_date.
	stateUpForReschedule = "up_for_reschedule"
)

// Execute runs one try in Python and maps its outcome: success to a
// Result (return value, multiple_outputs keys, branch, short circuit),
// skipped to operator.ErrSkip, failed_no_retry to operator.ErrFail, failed
// to an error that retries apply to. The rendered fields come back with
// the Result in every case.
func (o *Operator) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	out, err := o.run(ctx, o.request("task", tc), tc)
	if err != nil {
		if out != nil {
			// Stopped (execution_timeout, a kill) after Python handled it:
			// its callbacks ran there and must not run again.
			return &operator.Result{RenderedFields: out.RenderedFields, CallbacksRan: true}, err
		}
		return nil, err
	}
	return result(tc, out)
}

// RenderFields renders the task's templated fields in Python for the run
// of tc, running nothing (operator.FieldRenderer: tasks render).
func (o *Operator) RenderFields(ctx context.Context, tc *operator.Context) (map[string]any, error) {
	req := o.request("render", tc)
	out, err := o.run(ctx, req, tc)
	if err != nil {
		return nil, err
	}
	if out.State != stateSuccess {
		if out.Error != nil {
			return out.RenderedFields, out.Error
		}
		return out.RenderedFields, fmt.Errorf("render templates: the python child reported %q", out.State)
	}
	return out.RenderedFields, nil
}

// request is the request of kind for the try of tc.
func (o *Operator) request(kind string, tc *operator.Context) Request {
	return Request{
		Kind: kind, File: tc.DAG.Fileloc, DagID: tc.TI.DagID, TaskID: tc.TI.TaskID, RunID: tc.TI.RunID,
		MapIndex: tc.TI.MapIndex, TryNumber: tc.TI.TryNumber, MaxTries: tc.TI.MaxTries, Context: tc.Template,
		Env: envMap(process.ContextEnv(tc)), Expand: tc.Mapped,
	}
}

// run sends req to a worker of the warm Python server and decodes what it
// reports.
func (o *Operator) run(ctx context.Context, req Request, tc *operator.Context) (*Outcome, error) {
	if req.File == "" {
		return nil, fmt.Errorf("%w: DAG %s has no file to run its Python from", operator.ErrFail, req.DagID)
	}
	rt, err := o.runtime(ctx)
	if err != nil {
		return nil, fmt.Errorf("python runtime: %w", err)
	}
	// Python's json reads 5 as an int: floats go as 5.0 to stay floats.
	req.Context, _ = windsock.KeepFloats(req.Context).(map[string]any)
	req.Expand, _ = windsock.KeepFloats(req.Expand).(map[string]any)
	raw, err := rt.Run(ctx, pyrt.RunRequest{File: req.File, Request: req}, tc.Log, NewHandler(tc))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return stopped(raw), ctxErr
		}
		return nil, err
	}
	var out Outcome
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, fmt.Errorf("read the outcome of the python child: %w", err)
	}
	return &out, nil
}

// stopped returns what a try stopped by its context reported before it
// ended (a Python task that caught the SIGTERM ran its failure callbacks
// and reports its rendered fields), or nil.
func stopped(raw json.RawMessage) *Outcome {
	var out Outcome
	if len(raw) == 0 || json.Unmarshal(raw, &out) != nil {
		return nil
	}
	return &out
}

// result maps a try's outcome to Execute's answer.
func result(tc *operator.Context, out *Outcome) (*operator.Result, error) {
	// The child called the task's callbacks for the outcome itself.
	rendered := &operator.Result{RenderedFields: out.RenderedFields, RenderedMapIndex: out.RenderedMapIndex, CallbacksRan: true}
	switch out.State {
	case stateSuccess:
	case stateUpForReschedule:
		if out.RescheduleDate == nil {
			return rendered, errors.New("the python child asked for a reschedule without reschedule_date")
		}
		// Callbacks wait for the sensor's final state.
		rendered.RescheduleAt, rendered.CallbacksRan = out.RescheduleDate, false
		return rendered, nil
	case stateSkipped:
		return rendered, fmt.Errorf("%w: %s", operator.ErrSkip, out.errorText("skipped"))
	case stateFailedNoRetry, stateFailed:
		// The child logged the traceback itself.
		err := error(out.Error)
		if out.Error == nil {
			err = errors.New("the task failed")
		}
		if out.State == stateFailedNoRetry {
			err = fmt.Errorf("%w: %w", operator.ErrFail, err)
		}
		return rendered, err
	default:
		return rendered, fmt.Errorf("the python child reported an unknown state %q", out.State)
	}
	res := rendered
	if out.HasReturn {
		v, err := decodeValue(out.ReturnValue)
		if err != nil {
			return rendered, err
		}
		res.ReturnValue, res.HasReturn = v, true
	}
	if len(out.XComs) > 0 {
		res.XComs = make(map[string]any, len(out.XComs))
		for k, raw := range out.XComs {
			v, err := decodeValue(raw)
			if err != nil {
				return rendered, err
			}
			res.XComs[k] = v
		}
	}
	if out.Branch != nil {
		ids, err := operator.BranchTargets(tc.DAG, out.Branch)
		if err != nil {
			return rendered, err
		}
		res.Branch = ids
	}
	if len(out.SkipTasks) > 0 {
		res.Skip = out.SkipTasks
	}
	for _, ev := range out.OutletEvents {
		v, err := decodeValue(ev.Extra)
		if err != nil {
			return rendered, err
		}
		extra, ok := v.(map[string]any)
		if !ok || len(extra) == 0 {
			continue
		}
		if res.OutletExtras == nil {
			res.OutletExtras = map[string]map[string]any{}
		}
		res.OutletExtras[ev.Key] = extra
	}
	if out.SkipDownstream {
		res.SkipDownstream = true
		res.IgnoreDownstreamTriggerRules = out.IgnoreDownstreamTriggerRules == nil || *out.IgnoreDownstreamTriggerRules
	}
	return res, nil
}

// errorText is the outcome's exception as text, or fallback.
func (o *Outcome) errorText(fallback string) string {
	if o.Error == nil {
		return fallback
	}
	if o.Error.Message != "" {
		return o.Error.Message
	}
	return o.Error.Error()
}

// decodeValue decodes a value the child sent, keeping numbers as written
// (json.Number) so that the XCom stores what Python returned (5.0 stays a
// float).
func decodeValue(raw json.RawMessage) (any, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode the value the python child returned: %w", err)
	}
	return v, nil
}

// envMap turns KEY=value pairs into the mapping the child exports.
func envMap(env []string) map[string]string {
	m := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			m[k] = v
		}
	}
	return m
}
