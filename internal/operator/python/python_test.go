package python

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const callables = `
import os, time
from airflow.exceptions import AirflowSkipException, AirflowFailException

def answer():
    print("computing")
    return 42

def echo(*args, **kwargs):
    return {"args": list(args), "x": kwargs.get("x"), "ds": kwargs.get("ds"), "has_ti": "ti" in kwargs,
            "templates_dict": kwargs.get("templates_dict")}

def named(a, ds, logical_date, ti, x=None):
    return [a, ds, logical_date.year, ti.task_id, x]

def boom():
    raise ValueError("bad input")

def skip():
    raise AirflowSkipException("nothing to do")

def fail():
    raise AirflowFailException("give up")

def unserializable():
    return object()

def returns_none():
    print("side effect only")

def branch_one():
    return "b"

def branch_many():
    return ["b", "c"]

def branch_bad():
    return 3

def falsy():
    return []

def truthy():
    return "yes"

def env():
    return os.environ.get("AIRFLOW_CTX_DAG_ID")

def slow():
    print("ready", flush=True)
    time.sleep(300)

class Holder:
    @staticmethod
    def method():
        return "static"
`

func setup(t *testing.T, args map[string]any) (*operator.Context, *syncBuffer) {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 is not installed; the python operators cannot be tested")
	}
	dags := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dags, "pkg"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"pkg/__init__.py": "",
		"pkg/funcs.py":    callables,
		"tasks.py":        callables,
	} {
		if err := os.WriteFile(filepath.Join(dags, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	log := &syncBuffer{}
	return &operator.Context{
		DAG: &windsock.DAG{DagID: "dag1",
			Tasks: []*windsock.Task{
				{TaskID: "a"}, {TaskID: "b", Upstream: []string{"a"}}, {TaskID: "c", Upstream: []string{"a"}},
				{TaskID: "g.x", Upstream: []string{"a"}}, {TaskID: "g.y", Upstream: []string{"g.x"}},
			},
			TaskGroups: []*windsock.TaskGroup{{GroupID: "g", Children: []string{"g.x", "g.y"}}},
		},
		Task: &windsock.Task{TaskID: "a", Owner: "airflow"},
		Run:  &windsock.DagRun{RunID: "manual__2024-03-04T00:00:00+00:00", LogicalDate: time.Date(2024, 3, 4, 0, 0, 0, 0, time.UTC)},
		TI: &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "dag1", TaskID: "a",
			RunID: "manual__2024-03-04T00:00:00+00:00", MapIndex: -1}, TryNumber: 1},
		Args: args,
		Template: map[string]any{
			"ds": "2024-03-04", "logical_date": "2024-03-04T00:00:00+00:00",
			"ti": map[string]any{"task_id": "a", "dag_id": "dag1"},
		},
		Log:        log,
		Environ:    []string{"PATH=" + os.Getenv("PATH")},
		DagsFolder: dags,
	}, log
}

