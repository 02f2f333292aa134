package app

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// startRun creates a run of dagID (manual unless nr says otherwise) and tells
// the scheduler, without waiting for it.
func (er *engineRun) startRun(t *testing.T, dagID string, nr scheduler.NewRun) *windsock.DagRun {
	t.Helper()
	ctx := context.Background()
	d, err := er.engine.Scheduler.DAG(ctx, dagID)
	if err != nil {
		t.Fatal(err)
	}
	if nr.Now.IsZero() {
		nr.Now = time.Now()
	}
	run, err := scheduler.CreateRun(ctx, er.env.Store, d, decide.NewGraph(d), nr)
	if err != nil {
		t.Fatal(err)
	}
	er.engine.Scheduler.RunChanged(run.DagID, run.RunID)
	return run
}

// waitAll returns once every run named (dag id and run id) has finished,
// in whatever order they end.
func (er *engineRun) waitAll(t *testing.T, refs ...scheduler.RunRef) map[scheduler.RunRef]*windsock.DagRun {
	t.Helper()
	want := map[scheduler.RunRef]bool{}
	for _, r := range refs {
		want[r] = true
	}
	got := map[scheduler.RunRef]*windsock.DagRun{}
	timeout := time.After(90 * time.Second)
	for len(got) < len(want) {
		select {
		case r := <-er.runs:
			if ref := (scheduler.RunRef{DagID: r.DagID, RunID: r.RunID}); want[ref] {
				got[ref] = r
			}
		case <-timeout:
			t.Fatalf("runs %v did not all finish within 90 s (finished: %v)", refs, got)
		}
	}
	return got
}

