package storetest

import (
	"context"
	"maps"
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// testDAGSummaryQueries covers DAGSummaryQueries: run counts by state,
// latest runs, the latest run's task states and DAGs by latest run state.
func testDAGSummaryQueries(t *testing.T, open OpenFunc) {
	t.Parallel()
	ctx, st := setup(t, open)
	// etl: day 1 success, day 3 failed (latest), day 2 success: the latest
	// is by logical date, not by creation order.
	// report: day 1 failed, day 2 running (latest).
	// idle: no runs.
	add := func(dagID string, n int, state windsock.DagRunState, tiStates ...windsock.TaskInstanceState) {
		r := newRun(dagID, n)
		r.State = state
		createRunInStates(t, st, r, tiStates...)
	}
	add("etl", 1, windsock.DagRunSuccess, windsock.TaskStateSuccess, windsock.TaskStateSuccess)
	add("etl", 3, windsock.DagRunFailed, windsock.TaskStateSuccess, windsock.TaskStateFailed, windsock.TaskStateUpstreamFailed, windsock.TaskStateUpstreamFailed)
	add("etl", 2, windsock.DagRunSuccess, windsock.TaskStateSuccess)
	add("report", 1, windsock.DagRunFailed, windsock.TaskStateFailed)
	add("report", 2, windsock.DagRunRunning, windsock.TaskStateRunning, windsock.TaskStateNone)
	add("other", 1, windsock.DagRunFailed, windsock.TaskStateFailed)

	counts, err := st.DagRunStateCounts(ctx, []string{"etl", "report", "idle"})
	mustNo(t, err)
	wantCounts := map[string]map[windsock.DagRunState]int{
		"etl":    {windsock.DagRunSuccess: 2, windsock.DagRunFailed: 1},
		"report": {windsock.DagRunFailed: 1, windsock.DagRunRunning: 1},
	}
	if !equalNested(counts, wantCounts) {
		t.Errorf("DagRunStateCounts = %v, want %v", counts, wantCounts)
	}

	latest, err := st.DagRunLatest(ctx, []string{"etl", "report", "idle"})
	mustNo(t, err)
	if len(latest) != 2 || latest["etl"] == nil || !latest["etl"].LogicalDate.Equal(day(3)) ||
		latest["etl"].State != windsock.DagRunFailed || latest["report"] == nil || !latest["report"].LogicalDate.Equal(day(2)) {
		t.Errorf("DagRunLatest = %v", latest)
	}

	tiCounts, err := st.TaskInstanceStateCountsLatest(ctx, []string{"etl", "report", "idle"})
	mustNo(t, err)
	wantTI := map[string]map[windsock.TaskInstanceState]int{
		"etl":    {windsock.TaskStateSuccess: 1, windsock.TaskStateFailed: 1, windsock.TaskStateUpstreamFailed: 2},
		"report": {windsock.TaskStateRunning: 1, windsock.TaskStateNone: 1},
	}
	if !equalNested(tiCounts, wantTI) {
		t.Errorf("TaskInstanceStateCountsLatest = %v, want %v", tiCounts, wantTI)
	}

	failed, err := st.DAGIDsByLatestRunState(ctx, windsock.DagRunFailed)
	mustNo(t, err)
	if want := []string{"etl", "other"}; !slices.Equal(failed, want) {
		t.Errorf("DAGIDsByLatestRunState(failed) = %v, want %v", failed, want)
	}

	// Many ids at once: more than one IN list.
	many := make([]string, 1200)
	for i := range many {
		many[i] = "none_" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + string(rune('a'+i/676))
	}
	many = append(many, "report")
	counts, err = st.DagRunStateCounts(ctx, many)
	mustNo(t, err)
	if len(counts) != 1 || counts["report"][windsock.DagRunRunning] != 1 {
		t.Errorf("DagRunStateCounts over many ids = %v", counts)
	}
	empty, err := st.DagRunLatest(context.WithoutCancel(ctx), nil)
	mustNo(t, err)
	if len(empty) != 0 {
		t.Errorf("DagRunLatest(nil) = %v, want nothing", empty)
	}
}

func equalNested[K comparable, S comparable](a, b map[K]map[S]int) bool {
	return maps.EqualFunc(a, b, func(x, y map[S]int) bool { return maps.Equal(x, y) })
}

// createRunInStates stores r with one task instance per state, named a,
// b, c... in order.
func createRunInStates(t *testing.T, st store.Store, r *windsock.DagRun, tiStates ...windsock.TaskInstanceState) {
	t.Helper()
	ids := make([]string, len(tiStates))
	for i := range tiStates {
		ids[i] = string(rune('a' + i))
	}
	tis := newTIs(r, ids...)
	for i, s := range tiStates {
		tis[i].State = s
	}
	mustNo(t, st.DagRunCreate(t.Context(), &store.DagRunCreateParams{Run: r, TaskInstances: tis}))
}
