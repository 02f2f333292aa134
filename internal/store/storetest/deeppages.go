package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// testTaskInstanceQueryDeepPages: pages of TaskInstanceQuery in its
// default order, deep into a list of well over a thousand task instances
// (where a driver may start a page from a remembered key rather than an
// offset), are exactly the slices of the whole list, with and without a
// filter, and stay so after the list grows and shrinks between requests.
func testTaskInstanceQueryDeepPages(t *testing.T, open OpenFunc) {
	ctx, st := setup(t, open)
	tasks := make([]string, 30)
	for i := range tasks {
		tasks[i] = fmt.Sprintf("t%02d", i)
	}
	runs := 0
	addRuns := func(dagID string, n int) {
		for range n {
			runs++
			createRun(t, ctx, st, newRun(dagID, runs), tasks...)
		}
	}
	addRuns("b", 25)
	addRuns("a", 25) // 1,500 task instances

	keys := func(p store.TaskInstanceQueryParams) ([]string, int) {
		t.Helper()
		tis, total, err := st.TaskInstanceQuery(ctx, &p)
		mustNo(t, err)
		out := make([]string, len(tis))
		for i, ti := range tis {
			out[i] = ti.DagID + "/" + ti.RunID + "/" + ti.TaskID
		}
		return out, total
	}
	check := func(filter store.TaskInstanceQueryParams) {
		t.Helper()
		all, total := keys(filter)
		if len(all) != total {
			t.Fatalf("whole list: %d rows, total %d", len(all), total)
		}
		if !slices.IsSorted(all) {
			t.Fatal("whole list is not in key order")
		}
		for _, offset := range []int{0, 499, 500, 501, 999, 1000, 1234, total - 100, total - 1, total} {
			if offset < 0 {
				continue
			}
			p := filter
			p.Limit, p.Offset = 100, offset
			got, gotTotal := keys(p)
			want := all[min(offset, total):min(offset+100, total)]
			if gotTotal != total || !slices.Equal(got, want) {
				t.Fatalf("page at %d (filter %+v): %d rows from %v, want %d from %v (total %d, want %d)",
					offset, filter.DagIDs, len(got), first(got), len(want), first(want), gotTotal, total)
			}
		}
	}
	check(store.TaskInstanceQueryParams{})
	check(store.TaskInstanceQueryParams{DagIDs: []string{"a"}, OnlyDagIDs: true})
	// The list changes between requests: a new run sorts before the others.
	runs = 100
	createRun(t, ctx, st, newRun("a", 0), tasks...)
	check(store.TaskInstanceQueryParams{})
	mustNo(t, st.DagRunDelete(ctx, "b", newRun("b", 3).RunID))
	addRuns("c", 1)
	check(store.TaskInstanceQueryParams{})
	check(store.TaskInstanceQueryParams{States: []windsock.TaskInstanceState{windsock.TaskStateNone}})
}

func first(keys []string) string {
	if len(keys) == 0 {
		return "nothing"
	}
	return keys[0]
}