func xcomKeyValue(t *testing.T, env *Environment, dagID, runID, taskID, key string) any {
	t.Helper()
	x, err := env.Store.XComGet(context.Background(), &store.XComGetParams{DagID: dagID, RunID: runID, TaskID: taskID, MapIndex: -1, Key: key})
	if err != nil {
		t.Fatalf("xcom %s.%s: %v", taskID, key, err)
	}
	var v any
	if err := json.Unmarshal(x.Value, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func failReason(t *testing.T, env *Environment, ti *windsock.TaskInstance) string {
	t.Helper()
	return readLog(t, env, ti, ti.TryNumber)
}

// A YAML DAG's TriggerDagRunOperator starts runs of other DAGs through
// the scheduler: with templated run id, conf (a dict, rendered inside) and
// logical date; waiting for them ends in success, or fails on a failed
// state; allowed_states and failed_states choose.
func TestTriggerDagRunOperatorTriggersAndWaits(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"dags.yaml": `
parent:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: trigger_ok
      operator: airflow.operators.trigger_dagrun.TriggerDagRunOperator
      trigger_dag_id: child
      trigger_run_id: "from_{{ ds_nodash }}"
      conf: {who: "{{ dag_run.conf.who }}", n: 3, nested: {list: [1, "{{ ds }}"]}}
      logical_date: "{{ ds }}T06:00:00+00:00"
      wait_for_completion: true
      poke_interval: 0.1
    - task_id: after_ok
      operator: bash
      bash_command: 'echo "child run {{ ti.xcom_pull(task_ids=''trigger_ok'', key=''trigger_run_id'') }}"'
      dependencies: [trigger_ok]
    - task_id: trigger_bad
      operator: airflow.operators.trigger_dagrun.TriggerDagRunOperator
      trigger_dag_id: failing
      logical_date: "2024-03-01T01:00:00+00:00"
      wait_for_completion: true
      poke_interval: 0.1
    - task_id: expect_failure
      operator: TriggerDagRunOperator
      trigger_dag_id: failing
      logical_date: "2024-03-01T02:00:00+00:00"
      wait_for_completion: true
      poke_interval: 0.1
      allowed_states: [failed]
      failed_states: [success]
    - task_id: fire_and_forget
      operator: airflow.operators.dagrun_operator.TriggerDagRunOperator
      trigger_dag_id: failing
child:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: echo
      operator: bash
      bash_command: 'echo "conf={{ dag_run.conf.who }}/{{ dag_run.conf.n }}/{{ dag_run.conf.nested.list[1] }} ds={{ ds }}"'
failing:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: boom, operator: bash, bash_command: "exit 1"}
`})
	er := startEngine(t, env, nil)
	parent := er.startRun(t, "parent", scheduler.NewRun{LogicalDate: day, Conf: map[string]any{"who": "world"}})
	child := scheduler.RunRef{DagID: "child", RunID: "from_20240301"}
	runs := er.waitAll(t, scheduler.RunRef{DagID: "parent", RunID: parent.RunID}, child)

	tis := states(t, env, runs[scheduler.RunRef{DagID: "parent", RunID: parent.RunID}])
	want := map[string]windsock.TaskInstanceState{
		"trigger_ok": "success", "after_ok": "success", "trigger_bad": "failed", "expect_failure": "success", "fire_and_forget": "success",
	}
	for id, st := range want {
		if tis[id].State != st {
			t.Errorf("%s = %s, want %s", id, tis[id].State, st)
		}
	}
	if tis["trigger_ok"].Operator != "TriggerDagRunOperator" {
		t.Errorf("operator shown as %q", tis["trigger_ok"].Operator)
	}
	if got := runs[child].State; got != windsock.DagRunSuccess {
		t.Fatalf("child run ended %s", got)
	}
	// The child run is a manual, externally triggered run with the conf
	// as a dict and the logical date asked for.
	cr, err := env.Store.DagRunGet(context.Background(), "child", "from_20240301")
	if err != nil {
		t.Fatal(err)
	}
	if cr.RunType != windsock.RunTypeManual || !cr.ExternalTrigger || !cr.LogicalDate.Equal(time.Date(2024, 3, 1, 6, 0, 0, 0, time.UTC)) {
		t.Errorf("child run: type %s, external %v, logical %v", cr.RunType, cr.ExternalTrigger, cr.LogicalDate)
	}
	if cr.Conf["who"] != "world" || cr.Conf["nested"] == nil {
		t.Errorf("child conf = %v", cr.Conf)
	}
	if log := readLog(t, env, states(t, env, cr)["echo"], 1); !strings.Contains(log, "conf=world/3/2024-03-01 ds=2024-03-01") {
		t.Errorf("child log:\n%s", log)
	}
	if got := xcomKeyValue(t, env, "parent", parent.RunID, "trigger_ok", "trigger_run_id"); got != "from_20240301" {
		t.Errorf("trigger_run_id xcom = %v", got)
	}
	if got := xcomKeyValue(t, env, "parent", parent.RunID, "trigger_ok", "trigger_execution_date_iso"); got != "2024-03-01T06:00:00+00:00" {
		t.Errorf("trigger_execution_date_iso xcom = %v", got)
	}
	if log := readLog(t, env, tis["after_ok"], 1); !strings.Contains(log, "child run from_20240301") {
		t.Errorf("after_ok log:\n%s", log)
	}
	if log := failReason(t, env, tis["trigger_bad"]); !strings.Contains(log, "failing failed with failed states failed") {
		t.Errorf("trigger_bad log:\n%s", log)
	}
	// Three runs of the failing DAG, each at its own logical date (the last
	// one now).
	fr, err := env.Store.DagRunList(context.Background(), &store.DagRunListParams{DagID: "failing"})
	if err != nil || len(fr) != 3 {
		t.Fatalf("failing runs: %d, %v", len(fr), err)
	}
}

