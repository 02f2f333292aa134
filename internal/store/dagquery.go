package store

import (
	"context"

	"github.com/windsock/windsock/internal/windsock"
)

// DAGQueries are the DAG reads and writes the REST API's DAG endpoints
// need beyond DAGGet and DAGList: a filtered, ordered, paged and counted
// list, pausing many DAGs at once, and deleting a DAG's metadata. They are
// part of Queries.
type DAGQueries interface {
	// DAGQuery returns one page of the dag rows (with their tags) matching
	// params and how many rows match in all (before paging).
	DAGQuery(ctx context.Context, params *DAGQueryParams) ([]*windsock.DAGModel, int, error)
	// DAGSetPausedMany sets is_paused on the given DAGs; unknown ids are
	// ignored.
	DAGSetPausedMany(ctx context.Context, dagIDs []string, paused bool) error
	// DAGDelete removes everything the metadata database holds about a
	// DAG, as Airflow's delete_dag does: its dag row and tags, serialized
	// definition, runs, task instances and what their tries left (XCom,
	// failures, reschedules, notes, rendered fields, history), SLA misses,
	// jobs, and the import error of its file. The event log is kept. It
	// fails with ECONFLICT while a task instance of the DAG is running and
	// with ENOTFOUND when there is no dag row.
	DAGDelete(ctx context.Context, dagID string) error
}

// DAGQueryParams filters, orders and pages DAGQuery. Zero values mean "no
// filter".
type DAGQueryParams struct {
	// RestrictDAGs keeps only the DAGs in DagIDs (none when it is empty):
	// what a user who may read only some DAGs sees.
	RestrictDAGs bool
	DagIDs       []string
	OnlyActive   bool
	Paused       *bool
	// Tags keeps DAGs that have at least one of these tags.
	Tags []string
	// DagIDPattern keeps DAGs whose dag_id contains it, ignoring ASCII
	// case, as Airflow's ILIKE '%pattern%': '%' and '_' in it are
	// wildcards and '\' escapes them.
	DagIDPattern string
	// OrderBy is "dag_id" or "-dag_id"; "" orders by dag_id. Other values
	// are EINVALID.
	OrderBy string
	Limit   int // 0: no limit
	Offset  int
}
