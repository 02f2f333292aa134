package decide

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

func cand(dag, taskID string, weight int, pool string, slots int) Candidate {
	return Candidate{
		Key:            windsock.TaskInstanceKey{DagID: dag, TaskID: taskID, RunID: "r1", MapIndex: -1},
		LogicalDate:    time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC),
		PriorityWeight: weight, Pool: pool, PoolSlots: slots, MaxActiveTasks: 16,
	}
}

func taskIDs(keys []windsock.TaskInstanceKey) []string {
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.TaskID)
	}
	return ids
}

func TestQueueable(t *testing.T) {
	t.Parallel()
	early := cand("d", "early", 5, "p", 1)
	early.LogicalDate = early.LogicalDate.Add(-time.Hour)
	maxTasks := func(c Candidate, n int) Candidate { c.MaxActiveTasks = n; return c }
	perDag := func(c Candidate, n int) Candidate { c.MaxActiveTIsPerDag = n; return c }
	perRun := func(c Candidate, n int) Candidate { c.MaxActiveTIsPerDagrun = n; return c }
	tests := []struct {
		name    string
		cands   []Candidate
		lim     Limits
		want    []string
		starved map[string]string // task id -> substring of the reason
	}{
		{
			name:    "priority decides who gets the pool's slots",
			cands:   []Candidate{cand("d", "low", 1, "etl", 1), cand("d", "high", 9, "etl", 1), cand("d", "mid", 5, "etl", 1)},
			lim:     Limits{PoolOpen: map[string]int{"etl": 2}, PoolTotal: map[string]int{"etl": 4}, ParallelismOpen: 32},
			want:    []string{"high", "mid"},
			starved: map[string]string{"low": "pool etl has 0 of 4 slots open"},
		},
		{
			name:    "equal priority: older logical date first, then task id",
			cands:   []Candidate{cand("d", "b", 5, "p", 1), cand("d", "a", 5, "p", 1), early},
			lim:     Limits{PoolOpen: map[string]int{"p": 2}, ParallelismOpen: 32},
			want:    []string{"early", "a"},
			starved: map[string]string{"b": "pool p has 0 slots open"},
		},
		{
			name:  "a task needing more slots than open is passed over for a smaller one",
			cands: []Candidate{cand("d", "big", 9, "p", 3), cand("d", "small", 1, "p", 1), cand("d", "two", 5, "p", 2)},
			lim:   Limits{PoolOpen: map[string]int{"p": 2}, PoolTotal: map[string]int{"p": 4}, ParallelismOpen: 32},
			want:  []string{"two"},
			starved: map[string]string{
				"big":   "task needs 3 slots but pool p has 2 of 4 slots open",
				"small": "pool p has 0 of 4 slots open",
			},
		},
		{
			name:    "a task bigger than the whole pool",
			cands:   []Candidate{cand("d", "huge", 9, "p", 5), cand("d", "ok", 1, "p", 1)},
			lim:     Limits{PoolOpen: map[string]int{"p": 4}, PoolTotal: map[string]int{"p": 4}, ParallelismOpen: 32},
			want:    []string{"ok"},
			starved: map[string]string{"huge": "task needs 5 slots but pool p has only 4"},
		},
		{
			name:    "unknown pool",
			cands:   []Candidate{cand("d", "lost", 9, "nope", 1), cand("d", "ok", 1, "p", 1)},
			lim:     Limits{PoolOpen: map[string]int{"p": 4}, ParallelismOpen: 32},
			want:    []string{"ok"},
			starved: map[string]string{"lost": "pool nope does not exist"},
		},
		{
			name:    "parallelism",
			cands:   []Candidate{cand("d", "a", 3, "p", 1), cand("e", "b", 2, "p", 1), cand("f", "c", 1, "p", 1)},
			lim:     Limits{PoolOpen: map[string]int{"p": 100}, ParallelismOpen: 2},
			want:    []string{"a", "b"},
			starved: map[string]string{"c": "core.parallelism"},
		},
		{
			name:    "max_active_tasks counts instances already running",
			cands:   []Candidate{maxTasks(cand("d", "a", 3, "p", 1), 3), maxTasks(cand("d", "b", 2, "p", 1), 3), cand("e", "c", 1, "p", 1)},
			lim:     Limits{PoolOpen: map[string]int{"p": 100}, DagRunning: map[string]int{"d": 2}, ParallelismOpen: 32},
			want:    []string{"a", "c"},
			starved: map[string]string{"b": "dag d has 3 of max_active_tasks 3 running"},
		},
		{
			name: "max_active_tis_per_dag and per_dagrun",
			cands: []Candidate{
				perDag(cand("d", "t", 3, "p", 1), 1),
				perRun(cand("d", "u", 2, "p", 1), 1),
				{Key: windsock.TaskInstanceKey{DagID: "d", TaskID: "u", RunID: "r2", MapIndex: -1}, PriorityWeight: 1, Pool: "p", MaxActiveTIsPerDagrun: 1},
			},
			lim: Limits{
				PoolOpen: map[string]int{"p": 100}, ParallelismOpen: 32,
				TaskRunning:    map[TaskRef]int{{"d", "t"}: 1},
				RunTaskRunning: map[RunTaskRef]int{{"d", "r1", "u"}: 1},
			},
			want: []string{"u"}, // the r2 instance
			starved: map[string]string{
				"t": "max_active_tis_per_dag 1",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			openBefore := len(tt.lim.PoolOpen)
			q, starved := Queueable(tt.cands, tt.lim)
			if got := taskIDs(q); !slices.Equal(got, tt.want) {
				t.Errorf("queue = %v, want %v", got, tt.want)
			}
			for id, sub := range tt.starved {
				found := false
				for k, reason := range starved {
					if k.TaskID == id && k.RunID == "r1" {
						found = true
						if !strings.Contains(reason, sub) {
							t.Errorf("starved[%s] = %q, want it to say %q", id, reason, sub)
						}
					}
				}
				if !found {
					t.Errorf("%s not reported starved; starved = %v", id, starved)
				}
			}
			if len(starved)+len(q) != len(tt.cands) {
				t.Errorf("%d queued + %d starved != %d candidates", len(q), len(starved), len(tt.cands))
			}
			if len(tt.lim.PoolOpen) != openBefore {
				t.Error("Queueable changed the caller's map")
			}
		})
	}
}