// An existing run of the target: reset_dag_run clears it and it runs
// again; without reset the task fails with Airflow's DagRunAlreadyExists
// message; skip_when_already_exists skips the task instead.
func TestTriggerDagRunOperatorExistingRun(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"dags.yaml": `
parent:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: reset
      operator: airflow.operators.trigger_dagrun.TriggerDagRunOperator
      trigger_dag_id: child
      logical_date: "2024-03-01T00:00:00+00:00"
      reset_dag_run: true
      wait_for_completion: true
      poke_interval: 0.1
    - task_id: clash
      operator: airflow.operators.trigger_dagrun.TriggerDagRunOperator
      trigger_dag_id: child
      logical_date: "2024-03-01T00:00:00+00:00"
    - task_id: clash_by_date
      operator: airflow.operators.trigger_dagrun.TriggerDagRunOperator
      trigger_dag_id: child
      trigger_run_id: another_id
      logical_date: "2024-03-01T00:00:00+00:00"
    - task_id: skip
      operator: airflow.operators.trigger_dagrun.TriggerDagRunOperator
      trigger_dag_id: child
      trigger_run_id: "manual__2024-03-01T00:00:00+00:00"
      skip_when_already_exists: true
    - task_id: after_skip
      operator: empty
      dependencies: [skip]
    - task_id: missing
      operator: airflow.operators.trigger_dagrun.TriggerDagRunOperator
      trigger_dag_id: no_such_dag
child:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: echo, operator: bash, bash_command: "echo ran"}
`})
	er := startEngine(t, env, nil)
	first := er.trigger(t, "child", day, nil)
	if first.State != windsock.DagRunSuccess || first.RunID != "manual__2024-03-01T00:00:00+00:00" {
		t.Fatalf("first child run %s ended %s", first.RunID, first.State)
	}
	parent := er.startRun(t, "parent", scheduler.NewRun{LogicalDate: day.Add(time.Hour)})
	pr := er.wait(t, parent.RunID)
	tis := states(t, env, pr)
	want := map[string]windsock.TaskInstanceState{
		"reset": "success", "clash": "failed", "clash_by_date": "failed", "skip": "skipped", "after_skip": "skipped", "missing": "failed",
	}
	for id, st := range want {
		if tis[id].State != st {
			t.Errorf("%s = %s, want %s", id, tis[id].State, st)
		}
	}
	for id, msg := range map[string]string{
		"clash":         "A DAG Run already exists for DAG child at 2024-03-01T00:00:00+00:00 with run id manual__2024-03-01T00:00:00+00:00",
		"clash_by_date": "A DAG Run already exists for DAG child at 2024-03-01T00:00:00+00:00 with run id another_id",
		"missing":       "Dag id no_such_dag not found in DagModel",
	} {
		if log := failReason(t, env, tis[id]); !strings.Contains(log, msg) {
			t.Errorf("%s log lacks %q:\n%s", id, msg, log)
		}
	}
	// The reset cleared the existing run, which ran its task again.
	cr, err := env.Store.DagRunGet(context.Background(), "child", first.RunID)
	if err != nil {
		t.Fatal(err)
	}
	echo := states(t, env, cr)["echo"]
	if cr.State != windsock.DagRunSuccess || cr.ClearNumber != 1 || echo.TryNumber != 2 || echo.State != windsock.TaskStateSuccess {
		t.Errorf("child run %s clear_number %d; echo try %d %s", cr.State, cr.ClearNumber, echo.TryNumber, echo.State)
	}
	if log := readLog(t, env, tis["reset"], 1); !strings.Contains(log, "Clearing child on 2024-03-01T00:00:00+00:00") {
		t.Errorf("reset log:\n%s", log)
	}
	if got := xcomKeyValue(t, env, "parent", parent.RunID, "reset", "trigger_run_id"); got != first.RunID {
		t.Errorf("reset pushed run id %v", got)
	}
	runs, err := env.Store.DagRunList(context.Background(), &store.DagRunListParams{DagID: "child"})
	if err != nil || len(runs) != 1 {
		t.Errorf("child has %d runs, want the one (%v)", len(runs), err)
	}
}

