package taskrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/callback"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// pythonRecorder stands for the DAG file's Python: it records the events
// of the Python callbacks it is asked to run, and reads a variable through
// the event's sources as a callback would.
type pythonRecorder struct{ events []callback.Event }

func (p *pythonRecorder) RunPython(ctx context.Context, ev callback.Event, out io.Writer) error {
	p.events = append(p.events, ev)
	v, err := ev.Try.Variables.Get(ctx, "token")
	fmt.Fprintf(out, "python %s read %s (%v)\n", ev.Callback, v, err)
	return nil
}

// TestPythonTaskCallback: a native task's Python callback runs after the
// try with Airflow's context (the try's dates, its final state, the
// exception), its output in the try's log, secrets it reads masked.
func TestPythonTaskCallback(t *testing.T) {
	t.Parallel()
	tr := setup(t, "AIRFLOW_VAR_TOKEN=t0ken-value")
	py := &pythonRecorder{}
	tr.r.Callbacks = &callback.Runner{Python: py}
	out := tr.runTryWith(t, 1, map[string]any{"bash_command": "exit 3", "on_retry_callback": map[string]any{callback.PythonMarker: "notify"}})
	if out.State != windsock.TaskStateUpForRetry {
		t.Fatalf("try = %s", out.State)
	}
	if len(py.events) != 1 {
		t.Fatalf("python callbacks run: %d", len(py.events))
	}
	ev := py.events[0]
	ctx := ev.Try.Template
	if ev.Callback != "on_retry_callback" || ev.TaskID != "work" || ctx["ds"] != "2024-05-01" || ctx["run_id"] != tr.key.RunID {
		t.Errorf("event %+v with context ds=%v run_id=%v", ev, ctx["ds"], ctx["run_id"])
	}
	if !strings.Contains(ev.Reason, "3") {
		t.Errorf("the exception for the callback's context = %q", ev.Reason)
	}
	if ev.Try.TI.State != windsock.TaskStateUpForRetry {
		t.Errorf("the callback's ti is %s, want the final state", ev.Try.TI.State)
	}
	log := tr.log(t, 1)
	if !strings.Contains(log, "python on_retry_callback read *** (<nil>)") || strings.Contains(log, "t0ken-value") {
		t.Errorf("the callback's output is not in the try's log, masked:\n%s", log)
	}
}

// TestPythonDagCallback: a DAG's Python callback gets the context of the
// run's last task instance plus Airflow's reason.
func TestPythonDagCallback(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	py := &pythonRecorder{}
	tr.r.Callbacks = &callback.Runner{Python: py}
	tr.dag.Callbacks = map[string]any{"on_failure_callback": map[string]any{callback.PythonMarker: "alert"}}
	var out strings.Builder
	if err := tr.r.DagCallback(t.Context(), tr.dag, tr.run, "on_failure_callback", "task_failure", &out); err != nil {
		t.Fatal(err)
	}
	if err := tr.r.DagCallback(t.Context(), tr.dag, tr.run, "on_success_callback", "success", &out); err != nil {
		t.Fatal(err) // none set: nothing runs
	}
	if len(py.events) != 1 {
		t.Fatalf("python callbacks run: %d", len(py.events))
	}
	ev := py.events[0]
	if ev.TaskID != "" || ev.Try.TI.TaskID != "work" || ev.Reason != "task_failure" || ev.Try.Template["ds"] != "2024-05-01" {
		t.Errorf("event %+v, ti %s", ev, ev.Try.TI.TaskID)
	}
	if !strings.Contains(out.String(), "python on_failure_callback read") {
		t.Errorf("output %q", out.String())
	}
}

// TestCallbacksRanByTheOperator: callbacks an operator ran itself (a
// Python task calls them in its child) are not run again after the try;
// those of a try that never reached them are.
func TestCallbacksRanByTheOperator(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	py := &pythonRecorder{}
	tr.r.Callbacks = &callback.Runner{Python: py}
	tr.task.Args = map[string]any{"on_retry_callback": map[string]any{callback.PythonMarker: "notify"}}
	out := tr.liveTry(t, 1, func(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
		return &operator.Result{CallbacksRan: true}, errors.New("failed in python")
	})
	if out.State != windsock.TaskStateUpForRetry || len(py.events) != 0 {
		t.Fatalf("try 1 = %s with %d callbacks run by the worker, want up_for_retry and none", out.State, len(py.events))
	}
	out = tr.liveTry(t, 2, func(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
		return nil, errors.New("failed before python")
	})
	if out.State != windsock.TaskStateUpForRetry || len(py.events) != 1 {
		t.Fatalf("try 2 = %s with %d callbacks run by the worker, want up_for_retry and 1", out.State, len(py.events))
	}
}
