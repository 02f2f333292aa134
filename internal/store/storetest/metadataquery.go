package storetest

import (
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// testMetadataQueries covers MetadataQueries: the event log filtered,
// ordered and paged with its total, one event by id, and pool usage by
// state.
func testMetadataQueries(t *testing.T, open OpenFunc) {
	t.Run("EventLogQuery", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		one, two := 1, 2
		events := []*windsock.EventLog{
			{Dttm: zoned(), DagID: "etl", Event: "trigger", Owner: "admin"},
			{Dttm: zoned().Add(2 * time.Second), DagID: "etl", TaskID: "load", MapIndex: &one, RunID: "r1",
				TryNumber: &two, Event: "clear", Owner: "op"},
			{Dttm: zoned().Add(time.Second), DagID: "other", Event: "trigger", Owner: "admin"},
			{Dttm: zoned().Add(3 * time.Second), Event: "cli_users_create"},
		}
		for _, e := range events {
			mustNo(t, st.EventLogInsert(ctx, e))
		}
		e := events
		before, after := zoned().Add(time.Second), zoned().Add(time.Second)
		tests := []struct {
			name   string
			params *store.EventLogQueryParams
			want   []int64
			total  int
		}{
			{"all by id", nil, []int64{e[0].ID, e[1].ID, e[2].ID, e[3].ID}, 4},
			{"dag", &store.EventLogQueryParams{DagID: "etl"}, []int64{e[0].ID, e[1].ID}, 2},
			{"task run map try", &store.EventLogQueryParams{TaskID: "load", RunID: "r1", MapIndex: &one, TryNumber: &two}, []int64{e[1].ID}, 1},
			{"wrong map index", &store.EventLogQueryParams{MapIndex: &two}, nil, 0},
			{"event and owner", &store.EventLogQueryParams{Event: "trigger", Owner: "admin"}, []int64{e[0].ID, e[2].ID}, 2},
			{"before inclusive", &store.EventLogQueryParams{Before: &before}, []int64{e[0].ID, e[2].ID}, 2},
			{"after inclusive", &store.EventLogQueryParams{After: &after}, []int64{e[1].ID, e[2].ID, e[3].ID}, 3},
			{"included", &store.EventLogQueryParams{IncludedEvents: []string{"clear", "cli_users_create"}}, []int64{e[1].ID, e[3].ID}, 2},
			{"excluded", &store.EventLogQueryParams{ExcludedEvents: []string{"trigger"}}, []int64{e[1].ID, e[3].ID}, 2},
			{"restricted to etl", &store.EventLogQueryParams{RestrictDAGs: true, DagIDs: []string{"etl"}}, []int64{e[0].ID, e[1].ID, e[3].ID}, 3},
			{"restricted to none", &store.EventLogQueryParams{RestrictDAGs: true}, []int64{e[3].ID}, 1},
			{"order when desc", &store.EventLogQueryParams{OrderBy: "-when"}, []int64{e[3].ID, e[1].ID, e[2].ID, e[0].ID}, 4},
			{"order dag nulls last", &store.EventLogQueryParams{OrderBy: "dag_id"}, []int64{e[0].ID, e[1].ID, e[2].ID, e[3].ID}, 4},
			{"page", &store.EventLogQueryParams{OrderBy: "-event_log_id", Limit: 2, Offset: 1}, []int64{e[2].ID, e[1].ID}, 4},
			{"offset past the end", &store.EventLogQueryParams{Offset: 10}, nil, 4},
		}
		for _, tt := range tests {
			got, total, err := st.EventLogQuery(ctx, tt.params)
			mustNo(t, err)
			ids := make([]int64, 0, len(got))
			for _, g := range got {
				ids = append(ids, g.ID)
			}
			if !slices.Equal(ids, tt.want) && !(len(ids) == 0 && len(tt.want) == 0) || total != tt.total {
				t.Errorf("%s: ids %v total %d, want %v total %d", tt.name, ids, total, tt.want, tt.total)
			}
		}
		if _, _, err := st.EventLogQuery(ctx, &store.EventLogQueryParams{OrderBy: "colour"}); windsock.ErrorCode(err) != windsock.EINVALID {
			t.Errorf("order by an unknown field: %v, want EINVALID", err)
		}

		got, err := st.EventLogGet(ctx, e[1].ID)
		mustNo(t, err)
		if got.TaskID != "load" || got.RunID != "r1" || *got.MapIndex != 1 || *got.TryNumber != 2 || !got.Dttm.Equal(e[1].Dttm) {
			t.Errorf("EventLogGet = %+v", got)
		}
		if _, err := st.EventLogGet(ctx, e[3].ID+100); windsock.ErrorCode(err) != windsock.ENOTFOUND {
			t.Errorf("EventLogGet of a missing id: %v, want ENOTFOUND", err)
		}
	})

	t.Run("PoolUsage", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		mustNo(t, st.PoolUpsert(ctx, &windsock.Pool{Pool: "big", Slots: 10}))
		tis := createRun(t, ctx, st, newRun("etl", 1), "a", "b", "c", "d", "e", "f", "g", "h")
		set := func(ti *windsock.TaskInstance, state windsock.TaskInstanceState, pool string, slots int) {
			ti.State, ti.Pool, ti.PoolSlots = state, pool, slots
			_, err := st.TaskInstanceUpdate(ctx, ti)
			mustNo(t, err)
		}
		set(tis[0], windsock.TaskStateRunning, "default_pool", 2)
		set(tis[1], windsock.TaskStateRunning, "default_pool", 1)
		set(tis[2], windsock.TaskStateQueued, "big", 3)
		set(tis[3], windsock.TaskStateQueued, "big", 1)
		set(tis[4], windsock.TaskStateDeferred, "big", 4)
		set(tis[5], windsock.TaskStateSuccess, "big", 5)
		set(tis[6], windsock.TaskStateQueued, "gone", 2) // a pool the table lacks
		set(tis[7], windsock.TaskStateScheduled, "big", 1)
		got, err := st.PoolUsage(ctx)
		mustNo(t, err)
		want := map[string]map[windsock.TaskInstanceState]store.PoolUse{
			"default_pool": {windsock.TaskStateRunning: {Tasks: 2, Slots: 3}},
			"big": {windsock.TaskStateQueued: {Tasks: 2, Slots: 4}, windsock.TaskStateDeferred: {Tasks: 1, Slots: 4},
				windsock.TaskStateScheduled: {Tasks: 1, Slots: 1}},
			"gone": {windsock.TaskStateQueued: {Tasks: 1, Slots: 2}},
		}
		if !maps.EqualFunc(got, want, maps.Equal) {
			t.Errorf("PoolUsage = %v, want %v", got, want)
		}
		slots, err := st.PoolSlotsByState(ctx)
		mustNo(t, err)
		wantSlots := map[string]map[windsock.TaskInstanceState]int{
			"default_pool": {windsock.TaskStateRunning: 3},
			"big":          {windsock.TaskStateQueued: 4, windsock.TaskStateDeferred: 4, windsock.TaskStateScheduled: 1},
			"gone":         {windsock.TaskStateQueued: 2},
		}
		if !maps.EqualFunc(slots, wantSlots, maps.Equal) {
			t.Errorf("PoolSlotsByState = %v, want %v", slots, wantSlots)
		}
	})
}
