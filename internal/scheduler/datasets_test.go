package scheduler

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/windsock"
)

// nopExecutor takes queued task instances and runs nothing: these tests
// are about creating runs.
type nopExecutor struct{}

func (nopExecutor) Submit([]windsock.TaskInstanceKey) {}

// sharedPostgres returns n stores on one fresh PostgreSQL schema, as n
// processes would have, the first migrated.
func sharedPostgres(t testing.TB, n int) []store.Store {
	t.Helper()
	ctx := context.Background()
	u := pgtest.FreshSchemaURL(t)
	var out []store.Store
	for i := range n {
		st, err := postgres.Open(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if i == 0 {
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, st)
	}
	return out
}

// storeConsumer stores an unpaused DAG scheduled on cond, as the DAG
// processor would.
func storeConsumer(t testing.TB, st store.Store, dagID string, cond *windsock.DatasetCondition) {
	t.Helper()
	ctx := context.Background()
	d := &windsock.DAG{
		DagID: dagID, Fileloc: "/dags/" + dagID + ".yaml", Owners: []string{"airflow"}, Timezone: "UTC",
		Schedule:      windsock.Schedule{Kind: windsock.ScheduleDatasets, Expr: "Dataset", Datasets: cond},
		MaxActiveRuns: 100, MaxActiveTasks: 16,
		Tasks: []*windsock.Task{{TaskID: "t", Operator: "bash", OperatorClass: "BashOperator", TriggerRule: windsock.TriggerAllSuccess,
			Pool: windsock.DefaultPoolName, PoolSlots: 1, PriorityWeight: 1, WeightRule: windsock.WeightDownstream, Queue: "default"}},
	}
	data, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	err = st.InTx(ctx, func(q store.Queries) error {
		if err := q.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: dagID, Fileloc: d.Fileloc, MaxActiveTasks: 16, MaxActiveRuns: 100, LastParsedTime: time.Now()}); err != nil {
			return err
		}
		if _, err := q.SerializedDAGUpsert(ctx, &windsock.SerializedDAG{DagID: dagID, Fileloc: d.Fileloc, Data: data, DagHash: "h1", LastUpdated: time.Now()}); err != nil {
			return err
		}
		return q.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{DagID: dagID, Schedule: cond})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func recordEvents(t *testing.T, st store.Store, uris ...string) {
	t.Helper()
	ctx := context.Background()
	for _, uri := range uris {
		if err := st.InTx(ctx, func(q store.Queries) error {
			_, err := RecordDatasetEvent(ctx, q, &store.DatasetEventCreateParams{URI: uri, SourceMapIndex: -1})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}

func countRuns(t *testing.T, st store.Store, dagID string) int {
	t.Helper()
	runs, err := st.DagRunList(context.Background(), &store.DagRunListParams{DagID: dagID, RunTypes: []windsock.RunType{windsock.RunTypeDatasetTriggered}})
	if err != nil {
		t.Fatal(err)
	}
	return len(runs)
}

// TestDatasetRunsExactlyOnceAcrossSchedulers has several schedulers, each
// with its own connections to one PostgreSQL database, look at a consumer
// at the same moment, again and again: each time its condition is met,
// exactly one of them creates the run.
func TestDatasetRunsExactlyOnceAcrossSchedulers(t *testing.T) {
	t.Parallel()
	const schedulers, rounds = 4, 15
	stores := sharedPostgres(t, schedulers)
	storeConsumer(t, stores[0], "consumer", windsock.DatasetAll(windsock.DatasetURI("s3://a"), windsock.DatasetURI("s3://b")))
	var scheds []*Scheduler
	for _, st := range stores {
		s, err := New(Config{Store: st, Executor: nopExecutor{}, Shared: true})
		if err != nil {
			t.Fatal(err)
		}
		scheds = append(scheds, s)
	}
	// race has every scheduler look at the consumer at once and returns
	// how many runs they created.
	race := func() int {
		start := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		created := 0
		for _, s := range scheds {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				run, err := s.createDatasetRun(context.Background(), "consumer", time.Now())
				if err != nil {
					t.Error(err)
				}
				if run != nil {
					mu.Lock()
					created++
					mu.Unlock()
				}
			}()
		}
		close(start)
		wg.Wait()
		return created
	}
	for r := range rounds {
		recordEvents(t, stores[r%schedulers], "s3://a")
		if n := race(); n != 0 {
			t.Fatalf("round %d: %d runs after s3://a alone, want none", r, n)
		}
		recordEvents(t, stores[(r+1)%schedulers], "s3://b")
		if n := race(); n != 1 {
			t.Fatalf("round %d: %d runs created once both datasets were updated, want exactly 1", r, n)
		}
		if n := countRuns(t, stores[0], "consumer"); n != r+1 {
			t.Fatalf("round %d: consumer has %d runs, want %d", r, n, r+1)
		}
	}
}

// TestDatasetRunsEventDrivenAcrossSchedulers runs two started schedulers
// on PostgreSQL: an event recorded through a third connection wakes them
// (LISTEN/NOTIFY) and one consumer run per event is created.
func TestDatasetRunsEventDrivenAcrossSchedulers(t *testing.T) {
	t.Parallel()
	const rounds = 5
	stores := sharedPostgres(t, 3)
	storeConsumer(t, stores[0], "consumer", windsock.DatasetURI("s3://a"))
	var scheds []*Scheduler
	for _, st := range stores[:2] {
		// A long safety-net interval: the runs must come from the
		// notifications.
		s, err := New(Config{Store: st, Executor: nopExecutor{}, Shared: true, Interval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Stop)
		scheds = append(scheds, s)
	}
	for r := range rounds {
		recordEvents(t, stores[2], "s3://a")
		// The schedulers cannot signal the test: it watches the store.
		deadline := time.Now().Add(30 * time.Second)
		tick := time.NewTicker(5 * time.Millisecond)
		for countRuns(t, stores[2], "consumer") < r+1 {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: no consumer run within 30 s of the event", r)
			}
			<-tick.C
		}
		tick.Stop()
	}
	for _, s := range scheds {
		s.Stop()
	}
	if n := countRuns(t, stores[2], "consumer"); n != rounds {
		t.Fatalf("consumer has %d runs after %d events, want exactly one each", n, rounds)
	}
}
