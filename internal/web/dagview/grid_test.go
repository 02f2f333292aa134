package dagview

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

var t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func at(min int) *time.Time {
	t := t0.Add(time.Duration(min) * time.Minute)
	return &t
}

// groupedDAG is: start -> g.a -> g.inner.b -> end, g.c (no deps, defined
// first), with nested groups g and g.inner.
func groupedDAG() *windsock.DAG {
	return &windsock.DAG{
		DagID: "grouped",
		Tasks: []*windsock.Task{
			{TaskID: "end", Upstream: []string{"g.inner.b"}, OperatorClass: "BashOperator"},
			{TaskID: "g.c", TaskGroup: "g"},
			{TaskID: "g.inner.b", TaskGroup: "g.inner", Upstream: []string{"g.a"}},
			{TaskID: "g.a", TaskGroup: "g", Upstream: []string{"start"}},
			{TaskID: "start"},
		},
		TaskGroups: []*windsock.TaskGroup{
			{GroupID: "g", Tooltip: "the group", Children: []string{"g.inner", "g.a", "g.c"}},
			{GroupID: "g.inner", ParentGroup: "g", Children: []string{"g.inner.b"}},
			{GroupID: "empty"},
		},
	}
}

func ti(run, task string, state windsock.TaskInstanceState, try int, start, end *time.Time) *windsock.TaskInstance {
	return &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "grouped", RunID: run, TaskID: task, MapIndex: -1},
		State: state, TryNumber: try, StartDate: start, EndDate: end}
}

func TestTopoOrder(t *testing.T) {
	t.Parallel()
	got := TopoOrder(groupedDAG())
	// g.c has no upstream and is defined before start: ties go by
	// definition order.
	want := []string{"g.c", "start", "g.a", "g.inner.b", "end"}
	if !slices.Equal(got, want) {
		t.Errorf("TopoOrder = %q, want %q", got, want)
	}
	cyclic := &windsock.DAG{Tasks: []*windsock.Task{{TaskID: "x", Upstream: []string{"y"}}, {TaskID: "y", Upstream: []string{"x"}}, {TaskID: "z"}}}
	if got := TopoOrder(cyclic); !slices.Equal(got, []string{"z", "x", "y"}) {
		t.Errorf("TopoOrder(cyclic) = %q", got)
	}
}

