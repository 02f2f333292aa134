package store

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// ChannelDatasetQueued wakes schedulers: dataset events were queued for
// consumer DAGs; the payload is the consumers' dag ids, comma-separated.
const ChannelDatasetQueued = "windsock_dataset_queued"

// DatasetQueries are the reads and writes of data-aware scheduling: the
// datasets DAG definitions name, their events, the queue of events waiting
// for consumer runs, and the events each run was triggered by. They are
// part of Queries.
type DatasetQueries interface {
	// DatasetReferencesSet records what a DAG's definition says about
	// datasets: every URI it names gets a dataset row (created if
	// missing), the DAG's schedule and task-outlet references are
	// replaced by the given ones, and dag.dataset_expression is set.
	// ENOTFOUND when the DAG has no dag row.
	DatasetReferencesSet(ctx context.Context, params *DatasetReferencesSetParams) error
	// DatasetGet returns a dataset by URI with its consuming DAGs and
	// producing tasks.
	DatasetGet(ctx context.Context, uri string) (*windsock.Dataset, error)
	// DatasetList returns the datasets matching params, with their
	// references, and how many match without Limit and Offset.
	DatasetList(ctx context.Context, params *DatasetListParams) ([]*windsock.Dataset, int, error)

	// DatasetEventCreate records an update of the dataset params.URI (a
	// producer's success or an external event): it inserts the event and
	// queues it (dataset_dag_run_queue) for every active, unpaused DAG
	// scheduled on the dataset, keeping the earlier row where one is
	// already queued. It returns the event and the consumers' ids.
	// ENOTFOUND when no dataset has that URI.
	DatasetEventCreate(ctx context.Context, params *DatasetEventCreateParams) (*windsock.DatasetEvent, []string, error)
	// DatasetEventList returns the events matching params, newest first
	// unless params.OrderBy says otherwise, each with the runs it
	// triggered, and how many match without Limit and Offset.
	DatasetEventList(ctx context.Context, params *DatasetEventListParams) ([]*windsock.DatasetEvent, int, error)

	// DatasetQueueList returns the queued events matching params, by
	// target DAG and URI.
	DatasetQueueList(ctx context.Context, params *DatasetQueueParams) ([]*windsock.DatasetQueuedEvent, error)
	// DatasetQueueDelete deletes the queued events matching params and
	// returns those it deleted: of concurrent callers, each row goes to
	// exactly one.
	DatasetQueueDelete(ctx context.Context, params *DatasetQueueParams) ([]*windsock.DatasetQueuedEvent, error)
	// DagRunDatasetEventsLink records that the given events triggered a
	// run (dagrun_dataset_event).
	DagRunDatasetEventsLink(ctx context.Context, dagRunID int64, eventIDs []int64) error
}

// DatasetReferencesSetParams is what one DAG definition says about
// datasets.
type DatasetReferencesSetParams struct {
	DagID string
	// Schedule is the condition the DAG is scheduled on (nil: none).
	Schedule *windsock.DatasetCondition
	// Outlets maps task ids to the URIs of their outlets.
	Outlets map[string][]string
	Now     time.Time
}

// DatasetListParams filters DatasetList. Zero values mean "no filter".
type DatasetListParams struct {
	// URIPattern keeps datasets whose URI contains it.
	URIPattern string
	// DagIDs keeps datasets some of these DAGs consume or produce.
	DagIDs []string
	// OrderBy is id, uri, created_at or updated_at, "-" prefixed for
	// descending (id when empty). Unknown columns are EINVALID.
	OrderBy string
	Limit   int
	Offset  int
}

// DatasetEventCreateParams is one dataset update.
type DatasetEventCreateParams struct {
	URI   string
	Extra map[string]any
	// Source fields name the task try that produced the event; empty (and
	// SourceMapIndex -1) for an external event.
	SourceDagID    string
	SourceTaskID   string
	SourceRunID    string
	SourceMapIndex int
	Timestamp      time.Time
}

// DatasetEventListParams filters DatasetEventList. Zero values mean "no
// filter".
type DatasetEventListParams struct {
	DatasetID    int64
	URIs         []string
	SourceDagID  string
	SourceTaskID string
	SourceRunID  string
	// SourceMapIndex, when set, keeps events of that map index.
	SourceMapIndex *int
	// After (exclusive) and Before (inclusive) bound the timestamp.
	After  *time.Time
	Before *time.Time
	// DagRunID keeps the events that triggered this run.
	DagRunID int64
	// OrderBy is id, dataset_id, source_dag_id, source_task_id,
	// source_run_id, source_map_index or timestamp, "-" prefixed for
	// descending (-timestamp when empty).
	OrderBy string
	Limit   int
	Offset  int
}

// DatasetQueueParams selects queued events. Zero values mean "no filter".
type DatasetQueueParams struct {
	DagID string
	URI   string
	// Before keeps events queued before it (strictly, as in Airflow).
	Before *time.Time
}
