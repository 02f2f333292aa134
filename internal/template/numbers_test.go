package template_test

import (
	"context"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/template"
	"github.com/windsock/windsock/internal/windsock"
)

// decoded decodes JSON as every store reader does.
func decoded(t testing.TB, src string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := windsock.DecodeJSON([]byte(src), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// numbersFixture feeds conf, params, var.json and XCom from JSON text,
// decoded as the store's readers decode them.
func numbersFixture(t testing.TB) template.Context {
	f := setup(t)
	f.dag.Params = decoded(t, `{"limit": 10, "rate": 0.25, "dry": false}`)
	f.run.Conf = decoded(t, `{"n": 5, "id": 12345678901234567, "huge": 123456789012345678901234567890,
		"f": 0.1, "e16": 1e16, "whole": 5.0, "ok": true, "nested": {"n": 5, "s": "it's"}, "list": [1, 2.5, null], "nothing": null}`)
	variable := f.src.Variable
	f.src.Variable = func(ctx context.Context, key string) (string, error) {
		if key == "config" {
			return `{"batch": 500, "ratio": 0.5}`, nil
		}
		return variable(ctx, key)
	}
	f.src.XComPull = func(_ context.Context, p template.XComPullParams) (any, bool, error) {
		if p.TaskID != "counter" {
			return nil, false, nil
		}
		return decoded(t, `{"count": 7, "ratio": 0.5, "done": true}`), true, nil
	}
	return f.context(t)
}

// TestRenderNumbers checks that JSON numbers keep their Python type
// through conf, params, var.json and XCom, print as Python's str() prints
// them, and still do arithmetic and comparisons.
func TestRenderNumbers(t *testing.T) {
	t.Parallel()
	tc := numbersFixture(t)
	tests := []struct{ tpl, want string }{
		{"n={{ dag_run.conf.n }} id={{ dag_run.conf.id }}", "n=5 id=12345678901234567"},
		{"{{ params.n }} {{ params.id }} {{ params.limit }}", "5 12345678901234567 10"},
		{"{{ dag_run.conf.huge }}", "123456789012345678901234567890"},
		{"{{ params.f }} {{ params.e16 }} {{ params.whole }} {{ params.rate }}", "0.1 1e+16 5.0 0.25"},
		{"{{ params.ok }} {{ params.dry }}", "True False"},
		{"{{ params.nested }}", `{'n': 5, 's': "it's"}`},
		{"{{ params.list }}", "[1, 2.5, None]"},
		// None prints "None", an undefined name "" (gonja has one nil for
		// both; a key present with null is None).
		{"{{ None }}|{{ undefined_name }}|{{ params.missing }}|{{ params.nothing }}|{{ params['nothing'] }}", "None|||None|None"},
		{"{{ dag_run.conf.nothing }}|{{ params.list[2] }}|{{ params.list[7] }}", "None|None|"},
		{"{{ params.nothing or 'x' }}{% if params.nothing is none %}!{% endif %}", "x!"},
		{"{{ dag_run.conf }}", `{'e16': 1e+16, 'f': 0.1, 'huge': 123456789012345678901234567890, 'id': 12345678901234567, 'list': [1, 2.5, None], 'n': 5, 'nested': {'n': 5, 's': "it's"}, 'nothing': None, 'ok': True, 'whole': 5.0}`},
		{"{{ params.n + 1 }} {{ params.id + 1 }} {{ params.n - 7 }}", "6 12345678901234568 -2"},
		{"{{ params.n * 2 }} {{ params.n / 2 }} {{ params.n // 2 }} {{ params.f * 2 }}", "10 2.5 2 0.2"},
		{"{{ params.n + params.f }}", "5.1"},
		{"{% if params.n > 3 %}big{% endif %}{% if params.n >= 5 %}!{% endif %}{% if params.n < 5 %}?{% endif %}", "big!"},
		{"{% if params.id > 12345678901234566 %}exact{% endif %}", "exact"},
		{"{{ params.n == 5 }} {{ params.whole == 5 }} {{ params.ok }}", "True True True"},
		{"{% if params.ok %}yes{% endif %}{% if not params.dry %} no{% endif %}", "yes no"},
		{"{% for i in range(params.n) %}{{ i }}{% endfor %}", "01234"},
		{"{{ var.json.config.batch }} {{ var.json.config.ratio }}", "500 0.5"},
		{"{{ var.json.config.batch + 1 }} {{ var.json.config }}", "501 {'batch': 500, 'ratio': 0.5}"},
		{"{{ ti.xcom_pull(task_ids='counter').count }} {{ ti.xcom_pull(task_ids='counter').count * 3 }}", "7 21"},
		{"{{ ti.xcom_pull(task_ids='counter') }}", "{'count': 7, 'done': True, 'ratio': 0.5}"},
		{"{{ [1, 'a', 2.0] }} {{ 7 }} {{ 1.0 }} {{ True }}", "[1, 'a', 2.0] 7 1.0 True"},
		// Python's ints have no size limit.
		{"{{ params.huge + 1 }} {{ params.huge - params.huge }}", "123456789012345678901234567891 0"},
		{"{{ params.id * 1000 }}", "12345678901234567000"},
		{"{{ 2 ** 3 }} {{ 2 ** 100 }} {{ 2 ** -1 }} {{ 4 ** 0.5 }}", "8 1267650600228229401496703205376 0.5 2.0"},
		{"{{ 'ab' * 2 }} {{ params.n * 0.5 }}", "abab 2.5"},
		{"{% if params.huge > params.id %}bigger{% endif %}", "bigger"},
	}
	for _, tt := range tests {
		got, err := render(t, tc, tt.tpl)
		if err != nil {
			t.Errorf("Render(%q): %v", tt.tpl, err)
			continue
		}
		if got != tt.want {
			t.Errorf("Render(%q)\n got %s\nwant %s", tt.tpl, got, tt.want)
		}
	}
	for _, tpl := range []string{"{{ 10 ** 1000000 }}", "{{ 'x' * 100000000 }}"} {
		if _, err := render(t, tc, tpl); err == nil || !strings.Contains(err.Error(), "the limit is") {
			t.Errorf("Render(%q) error = %v, want a limit", tpl, err)
		}
	}
}

// TestRenderFieldsNative checks render_template_as_native_obj: a field
// that is one {{ }} gives the value itself, other text goes through
// ast.literal_eval and stays text when it is not a literal.
func TestRenderFieldsNative(t *testing.T) {
	t.Parallel()
	tc := numbersFixture(t)
	spec := &operator.Spec{Class: "PythonOperator", Args: []operator.Arg{
		{Name: "op_kwargs", Templated: true}, {Name: "op_args", Templated: true}, {Name: "other"},
	}}
	args := map[string]any{
		"op_kwargs": map[string]any{
			"conf":    "{{ dag_run.conf.nested }}",
			"n":       "{{ params.n }}",
			"sum":     "{{ params.n + params.limit }}",
			"joined":  "{{ params.n }}{{ params.n }}",
			"text":    "n={{ params.n }}",
			"literal": "{'a': [1, 2.5]}",
			"plain":   "hello",
			"quoted":  "{{ 'x' }}",
			"digits":  "{{ '42' }}",
			"spaced":  " {{ params.n }}",
			"xcom":    "{{ ti.xcom_pull(task_ids='counter') }}",
			"none":    "{{ dag_run.conf.nothing }}",
		},
		"op_args": []any{"{{ params.ok }}", "{{ params.f }}"},
		"other":   "{{ params.n }}",
	}
	out, rendered, err := template.RenderFieldsNative(context.Background(), spec, args, tc)
	if err != nil {
		t.Fatal(err)
	}
	kw := out["op_kwargs"].(map[string]any)
	want := map[string]string{
		"conf": `{'n': 5, 's': "it's"}`, "n": "5", "sum": "15", "joined": "55", "text": "'n=5'",
		"literal": "{'a': [1, 2.5]}", "plain": "'hello'", "quoted": "'x'", "digits": "42", "spaced": "' 5'",
		"xcom": "{'count': 7, 'done': True, 'ratio': 0.5}", "none": "None",
	}
	for k, w := range want {
		if got := pyvalue.Repr(kw[k]); got != w {
			t.Errorf("op_kwargs[%s] = %s (%T), want %s", k, got, kw[k], w)
		}
	}
	if v, ok := kw["none"]; !ok || v != nil {
		t.Errorf("op_kwargs[none] = %#v (present %v), want None", v, ok)
	}
	if _, ok := kw["n"].(int); !ok {
		t.Errorf("op_kwargs[n] is %T, want int", kw["n"])
	}
	if got := pyvalue.Repr(out["op_args"]); got != "[True, 0.1]" {
		t.Errorf("op_args = %s", got)
	}
	if out["other"] != "{{ params.n }}" {
		t.Errorf("a field that is not templated was rendered: %v", out["other"])
	}
	if got := pyvalue.Repr(rendered["op_kwargs"]); got != pyvalue.Repr(kw) {
		t.Errorf("rendered fields %s differ from the arguments %s", got, pyvalue.Repr(kw))
	}
	// Without native rendering the same fields are strings.
	out, _, err = template.RenderFields(context.Background(), spec, args, tc)
	if err != nil {
		t.Fatal(err)
	}
	if got := out["op_kwargs"].(map[string]any)["conf"]; got != `{'n': 5, 's': "it's"}` {
		t.Errorf("string rendering gave %#v", got)
	}
}
