package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// mappedTIs returns a task's instances in a run, by map index.
func mappedTIs(t *testing.T, env *Environment, run *windsock.DagRun, taskID string) []*windsock.TaskInstance {
	t.Helper()
	tis, err := env.Store.TaskInstanceList(context.Background(), &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID, TaskIDs: []string{taskID}})
	if err != nil {
		t.Fatal(err)
	}
	return tis
}

func xcomValue(t *testing.T, env *Environment, run *windsock.DagRun, taskID string, mapIndex int) string {
	t.Helper()
	x, err := env.Store.XComGet(context.Background(), &store.XComGetParams{DagID: run.DagID, RunID: run.RunID, TaskID: taskID, MapIndex: mapIndex, Key: "return_value"})
	if err != nil {
		t.Fatalf("xcom %s[%d]: %v", taskID, mapIndex, err)
	}
	return string(x.Value)
}

// mappedDAG is a producer returning n bash commands (through the python
// operator), a bash task mapped over them, and a reduce step that pulls
// the mapped results (bash drops the quotes of the rendered list).
func mappedDAG(id string, n int) string {
	return fmt.Sprintf(`
%[1]s:
  schedule: null
  start_date: 2024-01-01
  max_active_tasks: 64
  tasks:
    make:
      operator: airflow.operators.python.PythonOperator
      python_callable_lambda: "lambda: ['echo %%d' %% (i * i) for i in range(%[2]d)]"
    square:
      operator: bash
      expand:
        bash_command: make.output
    reduce:
      operator: bash
      bash_command: "echo {{ ti.xcom_pull(task_ids='square') | length }} {{ ti.xcom_pull(task_ids='square')[-3:] }}"
      trigger_rule: all_done
      dependencies: [square]
`, id, n)
}

// TestEngineMappedOverXCom maps a bash task over an upstream's XCom of 0,
// 1 and 1,000 elements: one instance per element with its element as
// argument, skipped for none, and the reduce step gets the results in map
// index order.
func TestEngineMappedOverXCom(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{
		"zero.yaml": mappedDAG("zero", 0), "one.yaml": mappedDAG("one", 1), "many.yaml": mappedDAG("many", 1000),
	})
	er := startEngine(t, env, nil)
	for _, tc := range []struct {
		dag    string
		n      int
		reduce string
	}{
		{"zero", 0, `"0 []"`},
		{"one", 1, `"1 [0]"`},
		{"many", 1000, `"1000 [994009, 996004, 998001]"`},
	} {
		run := er.trigger(t, tc.dag, day, nil)
		if run.State != windsock.DagRunSuccess {
			t.Fatalf("%s: run ended %s", tc.dag, run.State)
		}
		tis := mappedTIs(t, env, run, "square")
		if tc.n == 0 {
			if len(tis) != 1 || tis[0].MapIndex != -1 || tis[0].State != windsock.TaskStateSkipped {
				t.Errorf("%s: an empty list leaves one skipped instance, got %+v", tc.dag, tis)
			}
		} else {
			if len(tis) != tc.n {
				t.Fatalf("%s: %d instances, want %d", tc.dag, len(tis), tc.n)
			}
			for i, ti := range tis {
				if ti.MapIndex != i || ti.State != windsock.TaskStateSuccess || ti.TryNumber != 1 {
					t.Fatalf("%s: instance %d = index %d %s try %d", tc.dag, i, ti.MapIndex, ti.State, ti.TryNumber)
				}
			}
			if got, want := xcomValue(t, env, run, "square", tc.n-1), fmt.Sprintf(`"%d"`, (tc.n-1)*(tc.n-1)); got != want {
				t.Errorf("%s: last index returned %s, want %s", tc.dag, got, want)
			}
			if log := readLog(t, env, tis[tc.n-1], 1); !strings.Contains(log, fmt.Sprint((tc.n-1)*(tc.n-1))) {
				t.Errorf("%s: the last index's own log lacks its output:\n%s", tc.dag, log)
			}
		}
		if got := xcomValue(t, env, run, "reduce", -1); got != tc.reduce {
			t.Errorf("%s: reduce got %s, want %s", tc.dag, got, tc.reduce)
		}
	}
}

