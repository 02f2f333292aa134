package taskrun

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/pytask"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// liveTry runs try n of the test task with op as its operator.
func (tr *testRun) liveTry(t *testing.T, n int, op operator.Func) *Outcome {
	t.Helper()
	tr.r.Operators.Add("live", op)
	tr.task.Operator = "live"
	ctx := t.Context()
	ti, err := tr.st.TaskInstanceGet(ctx, tr.key)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	ti.State, ti.TryNumber, ti.StartDate, ti.EndDate = windsock.TaskStateRunning, n, &now, nil
	if _, err := tr.st.TaskInstanceUpdate(ctx, ti); err != nil {
		t.Fatal(err)
	}
	out, err := tr.r.Run(ctx, &Try{TI: ti, DAG: tr.dag, Run: tr.run})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// putXCom stores a value as if task taskID of run had pushed it (making
// the task instance when it is not there).
func putXCom(t *testing.T, st store.Store, run *windsock.DagRun, taskID string, mapIndex int, key, value string) {
	t.Helper()
	tiKey := windsock.TaskInstanceKey{DagID: run.DagID, TaskID: taskID, RunID: run.RunID, MapIndex: mapIndex}
	if _, err := st.TaskInstanceGet(t.Context(), tiKey); windsock.ErrorCode(err) == windsock.ENOTFOUND {
		ti := &windsock.TaskInstance{TaskInstanceKey: tiKey, State: windsock.TaskStateSuccess, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default"}
		if err := st.TaskInstanceInsert(t.Context(), []*windsock.TaskInstance{ti}); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.XComSet(t.Context(), &windsock.XCom{DagRunID: run.ID, DagID: run.DagID, RunID: run.RunID,
		TaskID: taskID, MapIndex: mapIndex, Key: key, Value: []byte(value), Timestamp: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
}

// pulled renders pulled values as "task[index].key=value" for comparison.
func pulled(vs []operator.XComValue) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%s[%d].%s=%s", v.TaskID, v.MapIndex, v.Key, v.Value)
	}
	return strings.Join(parts, " ")
}

// TestLiveXComPull: a running try pulls values of its run in the order
// Airflow's xcom_pull gives them (the task ids and map indexes as asked),
// with floats kept as written, and of earlier runs only when asked.
func TestLiveXComPull(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	ctx := t.Context()
	putXCom(t, tr.st, tr.run, "b", -1, "return_value", `2.0`)
	putXCom(t, tr.st, tr.run, "a", -1, "return_value", `{"n": 1}`)
	putXCom(t, tr.st, tr.run, "a", -1, "other", `"x"`)
	putXCom(t, tr.st, tr.run, "m", 0, "return_value", `"m0"`)
	putXCom(t, tr.st, tr.run, "m", 2, "return_value", `"m2"`)
	putXCom(t, tr.st, tr.run, "m", 1, "return_value", `"m1"`)
	// An earlier run and a later one of the same DAG.
	for _, d := range []time.Duration{-24 * time.Hour, 24 * time.Hour} {
		logical := tr.run.LogicalDate.Add(d)
		run := &windsock.DagRun{DagID: "etl", RunID: windsock.RunID(windsock.RunTypeManual, logical), LogicalDate: logical,
			State: windsock.DagRunSuccess, RunType: windsock.RunTypeManual}
		if err := tr.st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run}); err != nil {
			t.Fatal(err)
		}
		stored, err := tr.st.DagRunGet(ctx, "etl", run.RunID)
		if err != nil {
			t.Fatal(err)
		}
		putXCom(t, tr.st, stored, "a", -1, "return_value", fmt.Sprintf(`"run %s"`, logical.Format("01-02")))
	}

	cases := []struct {
		name string
		p    operator.XComPullParams
		want string
	}{
		{"one value", operator.XComPullParams{TaskIDs: []string{"a"}, MapIndexes: []int{-1}, Key: "return_value"},
			`a[-1].return_value={"n": 1}`},
		{"tasks in the order asked, a float stays a float", operator.XComPullParams{TaskIDs: []string{"b", "a", "missing"}, MapIndexes: []int{-1}, Key: "return_value"},
			`b[-1].return_value=2.0 a[-1].return_value={"n": 1}`},
		{"a mapped task's values by index", operator.XComPullParams{TaskIDs: []string{"m"}, Key: "return_value"},
			`m[0].return_value="m0" m[1].return_value="m1" m[2].return_value="m2"`},
		{"map indexes in the order asked", operator.XComPullParams{TaskIDs: []string{"m"}, MapIndexes: []int{2, 0}, Key: "return_value"},
			`m[2].return_value="m2" m[0].return_value="m0"`},
		{"any key", operator.XComPullParams{TaskIDs: []string{"a"}},
			`a[-1].other="x" a[-1].return_value={"n": 1}`},
		{"any task", operator.XComPullParams{Key: "return_value", MapIndexes: []int{-1}},
			`a[-1].return_value={"n": 1} b[-1].return_value=2.0`},
		{"prior dates, latest first, never a later run", operator.XComPullParams{TaskIDs: []string{"a"}, Key: "return_value", IncludePriorDates: true},
			`a[-1].return_value={"n": 1} a[-1].return_value="run 04-30"`},
		{"another run by id", operator.XComPullParams{RunID: windsock.RunID(windsock.RunTypeManual, tr.run.LogicalDate.Add(24*time.Hour)), TaskIDs: []string{"a"}, Key: "return_value"},
			`a[-1].return_value="run 05-02"`},
		{"nothing", operator.XComPullParams{TaskIDs: []string{"a"}, MapIndexes: []int{-1}, Key: "nope"}, ``},
	}
	got := map[string]string{}
	out := tr.liveTry(t, 1, func(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
		for _, c := range cases {
			vs, err := tc.XCom.XComPull(ctx, &c.p)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			got[c.name] = pulled(vs)
		}
		return &operator.Result{}, nil
	})
	if out.State != windsock.TaskStateSuccess {
		t.Fatalf("try = %s (%v)", out.State, out.Err)
	}
	for _, c := range cases {
		if got[c.name] != c.want {
			t.Errorf("%s: got %s, want %s", c.name, got[c.name], c.want)
		}
	}
}

// TestLiveXComPush: a value pushed during a try is stored at once, stays
// when the try then fails (as in Airflow), and is cleared by the next try.
func TestLiveXComPush(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	var seen string
	out := tr.liveTry(t, 1, func(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
		if err := tc.XCom.XComPush(ctx, "progress", json.RawMessage(`5.0`)); err != nil {
			return nil, err
		}
		vs, err := tc.XCom.XComPull(ctx, &operator.XComPullParams{TaskIDs: []string{"work"}, MapIndexes: []int{-1}, Key: "progress"})
		if err != nil {
			return nil, err
		}
		seen = pulled(vs)
		if err := tc.XCom.XComPush(ctx, "", 1); windsock.ErrorCode(err) != windsock.EINVALID {
			return nil, fmt.Errorf("an empty key: %v, want EINVALID", err)
		}
		return nil, errors.New("boom")
	})
	if out.State != windsock.TaskStateUpForRetry {
		t.Fatalf("try 1 = %s (%v)", out.State, out.Err)
	}
	if seen != "work[-1].progress=5.0" {
		t.Errorf("pulled back during the try: %q", seen)
	}
	x, err := tr.st.XComGet(t.Context(), &store.XComGetParams{DagID: "etl", RunID: tr.key.RunID, TaskID: "work", MapIndex: -1, Key: "progress"})
	if err != nil || string(x.Value) != "5.0" {
		t.Fatalf("after the failed try: %v, %v", x, err)
	}
	tr.liveTry(t, 2, func(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
		return &operator.Result{}, nil
	})
	if _, err := tr.st.XComGet(t.Context(), &store.XComGetParams{DagID: "etl", RunID: tr.key.RunID, TaskID: "work", MapIndex: -1, Key: "progress"}); windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Errorf("try 2 kept the value try 1 pushed: %v", err)
	}
}

