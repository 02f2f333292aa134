package storetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// testRunCounts covers the grouped counts a dashboard reads in one query
// each (runs by start period and state, task instances by state) and the
// one-column reads of charts (TaskInstanceMeasures).
func testRunCounts(t *testing.T, open OpenFunc) {
	ctx, st := setup(t, open)
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	add := func(dagID string, n int, started *time.Time, state windsock.DagRunState, tiStates ...windsock.TaskInstanceState) {
		r := newRun(dagID, n)
		r.State, r.StartDate = state, started
		createRunInStates(t, st, r, tiStates...)
	}
	add("etl", 1, ptr(t0.Add(time.Hour)), windsock.DagRunSuccess, windsock.TaskStateSuccess, windsock.TaskStateSuccess)
	add("etl", 2, ptr(t0.Add(25*time.Hour)), windsock.DagRunFailed, windsock.TaskStateFailed, windsock.TaskStateNone)
	add("etl", 3, ptr(t0.Add(47*time.Hour)), windsock.DagRunSuccess, windsock.TaskStateSuccess)
	add("report", 1, ptr(t0), windsock.DagRunRunning, windsock.TaskStateRunning)
	add("report", 2, ptr(t0.Add(-time.Second)), windsock.DagRunFailed)   // before the first period
	add("report", 3, ptr(t0.Add(48*time.Hour)), windsock.DagRunFailed)   // the last bound is excluded
	add("report", 4, nil, windsock.DagRunQueued, windsock.TaskStateNone) // not started

	bounds := []time.Time{t0, t0.Add(24 * time.Hour), t0.Add(48 * time.Hour)}
	check := func(p *store.DagRunPeriodCountParams, want []map[windsock.DagRunState]int) {
		t.Helper()
		got, err := st.DagRunCountsByPeriod(ctx, p)
		mustNo(t, err)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DagRunCountsByPeriod(%+v) = %v, want %v", p, got, want)
		}
	}
	check(&store.DagRunPeriodCountParams{Bounds: bounds}, []map[windsock.DagRunState]int{
		{windsock.DagRunSuccess: 1, windsock.DagRunRunning: 1},
		{windsock.DagRunFailed: 1, windsock.DagRunSuccess: 1},
	})
	check(&store.DagRunPeriodCountParams{Bounds: bounds, DagIDs: []string{"etl"}, OnlyDagIDs: true}, []map[windsock.DagRunState]int{
		{windsock.DagRunSuccess: 1},
		{windsock.DagRunFailed: 1, windsock.DagRunSuccess: 1},
	})
	check(&store.DagRunPeriodCountParams{Bounds: bounds, OnlyDagIDs: true}, []map[windsock.DagRunState]int{{}, {}})
	if _, err := st.DagRunCountsByPeriod(ctx, &store.DagRunPeriodCountParams{Bounds: bounds[:1]}); windsock.ErrorCode(err) != windsock.EINVALID {
		t.Errorf("one bound: err = %v, want EINVALID", err)
	}

	counts, err := st.TaskInstanceStateCounts(ctx, &store.TaskInstanceQueryParams{})
	mustNo(t, err)
	want := map[windsock.TaskInstanceState]int{windsock.TaskStateSuccess: 3, windsock.TaskStateFailed: 1,
		windsock.TaskStateRunning: 1, windsock.TaskStateNone: 2}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("TaskInstanceStateCounts() = %v, want %v", counts, want)
	}
	counts, err = st.TaskInstanceStateCounts(ctx, &store.TaskInstanceQueryParams{DagIDs: []string{"etl"}, OnlyDagIDs: true,
		States: []windsock.TaskInstanceState{windsock.TaskStateSuccess, windsock.TaskStateNone}})
	mustNo(t, err)
	want = map[windsock.TaskInstanceState]int{windsock.TaskStateSuccess: 3, windsock.TaskStateNone: 1}
	if !reflect.DeepEqual(counts, want) {
		t.Errorf("TaskInstanceStateCounts(etl; success, none) = %v, want %v", counts, want)
	}
	counts, err = st.TaskInstanceStateCounts(ctx, &store.TaskInstanceQueryParams{OnlyDagIDs: true})
	mustNo(t, err)
	if len(counts) != 0 {
		t.Errorf("TaskInstanceStateCounts(no DAG) = %v, want none", counts)
	}

	testTaskInstanceMeasures(t, st)
}

func testTaskInstanceMeasures(t *testing.T, st store.Store) {
	ctx := t.Context()
	r := newRun("charts", 1)
	r.State = windsock.DagRunSuccess
	tis := newTIs(r, "timed", "untimed", "never", "running")
	start := time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)
	end := start.Add(90 * time.Second)
	tis[0].TryNumber, tis[0].StartDate, tis[0].EndDate, tis[0].Duration = 2, &start, &end, ptr(90.0)
	tis[1].TryNumber, tis[1].StartDate, tis[1].EndDate = 1, &start, ptr(start.Add(30*time.Second)) // no duration recorded
	tis[3].TryNumber, tis[3].StartDate = 1, &start
	mustNo(t, st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: r, TaskInstances: tis}))
	other := newRun("charts", 2)
	otherTIs := newTIs(other, "timed")
	otherTIs[0].TryNumber, otherTIs[0].Duration = 1, ptr(5.0)
	mustNo(t, st.DagRunCreate(ctx, &store.DagRunCreateParams{Run: other, TaskInstances: otherTIs}))

	read := func(m store.Measure) map[string]float64 {
		t.Helper()
		ms, err := st.TaskInstanceMeasures(ctx, &store.TaskInstanceMeasureParams{DagID: "charts", RunIDs: []string{r.RunID}, Measure: m})
		mustNo(t, err)
		out := map[string]float64{}
		for _, x := range ms {
			if x.RunID != r.RunID || x.MapIndex != -1 {
				t.Errorf("measure %d: row %+v is not of run %s", m, x, r.RunID)
			}
			out[x.TaskID] = x.Value
		}
		return out
	}
	if got, want := read(store.MeasureDuration), map[string]float64{"timed": 90, "untimed": 30}; !reflect.DeepEqual(got, want) {
		t.Errorf("durations = %v, want %v", got, want)
	}
	if got, want := read(store.MeasureTries), map[string]float64{"timed": 2, "untimed": 1, "running": 1}; !reflect.DeepEqual(got, want) {
		t.Errorf("tries = %v, want %v", got, want)
	}
	endAt := float64(end.Unix())
	if got, want := read(store.MeasureEndDate), map[string]float64{"timed": endAt, "untimed": endAt - 60}; !reflect.DeepEqual(got, want) {
		t.Errorf("end dates = %v, want %v", got, want)
	}
	if ms, err := st.TaskInstanceMeasures(ctx, &store.TaskInstanceMeasureParams{DagID: "charts", Measure: store.MeasureTries}); err != nil || len(ms) != 0 {
		t.Errorf("no runs: %v, %v; want nothing", ms, err)
	}
}
