package metrics_test

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// drivers opens a migrated store of each driver (PostgreSQL when the test
// server is set), closed when the test ends.
var drivers = map[string]func(tb testing.TB) store.Store{
	"sqlite": func(tb testing.TB) store.Store {
		st, err := sqlite.Open(tb.Context(), filepath.Join(tb.TempDir(), "windsock.db"))
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(tb.Context()); err != nil {
			tb.Fatal(err)
		}
		return st
	},
	"postgres": func(tb testing.TB) store.Store { return pgtest.Store(tb) },
}

// tries stores one run of DAG "d" whose task instances are in the given
// states, pools and pool slots.
func tries(tb testing.TB, st store.Store, tis ...windsock.TaskInstance) {
	tb.Helper()
	logical := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	run := &windsock.DagRun{DagID: "d", RunID: "manual__1", LogicalDate: logical, State: windsock.DagRunRunning, RunType: windsock.RunTypeManual}
	ptrs := make([]*windsock.TaskInstance, len(tis))
	for i := range tis {
		ti := tis[i]
		ti.TaskInstanceKey = windsock.TaskInstanceKey{DagID: "d", TaskID: fmt.Sprintf("t%d", i), RunID: run.RunID, MapIndex: -1}
		ti.MaxTries, ti.Queue, ti.PriorityWeight, ti.Operator = 1, "default", 1, "BashOperator"
		ptrs[i] = &ti
	}
	if err := st.DagRunCreate(tb.Context(), &store.DagRunCreateParams{Run: run, TaskInstances: ptrs}); err != nil {
		tb.Fatal(err)
	}
}

// TestEnvironmentGauges: each pool's gauges are its slots, as Airflow's
// scheduler reports pool.queued_slots and pool.running_slots (the
// pool_slots of its task instances summed) and pool.open_slots (its slots
// less those queued and running); the executor's gauges count task
// instances of every pool, those the pool table lacks too.
func TestEnvironmentGauges(t *testing.T) {
	t.Parallel()
	for name, open := range drivers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			ctx := context.Background()
			for _, p := range []*windsock.Pool{{Pool: "big", Slots: 10}, {Pool: "idle", Slots: 3}, {Pool: "any", Slots: -1}} {
				if err := st.PoolUpsert(ctx, p); err != nil {
					t.Fatal(err)
				}
			}
			q, r := windsock.TaskStateQueued, windsock.TaskStateRunning
			tries(t, st,
				windsock.TaskInstance{State: q, Pool: "big", PoolSlots: 3},
				windsock.TaskInstance{State: q, Pool: "big", PoolSlots: 1},
				windsock.TaskInstance{State: r, Pool: "big", PoolSlots: 2},
				windsock.TaskInstance{State: windsock.TaskStateScheduled, Pool: "big", PoolSlots: 5},
				windsock.TaskInstance{State: windsock.TaskStateSuccess, Pool: "big", PoolSlots: 5},
				windsock.TaskInstance{State: r, Pool: "any", PoolSlots: 4},
				windsock.TaskInstance{State: r, Pool: windsock.DefaultPoolName, PoolSlots: 1}, // not in the pool table either
				windsock.TaskInstance{State: q, Pool: "gone", PoolSlots: 1},                   // a pool since deleted
			)
			reg := prometheus.NewRegistry()
			reg.MustRegister(&metrics.Environment{Store: st, Parallelism: 32})
			want := map[string]float64{
				"airflow_executor_open_slots":                  26,
				"airflow_executor_queued_tasks":                3,
				"airflow_executor_running_tasks":               3,
				`airflow_pool_open_slots{pool_name="any"}`:     -1,
				`airflow_pool_open_slots{pool_name="big"}`:     4,
				`airflow_pool_open_slots{pool_name="idle"}`:    3,
				`airflow_pool_queued_slots{pool_name="any"}`:   0,
				`airflow_pool_queued_slots{pool_name="big"}`:   4,
				`airflow_pool_queued_slots{pool_name="idle"}`:  0,
				`airflow_pool_running_slots{pool_name="any"}`:  4,
				`airflow_pool_running_slots{pool_name="big"}`:  2,
				`airflow_pool_running_slots{pool_name="idle"}`: 0,
			}
			if got := gather(t, reg); !maps.Equal(got, want) {
				t.Errorf("gauges:\n%v\nwant\n%v", got, want)
			}
		})
	}
}

// gather returns every gauge of reg as name{label="value",...} -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			series := f.GetName()
			if len(labels) > 0 {
				series += "{" + strings.Join(labels, ",") + "}"
			}
			out[series] = m.GetGauge().GetValue()
		}
	}
	return out
}

// BenchmarkEnvironmentScrape reads the environment's gauges with 100
// pools, each with a queued and a running task instance.
func BenchmarkEnvironmentScrape(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			st := drivers[name](b)
			ctx := context.Background()
			var tis []windsock.TaskInstance
			for i := range 100 {
				pool := fmt.Sprintf("pool_%03d", i)
				if err := st.PoolUpsert(ctx, &windsock.Pool{Pool: pool, Slots: 8}); err != nil {
					b.Fatal(err)
				}
				tis = append(tis, windsock.TaskInstance{State: windsock.TaskStateQueued, Pool: pool, PoolSlots: 1},
					windsock.TaskInstance{State: windsock.TaskStateRunning, Pool: pool, PoolSlots: 1})
			}
			tries(b, st, tis...)
			reg := prometheus.NewRegistry()
			reg.MustRegister(&metrics.Environment{Store: st, Parallelism: 32})
			for b.Loop() {
				if _, err := reg.Gather(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
