package app

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// TestPythonMappedOverMapAndZip maps tasks over XComArg.map(fn) and zip()
// from a Python DAG file: each index receives fn(element) (applied in the
// worker, with fn from the DAG file), zip() expands to the shortest input
// and zip(fillvalue=...) to the longest, each index receiving its tuple.
func TestPythonMappedOverMapAndZip(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"mapzip.py": `
from datetime import datetime
from airflow.decorators import dag, task

def label(x):
    return "item-%s" % x

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def py_mapzip():
    @task
    def nums():
        return [1, 2, 3]

    @task
    def words():
        return ["a", "b"]

    @task
    def show(v):
        return v

    @task
    def pair(p):
        return list(p)

    @task
    def collect(xs):
        return list(xs)

    n = nums()
    w = words()
    collect.override(task_id="mapped")(show.override(task_id="labels").expand(v=n.map(label)))
    collect.override(task_id="chained")(show.override(task_id="twice").expand(v=n.map(lambda x: x * 10).map(lambda x: x + 1)))
    collect.override(task_id="zipped")(pair.override(task_id="zip_short").expand(p=n.zip(w)))
    collect.override(task_id="zipped_long")(pair.override(task_id="zip_long").expand(p=n.zip(w, fillvalue="-")))

py_mapzip()
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_mapzip", day, nil)
	if run.State != windsock.DagRunSuccess {
		for id, ti := range states(t, env, run) {
			t.Logf("%s: %s\n%s", id, ti.State, readLog(t, env, ti, max(ti.TryNumber, 1)))
		}
		t.Fatalf("run ended %s", run.State)
	}
	for task, want := range map[string]string{
		"mapped":      `["item-1","item-2","item-3"]`,
		"chained":     `[11,21,31]`,
		"zipped":      `[[1,"a"],[2,"b"]]`,
		"zipped_long": `[[1,"a"],[2,"b"],[3,"-"]]`,
	} {
		if got := strings.ReplaceAll(xcom(t, env, run, task, "return_value"), " ", ""); got != want {
			t.Errorf("%s received %s, want %s", task, got, want)
		}
	}
	for task, want := range map[string]int{"labels": 3, "twice": 3, "zip_short": 2, "zip_long": 3} {
		if n := len(mappedTIs(t, env, run, task)); n != want {
			t.Errorf("%s has %d task instances, want %d", task, n, want)
		}
	}
}

// TestPythonMappedTaskGroup runs a @task_group expanded over an upstream's
// XCom and one over a literal: every task in a group has the group's map
// indexes, index i of a task reads index i of its upstream in the group
// (a failing index fails only its own downstream index), and a task after
// the group waits for every index and receives them all.
func TestPythonMappedTaskGroup(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"mapgroup.py": `
from datetime import datetime
from airflow.decorators import dag, task, task_group

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def py_mapgroup():
    @task
    def make():
        return [1, 2, 3]

    @task_group
    def per_item(x):
        @task
        def add_one(v):
            return v + 1

        @task
        def check(v):
            if v == 3:
                raise ValueError("index 1 fails")
            return v * 10

        @task
        def after_check(v):
            return v

        @task(trigger_rule="all_done")
        def tail(v, x):
            return [v, x]

        return tail(after_check(check(add_one(x))), x)

    @task(trigger_rule="all_done")
    def total(vs):
        return list(vs)

    total(per_item.expand(x=make()))

    @task_group
    def letters(y, suffix):
        @task
        def first(y, suffix):
            return y + suffix

        @task
        def second(v):
            return v.upper()

        return second(first(y, suffix))

    @task
    def joined(vs):
        return ",".join(vs)

    joined(letters.partial(suffix="!").expand(y=["a", "b"]))

py_mapgroup()
`})
	er := startEngine(t, env, nil)
	run := er.trigger(t, "py_mapgroup", day, nil)
	tiState := func(task string) []string {
		var out []string
		for _, ti := range mappedTIs(t, env, run, task) {
			out = append(out, fmt.Sprintf("%d:%s", ti.MapIndex, ti.State))
		}
		return out
	}
	for task, want := range map[string]string{
		"per_item.add_one":     "0:success 1:success 2:success",
		"per_item.check":       "0:success 1:failed 2:success",
		"per_item.after_check": "0:success 1:upstream_failed 2:success",
		"per_item.tail":        "0:success 1:success 2:success",
		"letters.first":        "0:success 1:success",
		"letters.second":       "0:success 1:success",
		"total":                "-1:success",
		"joined":               "-1:success",
	} {
		if got := strings.Join(tiState(task), " "); got != want {
			t.Errorf("%s instances %s, want %s", task, got, want)
		}
	}
	for task, want := range map[string]string{
		"total":  `[[20,1],[null,2],[40,3]]`,
		"joined": `"A!,B!"`,
	} {
		if got := strings.ReplaceAll(xcom(t, env, run, task, "return_value"), " ", ""); got != want {
			t.Errorf("%s received %s, want %s", task, got, want)
		}
	}
	// The failed index is not a leaf: the run succeeds, as in Airflow.
	if run.State != windsock.DagRunSuccess {
		t.Errorf("run ended %s, want success", run.State)
	}
}

// TestMapIndexTemplate: map_index_template names each mapped instance, in
// a YAML DAG (rendered by the worker with the instance's arguments) and in
// a Python DAG file (rendered in Python after execute, with what the task
// put in its context); the name is stored as rendered_map_index.
func TestMapIndexTemplate(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{
		"named.yaml": `
named_yaml:
  schedule: null
  start_date: 2024-01-01
  tasks:
    greet:
      operator: bash
      map_index_template: "file={{ task.env.FILE }}"
      bash_command: 'echo "$FILE"'
      expand:
        env: [{FILE: a.csv}, {FILE: b.csv}]
`,
		// Templated fields: the name is rendered from the context the
		// fields were rendered with, and sees the rendered arguments.
		"named_tpl.yaml": `
named_yaml_tpl:
  schedule: null
  start_date: 2024-01-01
  tasks:
    greet:
      operator: bash
      map_index_template: "{{ task.bash_command }} {{ ti.task.env.FILE }} {{ ti.map_index }}"
      bash_command: 'echo {{ ds }}'
      expand:
        env: [{FILE: a.csv}, {FILE: b.csv}]
`,
		"named.py": `
from datetime import datetime
from airflow.decorators import dag, task
from airflow.operators.python import get_current_context

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def named_py():
    @task(map_index_template="{{ label }}")
    def load(name):
        get_current_context()["label"] = "table " + name
        return name

    load.expand(name=["users", "orders"])

named_py()
`})
	er := startEngine(t, env, nil)
	for dagID, want := range map[string][]string{
		"named_yaml":     {"file=a.csv", "file=b.csv"},
		"named_yaml_tpl": {"echo 2024-03-01 a.csv 0", "echo 2024-03-01 b.csv 1"},
		"named_py":       {"table users", "table orders"},
	} {
		run := er.trigger(t, dagID, day, nil)
		if run.State != windsock.DagRunSuccess {
			t.Fatalf("%s ended %s", dagID, run.State)
		}
		task := map[string]string{"named_yaml": "greet", "named_yaml_tpl": "greet", "named_py": "load"}[dagID]
		var got []string
		for _, ti := range mappedTIs(t, env, run, task) {
			got = append(got, ti.RenderedMapIndex)
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("%s: rendered_map_index %q, want %q", dagID, got, want)
		}
	}
}

// TestPythonOutletEventsExtra: outlet_events[Dataset(uri)].extra set by a
// Python task (Airflow 2.10) becomes the extra of the dataset event its
// success records, which the consumer run it triggers reads through
// triggering_dataset_events and inlet_events, and any run reads from the
// store through inlet_events.
func TestPythonOutletEventsExtra(t *testing.T) {
	t.Parallel()
	env, _ := pyEnv(t, map[string]string{"outlet_events.py": `
from datetime import datetime
from airflow.datasets import Dataset
from airflow.decorators import dag, task

ORDERS = Dataset("s3://bucket/orders.parquet")

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def extra_producer():
    @task(outlets=[ORDERS])
    def load(*, outlet_events):
        outlet_events[ORDERS].extra = {"rows": 42, "source": "load"}

    load()

@dag(schedule=[ORDERS], start_date=datetime(2024, 1, 1), catchup=False)
def extra_consumer():
    @task(inlets=[ORDERS])
    def report(*, triggering_dataset_events, inlet_events):
        return [triggering_dataset_events[ORDERS.uri][0].extra["rows"], inlet_events[ORDERS][-1].extra["source"]]

    report()

@dag(schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def extra_reader():
    @task(inlets=[ORDERS])
    def read(*, inlet_events):
        events = inlet_events[ORDERS]
        return [len(events), events[-1].extra["rows"], events[-1].source_task_id, events[-1].timestamp.year]

    read()

extra_producer()
extra_consumer()
extra_reader()
`})
	ctx := context.Background()
	er := startEngine(t, env, nil)
	produced, consumed := er.produce(t, "extra_producer", "extra_consumer", day)
	if produced.State != windsock.DagRunSuccess || consumed.State != windsock.DagRunSuccess {
		t.Fatalf("producer ended %s, consumer %s", produced.State, consumed.State)
	}
	evs, _, err := env.Store.DatasetEventList(ctx, &store.DatasetEventListParams{DagRunID: consumed.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || fmt.Sprint(evs[0].Extra["rows"]) != "42" || evs[0].Extra["source"] != "load" {
		t.Fatalf("triggering events = %+v, want one with the extra the producer set", evs)
	}
	if got := strings.ReplaceAll(xcom(t, env, consumed, "report", "return_value"), " ", ""); got != `[42,"load"]` {
		t.Errorf("consumer read %s, want the extra through both accessors", got)
	}
	// A run that no dataset triggered reads the dataset's events from the
	// store through inlet_events.
	reader := er.trigger(t, "extra_reader", day, nil)
	if got := strings.ReplaceAll(xcom(t, env, reader, "read", "return_value"), " ", ""); reader.State != windsock.DagRunSuccess || got != `[1,42,"load",`+fmt.Sprint(evs[0].Timestamp.Year())+`]` {
		t.Errorf("reader ended %s, read %s", reader.State, got)
	}
}
