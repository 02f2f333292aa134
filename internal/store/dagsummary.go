package store

import (
	"context"

	"github.com/windsock/windsock/internal/windsock"
)

// DAGSummaryQueries are the reads a list of DAGs shows beside each DAG,
// made for a whole page of DAGs in one query each rather than one query
// per DAG: run counts by state, the latest run and its task instances'
// states, and which DAGs' latest run is in a given state. A DAG's latest
// run is the one with the greatest logical date. They are part of Queries.
type DAGSummaryQueries interface {
	// DagRunStateCounts returns dag_id -> run state -> number of runs, for
	// the given DAGs. DAGs without runs are absent.
	DagRunStateCounts(ctx context.Context, dagIDs []string) (map[string]map[windsock.DagRunState]int, error)
	// DagRunLatest returns dag_id -> latest run, for the given DAGs that
	// have a run.
	DagRunLatest(ctx context.Context, dagIDs []string) (map[string]*windsock.DagRun, error)
	// TaskInstanceStateCountsLatest returns dag_id -> task instance state
	// -> number of task instances of the DAG's latest run, for the given
	// DAGs; an instance without state counts as windsock.TaskStateNone.
	TaskInstanceStateCountsLatest(ctx context.Context, dagIDs []string) (map[string]map[windsock.TaskInstanceState]int, error)
	// DAGIDsByLatestRunState returns, ordered, the ids of the DAGs whose
	// latest run is in state.
	DAGIDsByLatestRunState(ctx context.Context, state windsock.DagRunState) ([]string, error)
}
