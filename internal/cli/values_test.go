package cli_test

import (
	"strings"
	"testing"
)

// confNumDAG prints numbers from conf, params, var.json and XCom.
const confNumDAG = `conf_num:
  schedule: null
  start_date: 2024-01-01
  params:
    limit: 10
    rate: 0.25
    scale: 2.0
  tasks:
    - task_id: push
      operator: python
      python_callable: "lambda: {'count': 7, 'ratio': 2.0}"
    - task_id: show
      operator: bash
      dependencies: [push]
      bash_command: >-
        echo "n={{ dag_run.conf.n }} id={{ dag_run.conf.id }} next={{ params.id + 1 }}
        f={{ params.f }} w={{ params.w }} ok={{ params.ok }} limit={{ params.limit * 2 }} rate={{ params.rate }} scale={{ params.scale }}
        batch={{ var.json.config.batch }} count={{ ti.xcom_pull(task_ids='push').count }}
        ratio={{ ti.xcom_pull(task_ids='push').ratio }} conf={{ dag_run.conf.nested }}
        timeout={{ conn.svc.extra_dejson.timeout }} ext={{ conn.svc.extra_dejson.big }}
        {% if params.n > 3 %}big{% endif %}"
`

// TestDagsTestKeepsJSONNumbers runs a DAG through the binary with a conf
// of integers, a large integer, floats and booleans, YAML params, a JSON
// variable, an XCom and a connection's extra: the task log shows them as
// Python does, not as float64.
func TestDagsTestKeepsJSONNumbers(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "conf_num.yaml", confNumDAG)
	h.ok(t, "variables", "set", "config", `{"batch": 500}`)
	h.ok(t, "connections", "add", "svc", "--conn-type", "http", "--conn-extra", `{"timeout": 5, "big": 12345678901234567}`)
	out := h.ok(t, "dags", "test", "conf_num", "2024-01-01", "-c",
		`{"n":5,"id":12345678901234567,"f":0.1,"w":5.0,"ok":true,"nested":{"k":1}}`)
	want := "n=5 id=12345678901234567 next=12345678901234568 f=0.1 w=5.0 ok=True limit=20 rate=0.25 scale=2.0 " +
		"batch=500 count=7 ratio=2.0 conf={'k': 1} timeout=5 ext=12345678901234567 big"
	if !strings.Contains(out, want) {
		t.Errorf("dags test output lacks\n%s\n%s", want, out)
	}
}

// nativeDAG hands dag_run.conf to a python callable with
// render_template_as_native_obj; the callable checks the types itself.
const nativeDAG = `native:
  schedule: null
  start_date: 2024-01-01
  render_template_as_native_obj: true
  tasks:
    - task_id: check
      operator: python
      python_callable: callables.py:check
      op_kwargs:
        payload: "{{ dag_run.conf }}"
        total: "{{ dag_run.conf.total }}"
        doubled: "{{ dag_run.conf.n * 2 }}"
        text: "n={{ dag_run.conf.n }}"
      op_args: ["{{ dag_run.conf.ratio }}", "[1, 2]"]
`

const nativeCallables = `def check(ratio, pair, payload, total, doubled, text, **context):
    assert type(payload) is dict, repr(payload)
    assert type(payload["n"]) is int and type(payload["total"]) is int, repr(payload)
    assert type(payload["ratio"]) is float, repr(payload)
    assert type(total) is int and total == 55, repr(total)
    assert type(doubled) is int and doubled == 20, repr(doubled)
    assert text == "n=10", repr(text)
    assert type(ratio) is float and ratio == 5.0, repr(ratio)
    assert pair == [1, 2], repr(pair)
    print("native types ok")
    return {"n": payload["n"], "total": total}
`

// TestNativeRenderingHandsPythonValues runs a real python3 callable under
// render_template_as_native_obj: it receives a dict of ints, not its text.
// tasks test shows the returned value as Python prints it.
func TestNativeRenderingHandsPythonValues(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "native.yaml", nativeDAG)
	h.writeDAG(t, "callables.py", nativeCallables)
	conf := `{"n": 10, "total": 55, "ratio": 5.0}`
	out := h.ok(t, "dags", "test", "native", "2024-01-01", "-c", conf)
	for _, want := range []string{"native types ok", "Done. Returned value was: {'n': 10, 'total': 55}", "success"} {
		if !strings.Contains(out, want) {
			t.Errorf("dags test output lacks %q:\n%s", want, out)
		}
	}
	// tasks test on the run dags test left: the run's conf is read back
	// from the store with its types.
	out = h.ok(t, "tasks", "test", "native", "check", "2024-01-01")
	for _, want := range []string{"native types ok", "Returned value was: {'n': 10, 'total': 55}", "Task check: success"} {
		if !strings.Contains(out, want) {
			t.Errorf("tasks test output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "map[") {
		t.Errorf("tasks test shows Go syntax:\n%s", out)
	}
	out = h.ok(t, "tasks", "render", "native", "check", "2024-01-01")
	if !strings.Contains(out, "{'doubled': 20, 'payload': {'n': 10, 'ratio': 5.0, 'total': 55}, 'text': 'n=10', 'total': 55}") ||
		!strings.Contains(out, "[5.0, [1, 2]]") {
		t.Errorf("tasks render said:\n%s", out)
	}
}
