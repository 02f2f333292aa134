package cli

import (
	"bytes"
	"testing"
	"time"
)

type outputItem struct {
	id    string
	n     int
	ok    bool
	when  *time.Time
	tags  []string
	extra map[string]any
}

var outputItemFields = fields[outputItem]{
	{"id", func(i outputItem) any { return i.id }},
	{"n", func(i outputItem) any { return i.n }},
	{"ok", func(i outputItem) any { return i.ok }},
	{"when", func(i outputItem) any { return i.when }},
	{"tags", func(i outputItem) any { return i.tags }},
	{"extra", func(i outputItem) any { return i.extra }},
}

// TestPrintRecordsFormats checks each -o format against what Airflow's
// AirflowConsole prints for the same Python rows: scalars as str(), None as
// null, lists and dicts kept, json.dumps separators, yaml keys sorted.
func TestPrintRecordsFormats(t *testing.T) {
	t.Parallel()
	when := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	items := []outputItem{
		{id: "a", n: 5, ok: true, when: &when, tags: []string{"x", "y"}, extra: map[string]any{"k": 1.5, "b": true}},
		{id: "bb\nb2", n: 12, ok: false},
	}
	cases := []struct {
		format string
		want   string
	}{
		{formatJSON, `[{"id": "a", "n": "5", "ok": "True", "when": "2024-01-02 03:04:05+00:00", "tags": ["x", "y"], "extra": {"b": "True", "k": "1.5"}}, ` +
			`{"id": "bb\nb2", "n": "12", "ok": "False", "when": null, "tags": [], "extra": null}]` + "\n"},
		{formatYAML, `- extra:
    b: "True"
    k: "1.5"
  id: a
  "n": "5"
  ok: "True"
  tags:
    - x
    - "y"
  when: "2024-01-02 03:04:05+00:00"
- extra: null
  id: |-
    bb
    b2
  "n": "12"
  ok: "False"
  tags: []
  when: null
`},
		{formatTable, `id | n  | ok    | when                      | tags | extra
===+====+=======+===========================+======+==========================
a  | 5  | True  | 2024-01-02 03:04:05+00:00 | x,y  | {"b": "True", "k": "1.5"}
bb | 12 | False | None                      |      | None
b2 |    |       |                           |      |
`},
		{formatPlain, `id   n  ok     when                       tags  extra
a    5  True   2024-01-02 03:04:05+00:00  x,y   {"b": "True", "k": "1.5"}
bb  12  False
b2
`},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if err := outputItemFields.print(&b, c.format, items); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("-o %s:\n%s\nwant:\n%s", c.format, b.String(), c.want)
		}
	}
}

func TestPrintRecordsEmpty(t *testing.T) {
	t.Parallel()
	want := map[string]string{formatJSON: "[]\n", formatYAML: "[]\n", formatTable: "No data found\n", formatPlain: "No data found\n"}
	for f, w := range want {
		var b bytes.Buffer
		if err := outputItemFields.print(&b, f, nil); err != nil {
			t.Fatal(err)
		}
		if b.String() != w {
			t.Errorf("-o %s of nothing = %q, want %q", f, b.String(), w)
		}
	}
}

// TestPythonStr checks the str() forms Airflow prints for values that are
// not strings.
func TestPythonStr(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in   any
		want any
	}{
		{true, "True"},
		{nil, nil},
		{(*time.Time)(nil), nil},
		{42, "42"},
		{int64(-3), "-3"},
		{1.0, "1.0"},
		{0.25, "0.25"},
		{0.00001, "1e-05"},
		{1e16, "1e+16"},
		{time.Date(2024, 1, 2, 3, 4, 5, 123456000, time.UTC), "2024-01-02 03:04:05.123456+00:00"},
		{1500 * time.Millisecond, "0:00:01.500000"},
		{26*time.Hour + 61*time.Second, "1 day, 2:01:01"},
		{-time.Second, "-1 day, 23:59:59"},
	}
	for _, c := range cases {
		if got := normalize(c.in); got != c.want {
			t.Errorf("normalize(%#v) = %#v, want %#v", c.in, got, c.want)
		}
	}
}

// TestNewRecord: commands whose Airflow rows are plain dicts build them
// with newRecord; values are normalized like fields tables' values.
func TestNewRecord(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	recs := []record{newRecord("dag_id", "etl", "state", nil, "try_number", 2, "paused", true)}
	if err := printRecords(&b, formatJSON, recs); err != nil {
		t.Fatal(err)
	}
	if want := `[{"dag_id": "etl", "state": null, "try_number": "2", "paused": "True"}]` + "\n"; b.String() != want {
		t.Errorf("newRecord -o json = %s, want %s", b.String(), want)
	}
}