// TestLiveVariables: a try reads variables from the environment before
// the store, writes and deletes them in the store, and what it reads of a
// secret is masked in its log.
func TestLiveVariables(t *testing.T) {
	t.Parallel()
	tr := setup(t, "AIRFLOW_VAR_FROM_ENV=env-value", "AIRFLOW_VAR_API_KEY=s3cr3t-key")
	ctx := t.Context()
	if err := tr.r.Variables.Set(ctx, "from_env", "store-value", ""); err != nil {
		t.Fatal(err)
	}
	var got []string
	out := tr.liveTry(t, 1, func(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
		v, err := tc.Variables.Get(ctx, "from_env")
		got = append(got, v)
		if err != nil {
			return nil, err
		}
		if err := tc.Variables.Set(ctx, "made", "by the task", "a note"); err != nil {
			return nil, err
		}
		if _, err := tc.Variables.Get(ctx, "missing"); windsock.ErrorCode(err) != windsock.ENOTFOUND {
			return nil, fmt.Errorf("missing variable: %v", err)
		}
		key, err := tc.Variables.Get(ctx, "api_key")
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(tc.Log, "the key is %s\n", key)
		if err := tc.Variables.Delete(ctx, "from_env"); err != nil {
			return nil, err
		}
		return &operator.Result{}, nil
	})
	if out.State != windsock.TaskStateSuccess {
		t.Fatalf("try = %s (%v)", out.State, out.Err)
	}
	if got[0] != "env-value" {
		t.Errorf("from_env = %q, want the environment's value", got[0])
	}
	made, err := tr.r.Variables.Stored(ctx, "made")
	if err != nil || made.Value != "by the task" || made.Description != "a note" {
		t.Errorf("variable set by the task: %+v, %v", made, err)
	}
	if _, err := tr.r.Variables.Stored(ctx, "from_env"); windsock.ErrorCode(err) != windsock.ENOTFOUND {
		t.Errorf("deleted variable still stored: %v", err)
	}
	log := tr.log(t, 1)
	if strings.Contains(log, "s3cr3t-key") || !strings.Contains(log, "the key is ***") {
		t.Errorf("the secret variable is not masked in the log:\n%s", log)
	}
}

