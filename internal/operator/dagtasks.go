package operator

import (
	"context"

	"github.com/windsock/windsock/internal/windsock"
)

// DagTaskLister is an optional capability of a RunStateSource: it knows
// which DAGs exist and what tasks they hold. ExternalTaskSensor uses it for
// check_existence and to know every member of an external task group;
// without it, it can only judge from the runs it finds.
type DagTaskLister interface {
	// DagTaskIDs returns the task ids of dagID; an error with code
	// windsock.ENOTFOUND when there is no such DAG.
	DagTaskIDs(ctx context.Context, dagID string) ([]string, error)
}

// DatasetEventLister is an optional capability of a RunStateSource: it
// reads a dataset's events, for inlet_events in Python tasks.
type DatasetEventLister interface {
	// DatasetEvents returns the latest events (at most limit) of the
	// dataset uri, oldest first.
	DatasetEvents(ctx context.Context, uri string, limit int) ([]*windsock.DatasetEvent, error)
}
