package store

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// RunQueries are the filtered, counted and paged reads of DAG runs, task
// instances and XCom entries that list endpoints need: every filter Airflow's
// REST API offers, and the number of matches before paging. They are part
// of Queries.
type RunQueries interface {
	// DagRunQuery returns the runs matching params, paged, and how many
	// match in all. OrderBy is as DagRunListParams'; EINVALID for an
	// unknown column.
	DagRunQuery(ctx context.Context, params *DagRunQueryParams) (runs []*windsock.DagRun, total int, err error)
	// TaskInstanceQuery returns the task instances matching params with
	// their run's logical date, rendered fields and SLA miss, paged, and
	// how many match in all.
	TaskInstanceQuery(ctx context.Context, params *TaskInstanceQueryParams) (tis []*TaskInstanceDetail, total int, err error)
	// XComQuery returns XCom entries matching params with their run's
	// logical date, ordered by dag_id, run_id, task_id, map_index, key,
	// paged, and how many match in all.
	XComQuery(ctx context.Context, params *XComQueryParams) (entries []*XComEntry, total int, err error)
	// DagRunCountsByPeriod counts the runs of params' DAGs started in each
	// period [Bounds[i], Bounds[i+1]) by state, in one query: one map per
	// period, len(Bounds)-1 of them. EINVALID with fewer than two bounds.
	DagRunCountsByPeriod(ctx context.Context, params *DagRunPeriodCountParams) ([]map[windsock.DagRunState]int, error)
	// TaskInstanceStateCounts counts the task instances matching params
	// (paging and order ignored) by state, in one query; an instance
	// without state counts under "".
	TaskInstanceStateCounts(ctx context.Context, params *TaskInstanceQueryParams) (map[windsock.TaskInstanceState]int, error)
}

// DagRunPeriodCountParams selects what DagRunCountsByPeriod counts.
type DagRunPeriodCountParams struct {
	DagIDs []string
	// OnlyDagIDs makes an empty DagIDs mean "none", as in
	// DagRunQueryParams.
	OnlyDagIDs bool
	// Bounds are the periods' edges, ascending: start dates from Bounds[0]
	// (included) to the last bound (excluded).
	Bounds []time.Time
}

// TimeRange is an inclusive range; a nil bound is open.
type TimeRange struct {
	GTE *time.Time
	LTE *time.Time
}

// DagRunQueryParams filters DagRunQuery. Zero values mean "no filter",
// except that OnlyDagIDs set with DagIDs empty matches nothing.
type DagRunQueryParams struct {
	DagIDs []string
	// OnlyDagIDs makes an empty DagIDs mean "none" rather than "any": a
	// caller who may read no DAG gets nothing.
	OnlyDagIDs  bool
	States      []windsock.DagRunState
	LogicalDate TimeRange
	StartDate   TimeRange
	EndDate     TimeRange
	UpdatedAt   TimeRange
	OrderBy     string
	Limit       int // 0: no limit
	Offset      int
}

// TaskInstanceQueryParams filters TaskInstanceQuery. Zero values mean "no
// filter", except OnlyDagIDs as in DagRunQueryParams.
type TaskInstanceQueryParams struct {
	DagIDs     []string
	OnlyDagIDs bool
	RunIDs     []string
	TaskIDs    []string
	// MapIndex, when set, keeps only that map index.
	MapIndex *int
	// OnlyMapped keeps the instances of expanded mapped tasks (map index
	// 0 and up), as listMappedTaskInstances shows them.
	OnlyMapped bool
	// States may hold windsock.TaskStateNone for instances with no state.
	States    []windsock.TaskInstanceState
	Pools     []string
	Queues    []string
	Executors []string
	// LogicalDate filters on the run's logical date (execution_date).
	LogicalDate TimeRange
	StartDate   TimeRange
	EndDate     TimeRange
	UpdatedAt   TimeRange
	DurationGTE *float64
	DurationLTE *float64
	// OrderBy is a task_instance column (as TaskInstanceListParams') or
	// execution_date, "-" prefixed for descending; default dag_id,
	// run_id, task_id, map_index.
	OrderBy string
	Limit   int // 0: no limit
	Offset  int
}

// TaskInstanceDetail is a task instance with what the API shows beside it.
type TaskInstanceDetail struct {
	*windsock.TaskInstance
	// LogicalDate is the run's logical date (Airflow's execution_date).
	LogicalDate time.Time
	// RenderedFields is the JSON of the latest try's rendered templated
	// fields; nil when none were stored.
	RenderedFields []byte
	// SlaMiss is the instance's SLA miss, nil when none.
	SlaMiss *windsock.SlaMiss
}

// XComQueryParams filters XComQuery. Zero values mean "no filter", except
// OnlyDagIDs as in DagRunQueryParams.
type XComQueryParams struct {
	DagIDs     []string
	OnlyDagIDs bool
	RunID      string
	TaskID     string
	MapIndex   *int
	Key        string
	Limit      int // 0: no limit
	Offset     int
}

// XComEntry is an XCom value with its run's logical date.
type XComEntry struct {
	*windsock.XCom
	LogicalDate time.Time
}
