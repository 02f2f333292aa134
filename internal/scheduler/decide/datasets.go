package decide

import (
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// DatasetsReady reports whether the events queued for a dataset-scheduled
// DAG (one per dataset updated since its last dataset-triggered run) meet
// its condition, as Airflow's DagModel.dags_needing_dagruns evaluates the
// dataset expression against dataset_dag_run_queue.
func DatasetsReady(cond *windsock.DatasetCondition, queued []*windsock.DatasetQueuedEvent) bool {
	if cond == nil || len(queued) == 0 {
		return false
	}
	updated := make(map[string]bool, len(queued))
	for _, q := range queued {
		updated[q.URI] = true
	}
	return cond.Evaluate(updated)
}

// DatasetRunPlan is the dataset-triggered run to create.
type DatasetRunPlan struct {
	// LogicalDate is the latest queued time of the consumed queue rows,
	// as in Airflow.
	LogicalDate time.Time
	// IntervalStart and IntervalEnd span the triggering events'
	// timestamps (the logical date when there are none).
	IntervalStart, IntervalEnd time.Time
	// EventIDs are the triggering events, linked to the run
	// (dagrun_dataset_event).
	EventIDs []int64
}

// DatasetRun plans a dataset-triggered run from the queue rows it
// consumes and the events since the DAG's previous dataset-triggered run
// up to the logical date. consumed must not be empty.
func DatasetRun(consumed []*windsock.DatasetQueuedEvent, events []*windsock.DatasetEvent) DatasetRunPlan {
	var p DatasetRunPlan
	for _, q := range consumed {
		if q.CreatedAt.After(p.LogicalDate) {
			p.LogicalDate = q.CreatedAt
		}
	}
	p.IntervalStart, p.IntervalEnd = p.LogicalDate, p.LogicalDate
	for i, e := range events {
		if i == 0 || e.Timestamp.Before(p.IntervalStart) {
			p.IntervalStart = e.Timestamp
		}
		if i == 0 || e.Timestamp.After(p.IntervalEnd) {
			p.IntervalEnd = e.Timestamp
		}
		p.EventIDs = append(p.EventIDs, e.ID)
	}
	return p
}