// TestOperatorRenderedFields: fields an operator rendered itself are the
// try's rendered fields, kept when the try fails, with secrets masked.
func TestOperatorRenderedFields(t *testing.T) {
	t.Parallel()
	tr := setup(t, "AIRFLOW_VAR_PASSWORD=hunter2")
	out := tr.liveTry(t, 1, func(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
		pw, err := tc.Variables.Get(ctx, "password")
		if err != nil {
			return nil, err
		}
		return &operator.Result{RenderedFields: map[string]any{"sql": "SELECT 1", "op_kwargs": map[string]any{"pw": pw}}}, errors.New("failed after rendering")
	})
	if out.State != windsock.TaskStateUpForRetry {
		t.Fatalf("try = %s (%v)", out.State, out.Err)
	}
	b, err := tr.st.RenderedFieldsGet(t.Context(), tr.key)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"op_kwargs":{"pw":"***"},"sql":"SELECT 1"}`; got != want {
		t.Errorf("rendered fields %s, want %s", got, want)
	}
}

// TestPythonHandler: the calls a Python child makes during a try are
// answered from the try's sources, as JSON the child reads: variables
// and connections from the environment first, secrets masked in the log,
// XCom pushed and pulled back with floats kept, misses as not_found.
func TestPythonHandler(t *testing.T) {
	t.Parallel()
	tr := setup(t, "AIRFLOW_VAR_COLOR=blue", `AIRFLOW_CONN_WAREHOUSE={"conn_type": "postgres", "host": "db", "login": "u", "password": "pa55word", "port": 5432, "extra": {"sslmode": "require", "api_key": "k3y-k3y"}}`)
	if err := tr.r.Variables.Set(t.Context(), "gone", "soon", ""); err != nil {
		t.Fatal(err)
	}
	type call struct{ name, args, want, code string }
	calls := []call{
		{"variable_get", `{"key": "color"}`, `"blue"`, ""},
		{"variable_get", `{"key": "missing"}`, ``, windsock.ENOTFOUND},
		{"variable_set", `{"key": "made", "value": "{\"a\": 1}", "description": null}`, `null`, ""},
		{"variable_get", `{"key": "made"}`, `"{\"a\": 1}"`, ""},
		{"variable_delete", `{"key": "gone"}`, `1`, ""},
		{"variable_delete", `{"key": "gone"}`, `0`, ""},
		{"connection_get", `{"conn_id": "warehouse"}`, `{"conn_id":"warehouse","conn_type":"postgres","description":null,"extra":"{\"api_key\":\"k3y-k3y\",\"sslmode\":\"require\"}","host":"db","login":"u","password":"pa55word","port":5432,"schema":null}`, ""},
		{"connection_get", `{"conn_id": "nope"}`, ``, windsock.ENOTFOUND},
		{"xcom_push", `{"key": "count", "value": 3.0}`, `null`, ""},
		{"xcom_pull", `{"dag_id": null, "task_ids": ["work"], "run_id": null, "key": "count", "map_indexes": [-1], "include_prior_dates": false}`, `[{"task_id":"work","map_index":-1,"key":"count","value":3.0}]`, ""},
		{"xcom_pull", `{"task_ids": ["other"], "key": "return_value", "map_indexes": null}`, `[]`, ""},
		{"log", `{"level": "info", "message": "password is pa55word, key k3y-k3y"}`, `null`, ""},
		{"launch_missiles", `{}`, ``, windsock.EINVALID},
	}
	var failures []string
	out := tr.liveTry(t, 1, func(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
		h := pytask.NewHandler(tc)
		for _, c := range calls {
			v, err := h.Call(ctx, c.name, json.RawMessage(c.args))
			if c.code != "" {
				if windsock.ErrorCode(err) != c.code {
					failures = append(failures, fmt.Sprintf("%s %s: error %v, want code %s", c.name, c.args, err, c.code))
				}
				continue
			}
			b, _ := json.Marshal(v)
			if err != nil || string(b) != c.want {
				failures = append(failures, fmt.Sprintf("%s %s: %s, %v; want %s", c.name, c.args, b, err, c.want))
			}
		}
		return &operator.Result{}, nil
	})
	if out.State != windsock.TaskStateSuccess {
		t.Fatalf("try = %s (%v)", out.State, out.Err)
	}
	for _, f := range failures {
		t.Error(f)
	}
	if log := tr.log(t, 1); strings.Contains(log, "pa55word") || !strings.Contains(log, "password is ***, key ***") {
		t.Errorf("the connection's password is not masked in the log:\n%s", log)
	}
}

// selfRendering is an operator that renders its fields itself.
type selfRendering struct{ operator.Func }

func (selfRendering) RenderFields(ctx context.Context, tc *operator.Context) (map[string]any, error) {
	pw, err := tc.Variables.Get(ctx, "password")
	return map[string]any{"sql": "SELECT 1 -- " + tc.Template["ds"].(string) + " " + pw}, err
}

// TestRenderAsksTheOperator: tasks render asks an operator that renders
// its own fields (a Python task), with the run's context, secrets masked.
func TestRenderAsksTheOperator(t *testing.T) {
	t.Parallel()
	tr := setup(t, "AIRFLOW_VAR_PASSWORD=hunter2")
	tr.r.Operators.Add("self", selfRendering{})
	tr.task.Operator = "self"
	ti, err := tr.st.TaskInstanceGet(t.Context(), tr.key)
	if err != nil {
		t.Fatal(err)
	}
	// Any spec will do for the lookup; the operator decides.
	tr.r.Specs = operator.NewCatalog(&operator.Spec{Name: "self"})
	got, err := tr.r.Render(t.Context(), &Try{TI: ti, DAG: tr.dag, Run: tr.run})
	if err != nil || got["sql"] != "SELECT 1 -- 2024-05-01 ***" {
		t.Fatalf("rendered %v, %v", got, err)
	}
}

// selfTimed is an operator that enforces execution_timeout itself.
type selfTimed struct{ operator.Func }

func (selfTimed) TimeoutGrace() time.Duration { return time.Hour }

// TestTimeoutEnforcerGetsItsGrace: the worker's deadline for an operator
// that enforces execution_timeout itself (a Python task) comes its grace
// after the timeout.
func TestTimeoutEnforcerGetsItsGrace(t *testing.T) {
	t.Parallel()
	tr := setup(t)
	tr.task.ExecutionTimeout = windsock.Duration(time.Second)
	var left time.Duration
	tr.r.Operators.Add("timed", selfTimed{operator.Func(func(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
		dl, _ := ctx.Deadline()
		left = time.Until(dl)
		return &operator.Result{}, nil
	})})
	tr.task.Operator = "timed"
	ti, err := tr.st.TaskInstanceGet(t.Context(), tr.key)
	if err != nil {
		t.Fatal(err)
	}
	tr.r.Test(t.Context(), &Try{TI: ti, DAG: tr.dag, Run: tr.run}, io.Discard)
	if left < time.Minute {
		t.Errorf("the try had %s before the worker's deadline, want its timeout plus an hour", left)
	}
}
