package store

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// MetadataQueries are the reads the REST API's metadata endpoints need
// beyond the plain CRUD of Queries: the event log filtered, ordered and
// paged in the database, one event by id, and pool usage by state. They
// are part of Queries.
type MetadataQueries interface {
	// EventLogQuery returns one page of the event log rows matching params
	// and how many rows match in all (before paging).
	EventLogQuery(ctx context.Context, params *EventLogQueryParams) ([]*windsock.EventLog, int, error)
	// EventLogGet returns the event log row with id; ENOTFOUND if none.
	EventLogGet(ctx context.Context, id int64) (*windsock.EventLog, error)
	// PoolSlotsByState returns pool name -> task instance state -> the
	// pool_slots summed over the task instances of that pool in that
	// state, for the states a pool reports (running, queued, scheduled,
	// deferred).
	PoolSlotsByState(ctx context.Context) (map[string]map[windsock.TaskInstanceState]int, error)
	// PoolUsage returns, from one grouped read, pool name -> task instance
	// state -> the task instances of that pool in that state and their
	// pool_slots summed, for the states a pool reports (running, queued,
	// scheduled, deferred). Pools nothing uses are absent, and pools
	// that task instances name but the pool table lacks are there: a
	// metrics scrape reads every pool's gauges and the environment's
	// totals from it.
	PoolUsage(ctx context.Context) (map[string]map[windsock.TaskInstanceState]PoolUse, error)
}

// PoolUse is what the task instances of one pool in one state hold.
type PoolUse struct {
	Tasks int // task instances
	Slots int // their pool_slots summed
}

// EventLogQueryParams filters, orders and pages EventLogQuery. Zero values
// mean "no filter".
type EventLogQueryParams struct {
	DagID     string
	TaskID    string
	RunID     string
	MapIndex  *int
	TryNumber *int
	Event     string
	Owner     string
	// Before and After bound the event time, inclusively.
	Before *time.Time
	After  *time.Time
	// IncludedEvents keeps only these events; ExcludedEvents drops these.
	IncludedEvents []string
	ExcludedEvents []string
	// RestrictDAGs keeps only rows without a DAG and rows of the DAGs in
	// DagIDs: what a user who may read only some DAGs sees.
	RestrictDAGs bool
	DagIDs       []string
	// OrderBy is one of event_log_id, when, dag_id, task_id, run_id,
	// map_index, try_number, event, execution_date, owner, extra, "-"
	// prefixed for descending; "" orders by event_log_id. Other values
	// are EINVALID.
	OrderBy string
	Limit   int // 0: no limit
	Offset  int
}