// TestEngineMappedLiteralCrossProduct maps over two literal arguments:
// the cross product, with the last argument varying fastest, expanded
// when the run is created.
func TestEngineMappedLiteralCrossProduct(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"cross.yaml": `
cross:
  schedule: null
  start_date: 2024-01-01
  tasks:
    greet:
      operator: bash
      bash_command: 'echo "$WORD-$N"'
      partial: {append_env: true}
      expand_kwargs:
        - {env: {WORD: a, N: "1"}}
        - {env: {WORD: b, N: "2"}}
    pair:
      operator: bash
      expand:
        bash_command: ["echo x", "echo y"]
        env: [{K: "1"}, {K: "2"}, {K: "3"}]
      partial: {append_env: true}
    after:
      operator: bash
      bash_command: "echo {{ ti.xcom_pull(task_ids='greet') }}"
      dependencies: [greet, pair]
`})
	ctx := context.Background()
	d, err := scheduler.NewDAGCache(env.Store, time.Minute).DAG(ctx, "cross")
	if err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	run := er.trigger(t, "cross", day, nil)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	if n := len(mappedTIs(t, env, run, "pair")); n != 6 {
		t.Errorf("pair has %d instances, want 2×3", n)
	}
	// Index 4 = (1, 1): "echo y" with K=2.
	kw, err := d.Task("pair").Expand.IndexArgs(4, nil)
	if err != nil || kw["bash_command"] != "echo y" {
		t.Errorf("index 4 args = %v, %v", kw, err)
	}
	if got := xcomValue(t, env, run, "after", -1); got != `"[a-1, b-2]"` {
		t.Errorf("after got %s", got)
	}
}