// jsonOf renders a return value as JSON, so expectations need not spell
// out json.Number.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPythonOperator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    map[string]any
		want    string // JSON of the return value; "" for none
		wantErr error  // ErrSkip, ErrFail, or errAny
		errText string
		inLog   []string
	}{
		{name: "module callable", args: map[string]any{"python_callable": "pkg.funcs:answer"}, want: "42",
			inLog: []string{"computing\n", "Done. Returned value was: 42"}},
		{name: "dotted module callable", args: map[string]any{"python_callable": "pkg.funcs.answer"}, want: "42"},
		{name: "file callable", args: map[string]any{"python_callable": "tasks.py:answer"}, want: "42"},
		{name: "absolute file inside the DAG folder", args: map[string]any{"python_callable": "ABS/tasks.py:answer"}, want: "42"},
		{name: "static method", args: map[string]any{"python_callable": "tasks.py:Holder.method"}, want: `"static"`},
		{name: "lambda", args: map[string]any{"python_callable": "lambda ds: ds + '!'"}, want: `"2024-03-04!"`},
		{name: "op_args, op_kwargs, context and templates_dict with **kwargs",
			args: map[string]any{"python_callable": "pkg.funcs:echo", "op_args": []any{1, "two"}, "op_kwargs": map[string]any{"x": 3},
				"templates_dict": map[string]any{"k": "v"}},
			want: `{"args":[1,"two"],"ds":"2024-03-04","has_ti":true,"templates_dict":{"k":"v"},"x":3}`},
		{name: "only the names the function takes", args: map[string]any{"python_callable": "tasks.py:named", "op_kwargs": map[string]any{"a": "A"}},
			want: `["A","2024-03-04",2024,"a",null]`},
		{name: "positional arg on a context name is reserved", args: map[string]any{"python_callable": "tasks.py:named", "op_args": []any{1, 2}},
			errText: "python_callable raised ValueError: The key 'ds' in args is a part of kwargs and therefore reserved."},
		{name: "None is no return value", args: map[string]any{"python_callable": "tasks.py:returns_none"}, inLog: []string{"side effect only\n"}},
		{name: "exception", args: map[string]any{"python_callable": "tasks.py:boom"},
			errText: "python_callable raised ValueError: bad input", inLog: []string{"Traceback (most recent call last)", "ValueError: bad input"}},
		{name: "skip exception", args: map[string]any{"python_callable": "tasks.py:skip"}, wantErr: operator.ErrSkip},
		{name: "fail exception", args: map[string]any{"python_callable": "tasks.py:fail"}, wantErr: operator.ErrFail},
		{name: "unserializable return", args: map[string]any{"python_callable": "tasks.py:unserializable"},
			errText: "python_callable raised TypeError: The return value of type object cannot be stored as an XCom: Object of type object is not JSON serializable"},
		{name: "missing module", args: map[string]any{"python_callable": "nope.mod:f"},
			errText: "python_callable raised ModuleNotFoundError: No module named 'nope'"},
		{name: "missing function", args: map[string]any{"python_callable": "tasks.py:nope"},
			errText: "python_callable raised AttributeError: module 'windsock_callable_tasks' has no attribute 'nope'"},
		{name: "file outside the DAG folder", args: map[string]any{"python_callable": "../evil.py:f"}, errText: "is outside the DAG folder"},
		{name: "absolute file outside the DAG folder", args: map[string]any{"python_callable": "/etc/evil.py:f"}, errText: "is outside the DAG folder"},
		{name: "malformed", args: map[string]any{"python_callable": "tasks.py:"}, errText: "want module:function or file.py:function"},
		{name: "airflow context variables", args: map[string]any{"python_callable": "tasks.py:env"}, want: `"dag1"`},
		{name: "show_return_value_in_logs false", args: map[string]any{"python_callable": "tasks.py:answer", "show_return_value_in_logs": false},
			want: "42", inLog: []string{"Done. Returned value not shown"}},
	}
	op := New(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tc, log := setup(t, tt.args)
			if s, ok := tt.args["python_callable"].(string); ok && strings.HasPrefix(s, "ABS/") {
				tc.Args = map[string]any{"python_callable": filepath.Join(tc.DagsFolder, strings.TrimPrefix(s, "ABS/"))}
			}
			res, err := op.Execute(context.Background(), tc)
			switch {
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error %v, want %v\n%s", err, tt.wantErr, log)
				}
			case tt.errText != "":
				if err == nil || !strings.Contains(err.Error(), tt.errText) {
					t.Fatalf("error %v, want one containing %q\n%s", err, tt.errText, log)
				}
				if errors.Is(err, operator.ErrSkip) || errors.Is(err, operator.ErrFail) {
					t.Errorf("error %v must allow retries", err)
				}
			default:
				if err != nil {
					t.Fatalf("Execute: %v\n%s", err, log)
				}
				if tt.want == "" {
					if res.HasReturn {
						t.Errorf("return value %v, want none", res.ReturnValue)
					}
				} else if !res.HasReturn || jsonOf(t, res.ReturnValue) != tt.want {
					t.Errorf("return value %s, want %s", jsonOf(t, res.ReturnValue), tt.want)
				}
			}
			for _, s := range tt.inLog {
				if !strings.Contains(log.String(), s) {
					t.Errorf("log lacks %q:\n%s", s, log)
				}
			}
		})
	}
}