func TestQueueableDoesNotModifyLimits(t *testing.T) {
	t.Parallel()
	lim := Limits{PoolOpen: map[string]int{"p": 2}, DagRunning: map[string]int{"d": 1}, ParallelismOpen: 5}
	Queueable([]Candidate{cand("d", "a", 1, "p", 1)}, lim)
	if lim.PoolOpen["p"] != 2 || lim.DagRunning["d"] != 1 {
		t.Errorf("limits changed: %+v", lim)
	}
}

func TestRunsToStart(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	run := func(dag string, d int) *windsock.DagRun {
		return &windsock.DagRun{DagID: dag, RunID: windsock.RunID(windsock.RunTypeScheduled, day(d)), LogicalDate: day(d), State: windsock.DagRunQueued}
	}
	queued := []*windsock.DagRun{run("a", 3), run("a", 1), run("a", 2), run("b", 5), run("b", 4), run("c", 1), run("gone", 1), nil}
	got := RunsToStart(queued, map[string]int{"a": 1, "b": 0, "c": 1}, map[string]int{"a": 3, "b": 1, "c": 1})
	var names []string
	for _, r := range got {
		names = append(names, r.DagID+"@"+r.LogicalDate.Format("02"))
	}
	want := []string{"a@01", "a@02", "b@04"}
	if !slices.Equal(names, want) {
		t.Errorf("RunsToStart = %v, want %v", names, want)
	}
}