// TestEngineMappedRetryAndClearOneIndex: a failing index is retried alone;
// clearing one index runs only that index again.
func TestEngineMappedRetryAndClearOneIndex(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"r.yaml": `
r:
  schedule: null
  start_date: 2024-01-01
  tasks:
    work:
      operator: bash
      retries: 1
      retry_delay: 0
      expand:
        bash_command:
          - "echo zero"
          - "test -f \"$HOME/failed-once\" || { touch \"$HOME/failed-once\"; exit 1; }; echo one"
          - "echo two"
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "r", day, nil)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	tries := func() []int {
		var out []int
		for _, ti := range mappedTIs(t, env, run, "work") {
			out = append(out, ti.TryNumber)
		}
		return out
	}
	if got := tries(); fmt.Sprint(got) != "[1 2 1]" {
		t.Fatalf("try numbers = %v, want index 1 alone retried", got)
	}
	if log := readLog(t, env, mappedTIs(t, env, run, "work")[1], 1); !strings.Contains(log, "non-zero exit code 1") {
		t.Errorf("index 1's first try log:\n%s", log)
	}

	d, err := er.engine.Scheduler.DAG(context.Background(), "r")
	if err != nil {
		t.Fatal(err)
	}
	cleared, err := scheduler.ClearTaskInstances(context.Background(), env.Store, d, scheduler.ClearParams{
		RunIDs: []string{run.RunID}, TaskIDs: []string{"work"}, MapIndexes: map[string][]int{"work": {2}}, Now: time.Now(),
	})
	if err != nil || len(cleared) != 1 || cleared[0].MapIndex != 2 {
		t.Fatalf("cleared %v, %v", cleared, err)
	}
	er.engine.Scheduler.RunChanged(run.DagID, run.RunID)
	if again := er.wait(t, run.RunID); again.State != windsock.DagRunSuccess {
		t.Fatalf("cleared run ended %s", again.State)
	}
	if got := tries(); fmt.Sprint(got) != "[1 2 2]" {
		t.Errorf("after clearing index 2, try numbers = %v", got)
	}
}

// TestEngineMaxMapLength: an upstream pushing more than core.max_map_length
// entries for a mapped task fails with Airflow's message, and the mapped
// task is upstream_failed.
func TestEngineMaxMapLength(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"long.yaml": `
long:
  schedule: null
  start_date: 2024-01-01
  tasks:
    make:
      operator: airflow.operators.python.PythonOperator
      python_callable_lambda: "lambda: ['true'] * 4"
    use:
      operator: bash
      expand: {bash_command: make.output}
    fine:
      operator: airflow.operators.python.PythonOperator
      python_callable_lambda: "lambda: ['true'] * 3"
    use_fine:
      operator: bash
      expand: {bash_command: fine.output}
`})
	env.Config.Core.MaxMapLength = 3
	er := startEngine(t, env, nil)
	run := er.trigger(t, "long", day, nil)
	tis := states(t, env, run)
	if tis["make"].State != windsock.TaskStateFailed || tis["use"].State != windsock.TaskStateUpstreamFailed {
		t.Errorf("make %s, use %s; want failed, upstream_failed", tis["make"].State, tis["use"].State)
	}
	if log := readLog(t, env, tis["make"], 1); !strings.Contains(log, "UnmappableXComLengthPushed: unmappable return value length: 4 > 3") {
		t.Errorf("make's log lacks Airflow's message:\n%s", log)
	}
	if n := len(mappedTIs(t, env, run, "use_fine")); n != 3 {
		t.Errorf("use_fine has %d instances, want 3 (at the limit is fine)", n)
	}
}

// mappedFanYAML is one bash task mapped over n commands `true`: the mapped
// counterpart of fanYAML.
func mappedFanYAML(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:\n  schedule: null\n  start_date: 2024-01-01\n  max_active_tasks: %d\n  tasks:\n    t:\n      operator: bash\n      expand:\n        bash_command:\n", id, n)
	for range n {
		b.WriteString("          - \"true\"\n")
	}
	return b.String()
}

// BenchmarkMapped1000 runs one task mapped over 1,000 `true` commands
// (target: at least 0.9 of BenchmarkFanOut1000's tasks/s).
func BenchmarkMapped1000(b *testing.B) {
	env := benchEnv(b, map[string]string{"mapped.yaml": mappedFanYAML("mapped1000", 1000)})
	b.ResetTimer()
	var total time.Duration
	cpu := startCPU()
	for i := 0; i < b.N; i++ {
		total += runOnce(b, env, "mapped1000", i)
	}
	cpu.report(b, 1000*b.N)
	b.ReportMetric(1000*float64(b.N)/total.Seconds(), "tasks/s")
}

// TestEngineMappedConcurrencyLimit: max_active_tis_per_dagrun, or a pool
// of one slot, holds a mapped task's instances to one at a time: no two
// instances' tries overlap.
func TestEngineMappedConcurrencyLimit(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"lim.yaml": `
lim:
  schedule: null
  start_date: 2024-01-01
  tasks:
    each:
      operator: bash
      max_active_tis_per_dagrun: 1
      pool_slots: 2
      expand:
        bash_command: ["echo 0", "echo 1", "echo 2", "echo 3"]
    pooled:
      operator: bash
      pool: single
      expand:
        bash_command: ["echo 0", "echo 1", "echo 2"]
`})
	if err := env.Store.PoolUpsert(context.Background(), &windsock.Pool{Pool: "single", Slots: 1}); err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	run := er.trigger(t, "lim", day, nil)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	for _, task := range []string{"each", "pooled"} {
		tis := mappedTIs(t, env, run, task)
		slices.SortFunc(tis, func(a, b *windsock.TaskInstance) int { return a.StartDate.Compare(*b.StartDate) })
		for i := 1; i < len(tis); i++ {
			if tis[i].StartDate.Before(*tis[i-1].EndDate) {
				t.Errorf("%s: index %d started at %v, before index %d ended at %v", task, tis[i].MapIndex, tis[i].StartDate, tis[i-1].MapIndex, tis[i-1].EndDate)
			}
		}
	}
}

// TestEngineMappedOverMapped maps a task over a mapped task's results (the
// list of its instances' values, in map index order) and renders
// expanded_ti_count.
func TestEngineMappedOverMapped(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"mm.yaml": `
mm:
  schedule: null
  start_date: 2024-01-01
  tasks:
    first:
      operator: bash
      expand: {bash_command: ["echo 'echo a'", "echo 'echo b'"]}
    second:
      operator: bash
      expand: {bash_command: first.output}
    count:
      operator: bash
      bash_command: 'echo {{ expanded_ti_count }}-{{ ti.map_index }}-$X'
      expand: {env: [{X: "x"}, {X: "y"}, {X: "z"}]}
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "mm", day, nil)
	if run.State != windsock.DagRunSuccess {
		t.Fatalf("run ended %s", run.State)
	}
	if got := xcomValue(t, env, run, "second", 0) + xcomValue(t, env, run, "second", 1); got != `"a""b"` {
		t.Errorf("second returned %s", got)
	}
	if got := xcomValue(t, env, run, "count", 2); got != `"3-2-z"` {
		t.Errorf("count[2] returned %s", got)
	}
}