// LatestOnlyOperator skips its downstream tasks in a backfill-style run of
// a past interval and lets them run in the latest scheduled run and in a
// run triggered by hand.
func TestLatestOnlyOperatorThroughTheEngine(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"latest.yaml": `
latest:
  schedule: {hours: 24}
  start_date: 2099-01-01
  tasks:
    - task_id: latest_only
      operator: airflow.operators.latest_only_operator.LatestOnlyOperator
    - {task_id: work, operator: bash, bash_command: "echo work", dependencies: [latest_only]}
    - {task_id: report, operator: empty, dependencies: [work]}
    - {task_id: always, operator: empty}
`})
	er := startEngine(t, env, nil)
	old := scheduler.NewRun{RunType: windsock.RunTypeBackfill, LogicalDate: day,
		Interval: &schedule.DataInterval{Start: day, End: day.Add(24 * time.Hour)}}
	// A run of the interval that ended 12 hours ago: its next interval
	// holds the present, with 12 hours to spare on either side.
	end := time.Now().UTC().Add(-12 * time.Hour).Truncate(time.Second)
	latest := scheduler.NewRun{RunType: windsock.RunTypeScheduled, LogicalDate: end.Add(-24 * time.Hour),
		Interval: &schedule.DataInterval{Start: end.Add(-24 * time.Hour), End: end}}
	manual := scheduler.NewRun{LogicalDate: day.Add(-24 * time.Hour)}
	for _, tt := range []struct {
		name    string
		nr      scheduler.NewRun
		proceed bool
	}{{"backfill", old, false}, {"latest", latest, true}, {"manual", manual, true}} {
		run := er.startRun(t, "latest", tt.nr)
		done := er.wait(t, run.RunID)
		if done.State != windsock.DagRunSuccess {
			t.Errorf("%s run ended %s", tt.name, done.State)
		}
		tis := states(t, env, done)
		want := windsock.TaskStateSkipped
		if tt.proceed {
			want = windsock.TaskStateSuccess
		}
		if tis["latest_only"].State != windsock.TaskStateSuccess || tis["always"].State != windsock.TaskStateSuccess {
			t.Errorf("%s: latest_only %s, always %s", tt.name, tis["latest_only"].State, tis["always"].State)
		}
		if tis["work"].State != want || tis["report"].State != want {
			t.Errorf("%s: work %s, report %s; want %s", tt.name, tis["work"].State, tis["report"].State, want)
		}
	}
}

// The date branch operators pick their branch from the run's logical date
// in the engine.
func TestDateBranchOperatorsThroughTheEngine(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"branch.yaml": `
branch:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: weekday
      operator: airflow.operators.weekday.BranchDayOfWeekOperator
      week_day: [saturday, sunday]
      use_task_logical_date: true
      follow_task_ids_if_true: weekend
      follow_task_ids_if_false: [workday]
    - {task_id: weekend, operator: empty, dependencies: [weekday]}
    - {task_id: workday, operator: empty, dependencies: [weekday]}
    - task_id: hours
      operator: airflow.operators.datetime.BranchDateTimeOperator
      target_lower: "09:00:00"
      target_upper: "17:00:00"
      use_task_logical_date: true
      follow_task_ids_if_true: office
      follow_task_ids_if_false: night
    - {task_id: office, operator: empty, dependencies: [hours]}
    - {task_id: night, operator: empty, dependencies: [hours]}
`})
	er := startEngine(t, env, nil)
	for _, tt := range []struct {
		at        time.Time
		ran, skip []string
	}{
		{time.Date(2024, 3, 2, 10, 0, 0, 0, time.UTC), []string{"weekend", "office"}, []string{"workday", "night"}}, // Saturday
		{time.Date(2024, 3, 4, 20, 0, 0, 0, time.UTC), []string{"workday", "night"}, []string{"weekend", "office"}}, // Monday
	} {
		run := er.trigger(t, "branch", tt.at, nil)
		tis := states(t, env, run)
		for _, id := range tt.ran {
			if tis[id].State != windsock.TaskStateSuccess {
				t.Errorf("%s: %s = %s, want success", tt.at, id, tis[id].State)
			}
		}
		for _, id := range tt.skip {
			if tis[id].State != windsock.TaskStateSkipped {
				t.Errorf("%s: %s = %s, want skipped", tt.at, id, tis[id].State)
			}
		}
	}
}
