package scheduler

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// mappedRun stores, in a fresh SQLite store, a DAG whose task m is mapped
// over the XCom of make, and a running run in which make succeeded
// pushing a list of n elements: the next pass expands m.
func mappedRun(tb testing.TB, n int) (store.Store, *windsock.DagRun) {
	tb.Helper()
	st := freshStore(tb)
	return st, mappedRunIn(tb, st, n, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
}

// mappedRunIn is mappedRun in a given (migrated) store, for the run of
// one logical date.
func mappedRunIn(tb testing.TB, st store.Store, n int, logical time.Time) *windsock.DagRun {
	tb.Helper()
	ctx := context.Background()
	if err := st.PoolUpsert(ctx, &windsock.Pool{Pool: windsock.DefaultPoolName, Slots: 128}); err != nil {
		tb.Fatal(err)
	}
	task := func(id string, up ...string) *windsock.Task {
		return &windsock.Task{TaskID: id, Operator: "bash", OperatorClass: "BashOperator", TriggerRule: windsock.TriggerAllSuccess,
			Upstream: up, Pool: windsock.DefaultPoolName, PoolSlots: 1, PriorityWeight: 1, WeightRule: windsock.WeightDownstream, Queue: "default"}
	}
	m := task("m", "make")
	m.Expand = &windsock.Expand{Kind: windsock.ExpandDictOfLists, Args: []windsock.ExpandArg{{Name: "bash_command",
		MapSource: windsock.MapSource{XCom: &windsock.XComArg{TaskID: "make", Key: windsock.XComReturnKey}}}}}
	d := &windsock.DAG{DagID: "fan", Fileloc: "/dags/fan.yaml", Owners: []string{"airflow"}, Timezone: "UTC",
		Schedule: windsock.Schedule{Kind: windsock.ScheduleNone}, MaxActiveRuns: 16, MaxActiveTasks: 16,
		Tasks: []*windsock.Task{task("make"), m, task("reduce", "m")}}
	data, err := json.Marshal(d)
	if err != nil {
		tb.Fatal(err)
	}
	if err := st.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: d.DagID, Fileloc: d.Fileloc, MaxActiveTasks: 16, MaxActiveRuns: 16, LastParsedTime: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	if _, err := st.SerializedDAGUpsert(ctx, &windsock.SerializedDAG{DagID: d.DagID, Fileloc: d.Fileloc, Data: data, DagHash: "h", LastUpdated: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	run, err := CreateRun(ctx, st, d, decide.NewGraph(d), NewRun{LogicalDate: logical, State: windsock.DagRunRunning, Now: time.Now()})
	if err != nil {
		tb.Fatal(err)
	}
	ti, err := st.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: "fan", TaskID: "make", RunID: run.RunID, MapIndex: -1})
	if err != nil {
		tb.Fatal(err)
	}
	ti.State, ti.TryNumber = windsock.TaskStateSuccess, 1
	if _, err := st.TaskInstanceUpdate(ctx, ti); err != nil {
		tb.Fatal(err)
	}
	items := make([]string, n)
	for i := range items {
		items[i] = fmt.Sprintf(`"echo %d"`, i)
	}
	if err := st.XComSet(ctx, &windsock.XCom{DagRunID: run.ID, TaskID: "make", MapIndex: -1, Key: windsock.XComReturnKey,
		DagID: "fan", RunID: run.RunID, Value: []byte("[" + strings.Join(items, ",") + "]"), Timestamp: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	return run
}

// TestExpandTwoSchedulersPostgres: two schedulers sharing PostgreSQL that
// both take themselves for the owner of the same runs (as during a change
// of the live set) and expand the same mapped task at the same moment
// leave exactly one set of map indexes 0..n-1 per run: no index twice, no
// unexpanded instance left beside them, whatever the interleaving.
func TestExpandTwoSchedulersPostgres(t *testing.T) {
	t.Parallel()
	stores := sharedPostgres(t, 2)
	ctx := context.Background()
	const runs, n = 12, 40
	var all []*windsock.DagRun
	for i := range runs {
		all = append(all, mappedRunIn(t, stores[0], n, time.Date(2024, 1, 1+i, 0, 0, 0, 0, time.UTC)))
	}
	var scheds []*Scheduler
	for _, st := range stores {
		// Not started: with no live set each owns every run.
		s, err := New(Config{Store: st, Executor: nopExecutor{}, Shared: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, run := range all {
			s.RunChanged(run.DagID, run.RunID)
		}
		scheds = append(scheds, s)
	}
	start := make(chan struct{})
	errs := make(chan error, 2*4)
	var wg sync.WaitGroup
	for _, s := range scheds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for range 4 {
				for _, run := range all {
					s.RunChanged(run.DagID, run.RunID)
				}
				if err := s.Pass(ctx, false); err != nil {
					errs <- err
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		// The loser of a race sees the instances changed and reads the
		// run again; it does not fail.
		t.Errorf("pass: %v", err)
	}
	for _, run := range all {
		tis, err := stores[0].TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID, TaskIDs: []string{"m"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(tis) != n {
			t.Errorf("%s: %d instances of m, want %d", run.RunID, len(tis), n)
		}
		for i, ti := range tis {
			if ti.MapIndex != i || ti.TryNumber > 1 {
				t.Errorf("%s: instance %d has map index %d, try %d", run.RunID, i, ti.MapIndex, ti.TryNumber)
				break
			}
		}
	}
}

// expandPass runs the scheduling pass that expands m and checks it made n
// scheduled or queued instances.
func expandPass(tb testing.TB, st store.Store, run *windsock.DagRun, n int) {
	tb.Helper()
	ctx := context.Background()
	s, err := New(Config{Store: st, Executor: nopExecutor{}})
	if err != nil {
		tb.Fatal(err)
	}
	s.RunChanged(run.DagID, run.RunID)
	if err := s.Pass(ctx, false); err != nil {
		tb.Fatal(err)
	}
	tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID, TaskIDs: []string{"m"},
		States: []windsock.TaskInstanceState{windsock.TaskStateScheduled, windsock.TaskStateQueued}})
	if err != nil {
		tb.Fatal(err)
	}
	if len(tis) != n || tis[0].MapIndex != 0 || tis[n-1].MapIndex != n-1 {
		tb.Fatalf("expanded into %d scheduled instances, want %d", len(tis), n)
	}
}

// TestExpandFromXCom: one pass after the upstream succeeded expands the
// mapped task into scheduled instances 0..n-1.
func TestExpandFromXCom(t *testing.T) {
	t.Parallel()
	st, run := mappedRun(t, 50)
	expandPass(t, st, run, 50)
}

// BenchmarkExpand10000 is the scheduling pass that expands a task mapped
// over an upstream's 10,000-element list into its task instances and
// schedules them (target: under 1 s).
func BenchmarkExpand10000(b *testing.B) {
	for range b.N {
		b.StopTimer()
		st, run := mappedRun(b, 10000)
		b.StartTimer()
		expandPass(b, st, run, 10000)
	}
}

// TestMappedTaskNoLongerMapped: when a new version of the DAG no longer
// maps the task, a running run removes its unfinished instances and runs
// it once, unmapped, as Airflow's verify_integrity does.
func TestMappedTaskNoLongerMapped(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, run := mappedRun(t, 3)
	expandPass(t, st, run, 3)
	sd, err := st.SerializedDAGGet(ctx, "fan")
	if err != nil {
		t.Fatal(err)
	}
	var d windsock.DAG
	if err := windsock.DecodeJSON(sd.Data, &d); err != nil {
		t.Fatal(err)
	}
	d.Task("m").Expand = nil
	data, err := json.Marshal(&d)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.SerializedDAGUpsert(ctx, &windsock.SerializedDAG{DagID: "fan", Fileloc: d.Fileloc, Data: data, DagHash: "h2", LastUpdated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Store: st, Executor: nopExecutor{}})
	if err != nil {
		t.Fatal(err)
	}
	s.RunChanged(run.DagID, run.RunID)
	if err := s.Pass(ctx, false); err != nil {
		t.Fatal(err)
	}
	tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "fan", RunID: run.RunID, TaskIDs: []string{"m"}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ti := range tis {
		got = append(got, fmt.Sprintf("%d:%s", ti.MapIndex, ti.State))
	}
	if strings.Join(got, " ") != "-1:queued 0:removed 1:removed 2:removed" && strings.Join(got, " ") != "-1:scheduled 0:removed 1:removed 2:removed" {
		t.Errorf("instances of m = %v", got)
	}
}