func TestBranchPythonOperator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		callable string
		want     []string
		errText  string
	}{
		{"tasks.py:branch_one", []string{"b"}, ""},
		{"tasks.py:branch_many", []string{"b", "c"}, ""},
		{"lambda: 'g'", []string{"g.x"}, ""},
		{"tasks.py:returns_none", []string{}, ""},
		{"lambda: 'nope'", nil, "'branch_task_ids' must contain only valid task_ids. Invalid tasks found: nope."},
		{"tasks.py:branch_bad", nil, "'branch_task_ids' must be either None, a task ID, or an Iterable of IDs, but got 'int'."},
	}
	op := NewBranch(Options{})
	for _, tt := range tests {
		t.Run(tt.callable, func(t *testing.T) {
			t.Parallel()
			tc, log := setup(t, map[string]any{"python_callable": tt.callable})
			res, err := op.Execute(context.Background(), tc)
			if tt.errText != "" {
				if err == nil || err.Error() != tt.errText {
					t.Fatalf("error %v, want %q", err, tt.errText)
				}
				return
			}
			if err != nil {
				t.Fatalf("Execute: %v\n%s", err, log)
			}
			if res.Branch == nil || !reflect.DeepEqual(res.Branch, tt.want) {
				t.Errorf("Branch %#v, want %#v", res.Branch, tt.want)
			}
		})
	}
}

func TestShortCircuitOperator(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		args        map[string]any
		skip        bool
		ignoreRules bool
	}{
		{"truthy proceeds", map[string]any{"python_callable": "tasks.py:truthy"}, false, false},
		{"falsy skips, ignoring trigger rules by default", map[string]any{"python_callable": "tasks.py:falsy"}, true, true},
		{"None is falsy", map[string]any{"python_callable": "tasks.py:returns_none"}, true, true},
		{"respecting trigger rules", map[string]any{"python_callable": "tasks.py:falsy", "ignore_downstream_trigger_rules": false}, true, false},
	}
	op := NewShortCircuit(Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tc, log := setup(t, tt.args)
			res, err := op.Execute(context.Background(), tc)
			if err != nil {
				t.Fatalf("Execute: %v\n%s", err, log)
			}
			if res.SkipDownstream != tt.skip || res.IgnoreDownstreamTriggerRules != tt.ignoreRules {
				t.Errorf("SkipDownstream %v IgnoreDownstreamTriggerRules %v, want %v %v", res.SkipDownstream, res.IgnoreDownstreamTriggerRules, tt.skip, tt.ignoreRules)
			}
		})
	}
}

// readyLog signals when the callable prints "ready".
type readyLog struct {
	once  sync.Once
	ready chan struct{}
}

func (l *readyLog) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("ready")) {
		l.once.Do(func() { close(l.ready) })
	}
	return len(p), nil
}

// A timeout kills the interpreter.
func TestPythonTimeoutKills(t *testing.T) {
	t.Parallel()
	tc, _ := setup(t, map[string]any{"python_callable": "tasks.py:slow"})
	log := &readyLog{ready: make(chan struct{})}
	tc.Log = log
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := New(Options{KillGrace: time.Second}).Execute(ctx, tc)
		done <- err
	}()
	select {
	case <-log.ready:
	case err := <-done:
		t.Fatalf("ended early: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("callable never started")
	}
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("error %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Execute did not return after cancellation")
	}
}

func TestParseCallable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec string
		want callable
		bad  bool
	}{
		{"a.b:c", callable{Kind: "module", Module: "a.b", Function: "c"}, false},
		{"a.b.c", callable{Kind: "module", Module: "a.b", Function: "c"}, false},
		{"m:Cls.meth", callable{Kind: "module", Module: "m", Function: "Cls.meth"}, false},
		{"lambda: 1", callable{Kind: "lambda", Source: "lambda: 1"}, false},
		{"lambda_mod:f", callable{Kind: "module", Module: "lambda_mod", Function: "f"}, false},
		{"f", callable{}, true},
		{"a b:c", callable{}, true},
		{":c", callable{}, true},
		{"a:1c", callable{}, true},
		{"", callable{}, true},
	}
	for _, tt := range tests {
		got, err := parseCallable(tt.spec, "/dags")
		if (err != nil) != tt.bad || (!tt.bad && got != tt.want) {
			t.Errorf("parseCallable(%q) = %+v, %v", tt.spec, got, err)
		}
	}
}