func TestBuildGridRows(t *testing.T) {
	t.Parallel()
	g := BuildGrid(groupedDAG(), nil, nil, t0)
	type row struct {
		id, label, parent string
		group             bool
		depth             int
		anc               string
	}
	var got []row
	for _, r := range g.Rows {
		got = append(got, row{r.ID, r.Label, r.Parent, r.Group, r.Depth, strings.Join(r.Ancestors, " ")})
	}
	want := []row{
		{"g", "g", "", true, 0, ""},
		{"g.c", "c", "g", false, 1, "g"},
		{"g.a", "a", "g", false, 1, "g"},
		{"g.inner", "inner", "g", true, 1, "g"},
		{"g.inner.b", "b", "g.inner", false, 2, "g g.inner"},
		{"start", "start", "", false, 0, ""},
		{"end", "end", "", false, 0, ""},
		{"empty", "empty", "", true, 0, ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("rows:\n got %v\nwant %v", got, want)
	}
	if g.Rows[0].Tooltip != "the group" || g.Rows[6].Operator != "BashOperator" {
		t.Errorf("tooltip/operator not carried: %+v %+v", g.Rows[0], g.Rows[6])
	}
}

func TestBuildGridCells(t *testing.T) {
	t.Parallel()
	runs := []*windsock.DagRun{
		{DagID: "grouped", RunID: "r2", LogicalDate: t0.Add(24 * time.Hour), State: windsock.DagRunRunning, StartDate: at(0)},
		{DagID: "grouped", RunID: "r1", LogicalDate: t0, State: windsock.DagRunFailed, StartDate: at(0), EndDate: at(10)},
	}
	dur := 120.0
	done := ti("r1", "g.a", windsock.TaskStateSuccess, 1, at(1), at(3))
	done.Duration = &dur
	tis := []*windsock.TaskInstance{
		ti("r1", "start", windsock.TaskStateSuccess, 1, at(0), at(1)),
		done,
		ti("r1", "g.c", windsock.TaskStateSkipped, 0, nil, nil),
		ti("r1", "g.inner.b", windsock.TaskStateFailed, 2, at(3), at(9)),
		ti("r1", "end", windsock.TaskStateUpstreamFailed, 0, nil, nil),
		ti("r2", "start", windsock.TaskStateSuccess, 1, at(0), at(1)),
		ti("r2", "g.a", windsock.TaskStateRunning, 1, at(2), nil),
		ti("r2", "g.c", windsock.TaskStateSuccess, 1, at(1), at(2)),
		// g.inner.b and end have no instance in r2; an instance of another
		// DAG or run is ignored.
		ti("r9", "start", windsock.TaskStateFailed, 1, nil, nil),
		{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "other", RunID: "r2", TaskID: "end", MapIndex: -1}, State: windsock.TaskStateFailed},
	}
	now := *at(5)
	g := BuildGrid(groupedDAG(), runs, tis, now)
	if len(g.Columns) != 2 || g.Columns[0].RunID != "r1" || g.Columns[1].RunID != "r2" {
		t.Fatalf("columns not oldest first: %+v", g.Columns)
	}
	if g.Columns[0].Duration != 10*time.Minute || g.Columns[1].Duration != 5*time.Minute {
		t.Errorf("run durations = %v, %v", g.Columns[0].Duration, g.Columns[1].Duration)
	}
	cell := func(id string, c int) Cell {
		for _, r := range g.Rows {
			if r.ID == id {
				return r.Cells[c]
			}
		}
		t.Fatalf("no row %q", id)
		return Cell{}
	}
	tests := []struct {
		row   string
		col   int
		state windsock.TaskInstanceState
		exist bool
		try   int
		dur   time.Duration
	}{
		{"g.a", 0, windsock.TaskStateSuccess, true, 1, 2 * time.Minute},
		{"g.inner.b", 0, windsock.TaskStateFailed, true, 2, 6 * time.Minute},
		{"g.inner", 0, windsock.TaskStateFailed, true, 0, 6 * time.Minute},
		// failed beats success and skipped; span from first start to last end.
		{"g", 0, windsock.TaskStateFailed, true, 0, 8 * time.Minute},
		{"end", 0, windsock.TaskStateUpstreamFailed, true, 0, 0},
		{"g.a", 1, windsock.TaskStateRunning, true, 1, 3 * time.Minute},
		// running beats success; still going, so it runs to now.
		{"g", 1, windsock.TaskStateRunning, true, 0, 4 * time.Minute},
		{"g.inner", 1, "", false, 0, 0},
		{"end", 1, "", false, 0, 0},
		{"empty", 0, "", false, 0, 0},
	}
	for _, tt := range tests {
		c := cell(tt.row, tt.col)
		if c.State != tt.state || c.Exists != tt.exist || c.TryNumber != tt.try || c.Duration != tt.dur {
			t.Errorf("cell %s/%d = %+v, want state %q exists %v try %d duration %v", tt.row, tt.col, c, tt.state, tt.exist, tt.try, tt.dur)
		}
	}
}

func TestBuildGridMapped(t *testing.T) {
	t.Parallel()
	dag := &windsock.DAG{DagID: "grouped", Tasks: []*windsock.Task{{TaskID: "m"}}}
	runs := []*windsock.DagRun{{RunID: "r1", LogicalDate: t0}}
	var tis []*windsock.TaskInstance
	for i, st := range []windsock.TaskInstanceState{windsock.TaskStateSuccess, windsock.TaskStateUpForRetry, windsock.TaskStateSuccess} {
		x := ti("r1", "m", st, i+1, at(i), at(i+1))
		x.MapIndex = i
		tis = append(tis, x)
	}
	c := BuildGrid(dag, runs, tis, t0).Rows[0].Cells[0]
	if c.State != windsock.TaskStateUpForRetry || c.Mapped != 3 || c.TryNumber != 3 {
		t.Errorf("mapped cell = %+v, want up_for_retry, 3 mapped, try 3", c)
	}
}

