package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// BenchmarkDAGsPage5000 renders the first page of the DAGs list over
// 5,000 DAGs with 3 runs of 5 task instances each, as an Admin, calling
// the handler directly: the figure is the server's own time. The target
// is under 100 ms and 300 KB per page.
func BenchmarkDAGsPage5000(b *testing.B) {
	u := newBenchUI(b)
	ctx, st := b.Context(), u.st
	now := time.Now()
	states := []windsock.DagRunState{windsock.DagRunSuccess, windsock.DagRunFailed, windsock.DagRunRunning}
	tiStates := []windsock.TaskInstanceState{windsock.TaskStateSuccess, windsock.TaskStateSuccess,
		windsock.TaskStateRunning, windsock.TaskStateNone, windsock.TaskStateFailed}
	const dags = 5000
	for start := 0; start < dags; start += 500 {
		err := st.InTx(ctx, func(q store.Queries) error {
			for i := start; i < start+500; i++ {
				id := fmt.Sprintf("dag_%05d", i)
				if err := q.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: id, Fileloc: "/dags/" + id + ".yaml",
					Owners: "airflow", ScheduleInterval: `"@daily"`, TimetableDescription: "At 00:00",
					Tags: []string{"team_" + fmt.Sprint(i%10), "bench"}, LastParsedTime: now, NextDagrun: &now}); err != nil {
					return err
				}
				for n := 1; n <= 3; n++ {
					run, tis := newRun(id, n, states[(i+n)%3], tiStates...)
					if err := q.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if size := u.serve("/"); size > 300<<10 {
		b.Errorf("page is %d bytes, over 300 KB", size)
	}
}