func TestSummaryState(t *testing.T) {
	t.Parallel()
	S := func(ss ...windsock.TaskInstanceState) map[windsock.TaskInstanceState]bool {
		m := map[windsock.TaskInstanceState]bool{}
		for _, s := range ss {
			m[s] = true
		}
		return m
	}
	tests := []struct {
		in   map[windsock.TaskInstanceState]bool
		want windsock.TaskInstanceState
		ok   bool
	}{
		{S(), "", false},
		{S(windsock.TaskStateSuccess, windsock.TaskStateSkipped), windsock.TaskStateSuccess, true},
		{S(windsock.TaskStateSuccess, windsock.TaskStateNone), windsock.TaskStateNone, true},
		{S(windsock.TaskStateRunning, windsock.TaskStateQueued), windsock.TaskStateQueued, true},
		{S(windsock.TaskStateUpstreamFailed, windsock.TaskStateFailed, windsock.TaskStateRunning), windsock.TaskStateFailed, true},
		{S(windsock.TaskStateRemoved, windsock.TaskStateSkipped), windsock.TaskStateSkipped, true},
		{S("shutdown"), "shutdown", true},
	}
	for _, tt := range tests {
		got, ok := SummaryState(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("SummaryState(%v) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, ""},
		{-time.Second, ""},
		{1500 * time.Millisecond, "00:00:02"},
		{61 * time.Second, "00:01:01"},
		{26*time.Hour + 3*time.Minute, "1d 02:03:00"},
	}
	for _, tt := range tests {
		if got := FormatDuration(tt.in); got != tt.want {
			t.Errorf("FormatDuration(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRenderGrid(t *testing.T) {
	t.Parallel()
	r, err := NewGridRenderer()
	if err != nil {
		t.Fatal(err)
	}
	dag := groupedDAG()
	dag.DagID = `d<x>`
	dag.Tasks[4].TaskID = "start"
	runs := []*windsock.DagRun{{DagID: dag.DagID, RunID: "manual__2024-01-01T00:00:00+00:00", LogicalDate: t0, State: windsock.DagRunSuccess, StartDate: at(0), EndDate: at(1)}}
	tis := []*windsock.TaskInstance{{TaskInstanceKey: windsock.TaskInstanceKey{DagID: dag.DagID, RunID: runs[0].RunID, TaskID: "start", MapIndex: -1},
		State: windsock.TaskStateSuccess, TryNumber: 1, StartDate: at(0), EndDate: at(1)}}
	var buf bytes.Buffer
	if err := r.Render(&buf, BuildGrid(dag, runs, tis, t0), GridOptions{SelectedRun: runs[0].RunID, SelectedTask: "start"}); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{
		`data-dag-id="d&lt;x&gt;"`,
		`href="/dags/d%3Cx%3E/grid/manual__2024-01-01T00:00:00&#43;00:00/start"`,
		`class="cell state-success selected"`,
		`title="start: success, try 1, 00:01:00"`,
		`<span class="sr-only">success</span>`,
		`data-testid="toggle-g"`,
		`aria-expanded="true"`,
		`data-row="g.inner.b" data-groups="g g.inner"`,
		`href="/dags/d%3Cx%3E/grid?run_id=manual__2024-01-01T00%3a00%3a00%2b00%3a00"`,
		`class="run-bar state-success bar-10"`,
		`class="grid-task depth-2"`,
	} {
		if !strings.Contains(html, want) {
			t.Errorf("grid HTML lacks %s", want)
		}
	}
	if strings.Contains(html, "<x>") {
		t.Error("dag id not escaped")
	}
	// A task with no instance in the run gets an empty cell, not a link.
	if strings.Contains(html, "/g.c\"") {
		t.Error("link to a task instance that does not exist")
	}
}

// bigGrid is a DAG of n tasks in groups of 10, with runs runs and an
// instance of every task in each.
func bigGrid(n, runs int) (*windsock.DAG, []*windsock.DagRun, []*windsock.TaskInstance) {
	rng := rand.New(rand.NewPCG(1, 2))
	dag := &windsock.DAG{DagID: "big"}
	for i := range n {
		grp := fmt.Sprintf("group_%d", i/10)
		t := &windsock.Task{TaskID: fmt.Sprintf("%s.task_%d", grp, i), TaskGroup: grp, OperatorClass: "BashOperator"}
		if i > 0 {
			t.Upstream = []string{dag.Tasks[rng.IntN(i)].TaskID}
		}
		dag.Tasks = append(dag.Tasks, t)
		if i%10 == 0 {
			dag.TaskGroups = append(dag.TaskGroups, &windsock.TaskGroup{GroupID: grp})
		}
	}
	states := []windsock.TaskInstanceState{windsock.TaskStateSuccess, windsock.TaskStateFailed, windsock.TaskStateRunning, windsock.TaskStateNone, windsock.TaskStateSkipped}
	var rs []*windsock.DagRun
	var tis []*windsock.TaskInstance
	for r := range runs {
		ld := t0.Add(time.Duration(r) * time.Hour)
		run := &windsock.DagRun{DagID: "big", RunID: windsock.RunID(windsock.RunTypeScheduled, ld), LogicalDate: ld, State: windsock.DagRunSuccess, StartDate: &ld}
		rs = append(rs, run)
		for _, t := range dag.Tasks {
			end := ld.Add(time.Duration(rng.IntN(600)) * time.Second)
			tis = append(tis, &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "big", RunID: run.RunID, TaskID: t.TaskID, MapIndex: -1},
				State: states[rng.IntN(len(states))], TryNumber: 1, StartDate: &ld, EndDate: &end})
		}
	}
	return dag, rs, tis
}

func TestGrid25x500Fast(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("timing")
	}
	r, err := NewGridRenderer()
	if err != nil {
		t.Fatal(err)
	}
	dag, runs, tis := bigGrid(500, 25)
	var buf bytes.Buffer
	g := BuildGrid(dag, runs, tis, t0)
	if err := r.Render(&buf, g, GridOptions{}); err != nil {
		t.Fatal(err)
	}
	if len(g.Rows) != 550 || strings.Count(buf.String(), `class="cell state-`) != 25*550 {
		t.Errorf("rows = %d, cells = %d", len(g.Rows), strings.Count(buf.String(), `class="cell state-`))
	}
}

func BenchmarkGrid25x500(b *testing.B) {
	r, err := NewGridRenderer()
	if err != nil {
		b.Fatal(err)
	}
	dag, runs, tis := bigGrid(500, 25)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := r.Render(&buf, BuildGrid(dag, runs, tis, t0), GridOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1024, "KiB/op")
}

// TestBuildGridIndexRows: a mapped task's row carries one row per map index
// across runs (cells where a run has that index, named by the latest
// rendered_map_index), at most MaxIndexRows, the rest counted.
func TestBuildGridIndexRows(t *testing.T) {
	t.Parallel()
	d := &windsock.DAG{DagID: "grouped", Tasks: []*windsock.Task{{TaskID: "m"}}}
	runs := []*windsock.DagRun{{RunID: "r1", LogicalDate: t0}, {RunID: "r2", LogicalDate: t0.Add(time.Hour)}}
	mapped := func(run string, i int, state windsock.TaskInstanceState, name string) *windsock.TaskInstance {
		x := ti(run, "m", state, 1, nil, nil)
		x.MapIndex, x.RenderedMapIndex = i, name
		return x
	}
	tis := []*windsock.TaskInstance{
		mapped("r1", 0, windsock.TaskStateSuccess, "old"), mapped("r1", 1, windsock.TaskStateFailed, ""),
		mapped("r2", 0, windsock.TaskStateRunning, "new"),
	}
	row := BuildGrid(d, runs, tis, t0).Rows[0]
	if len(row.Indexes) != 2 || row.MoreIndexes != 0 {
		t.Fatalf("index rows %d (+%d), want 2", len(row.Indexes), row.MoreIndexes)
	}
	i0, i1 := row.Indexes[0], row.Indexes[1]
	if i0.Name != "new" || i0.Cells[0].State != windsock.TaskStateSuccess || i0.Cells[1].State != windsock.TaskStateRunning {
		t.Errorf("index 0 = %+v", i0)
	}
	if i1.Name != "" || i1.Cells[0].State != windsock.TaskStateFailed || i1.Cells[1].Exists {
		t.Errorf("index 1 = %+v (r2 has no index 1)", i1)
	}
	for i := range MaxIndexRows + 5 {
		tis = append(tis, mapped("r2", i+1, windsock.TaskStateSuccess, ""))
	}
	if row := BuildGrid(d, runs, tis, t0).Rows[0]; len(row.Indexes) != MaxIndexRows || row.MoreIndexes != 6 {
		t.Errorf("%d index rows (+%d), want %d (+6)", len(row.Indexes), row.MoreIndexes, MaxIndexRows)
	}
	if row := BuildGrid(d, runs, []*windsock.TaskInstance{ti("r1", "m", windsock.TaskStateSuccess, 1, nil, nil)}, t0).Rows[0]; row.Indexes != nil {
		t.Errorf("an unmapped task has index rows: %+v", row.Indexes)
	}
}
