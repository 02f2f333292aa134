package store

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// Runs are the reads and writes of DAG runs, task instances and what their
// tries leave behind (XCom, failures, reschedules, rendered fields, SLA
// misses). They are part of Queries.
type Runs interface {
	// DagRunCreate inserts a run and its task instances in one statement
	// batch and sets run.ID. ECONFLICT when the DAG already has a run with
	// that run_id or logical date.
	DagRunCreate(ctx context.Context, params *DagRunCreateParams) error
	DagRunGet(ctx context.Context, dagID, runID string) (*windsock.DagRun, error)
	// DagRunList returns runs matching params, ordered as params.OrderBy.
	DagRunList(ctx context.Context, params *DagRunListParams) ([]*windsock.DagRun, error)
	// DagRunUpdate writes state, start_date, end_date, queued_at,
	// last_scheduling_decision, clear_number, conf and note of run.ID and
	// sets updated_at.
	DagRunUpdate(ctx context.Context, run *windsock.DagRun) error
	// DagRunDelete removes a run; its task instances, XComs and the rest
	// go with it (ON DELETE CASCADE).
	DagRunDelete(ctx context.Context, dagID, runID string) error
	// DagRunCounts returns, per DAG, the number of runs in the given
	// states (e.g. running and queued for max_active_runs).
	DagRunCounts(ctx context.Context, states []windsock.DagRunState) (map[string]int, error)

	// TaskInstanceInsert adds task instances (for tasks added to a DAG
	// after its run was created).
	TaskInstanceInsert(ctx context.Context, tis []*windsock.TaskInstance) error
	// TaskInstanceReplace deletes the instances named by old (with what
	// hangs off them: XCom, notes, failures) and inserts tis, as
	// expanding a mapped task does (its map index -1 instance becomes
	// instances 0..n-1) and clearing it all undoes. When one of old is
	// missing or, with fromStates given, in another state, it changes
	// nothing and reports false: someone else got there first.
	TaskInstanceReplace(ctx context.Context, old []windsock.TaskInstanceKey, fromStates []windsock.TaskInstanceState, tis []*windsock.TaskInstance) (replaced bool, err error)
	TaskInstanceGet(ctx context.Context, key windsock.TaskInstanceKey) (*windsock.TaskInstance, error)
	// TaskInstanceList returns task instances matching params, ordered by
	// dag_id, run_id, task_id, map_index unless params.OrderBy says
	// otherwise.
	TaskInstanceList(ctx context.Context, params *TaskInstanceListParams) ([]*windsock.TaskInstance, error)
	// TaskInstanceUpdate writes every mutable column of ti (state, try
	// numbers, dates, duration, hostname, unixname, job ids, pool, queue,
	// priority, operator, queued_dttm, pid, executor, rendered_map_index,
	// heartbeat, next_retry_at, note) and sets updated_at. With params.FromStates
	// non-empty the write happens only if the stored state is one of them,
	// and updated reports whether it did: that is how concurrent schedulers
	// and workers avoid overwriting each other.
	TaskInstanceUpdate(ctx context.Context, ti *windsock.TaskInstance, fromStates ...windsock.TaskInstanceState) (updated bool, err error)
	// TaskInstanceFinishTry records a try's outcome: it writes ti's state,
	// end_date, duration, max_tries, pid, next_retry_at and, when not
	// empty, rendered_map_index (and sets updated_at), and nothing else, only if the stored row is still
	// running try ti.TryNumber, so the late outcome of a try that was
	// presumed dead (and retried elsewhere) never lands on a later try.
	// When it writes, it sets ti.Note to the stored note (written by
	// someone else while the try ran, perhaps) and ti.UpdatedAt.
	TaskInstanceFinishTry(ctx context.Context, ti *windsock.TaskInstance) (updated bool, err error)
	// TaskInstanceClaim moves up to params.Limit queued task instances
	// (optionally only the given keys or queues) to running for a worker,
	// highest priority_weight first, and returns them. Two claimers never
	// get the same instance.
	TaskInstanceClaim(ctx context.Context, params *TaskInstanceClaimParams) ([]*windsock.TaskInstance, error)
	// TaskInstanceQueue moves the given task instances that are still
	// scheduled to queued, recording queued_dttm = at and
	// queued_by_job_id, and returns the keys it moved, in the order given.
	// It writes no other column.
	TaskInstanceQueue(ctx context.Context, keys []windsock.TaskInstanceKey, at time.Time, byJobID int64) ([]windsock.TaskInstanceKey, error)
	// TaskInstanceSchedule moves the given task instances that are still
	// in state from to scheduled, as Airflow's scheduler does in bulk:
	// try_number goes up by one (not from up_for_reschedule, whose try
	// goes on) and next_retry_at is cleared. It returns the keys it moved,
	// in the order given, and writes no other column.
	TaskInstanceSchedule(ctx context.Context, keys []windsock.TaskInstanceKey, from windsock.TaskInstanceState) ([]windsock.TaskInstanceKey, error)
	// TaskInstanceHeartbeat sets last_heartbeat_at of the given tries
	// that are running: a row now holding another try (retried elsewhere)
	// is left alone.
	TaskInstanceHeartbeat(ctx context.Context, tries []Try, at time.Time) error
	// TaskInstanceSlotUsage returns occupied slots: pool_slots summed over
	// queued and running instances, per pool; and the number of queued and
	// running instances per DAG.
	TaskInstanceSlotUsage(ctx context.Context) (*SlotUsage, error)

	// XComSet inserts or replaces a value (key: dag_run_id, task_id,
	// map_index, key).
	XComSet(ctx context.Context, x *windsock.XCom) error
	// XComGet returns one value; ENOTFOUND when absent.
	XComGet(ctx context.Context, params *XComGetParams) (*windsock.XCom, error)
	// XComList returns the values of a run (optionally one task), ordered
	// by task_id, map_index, key.
	XComList(ctx context.Context, dagID, runID, taskID string) ([]*windsock.XCom, error)
	// XComClear removes every value a task instance pushed (before it runs
	// again).
	XComClear(ctx context.Context, key windsock.TaskInstanceKey) error

	TaskFailInsert(ctx context.Context, f *windsock.TaskFail) error
	TaskFailList(ctx context.Context, key windsock.TaskInstanceKey) ([]*windsock.TaskFail, error)
	// TaskInstanceHistoryList returns the earlier tries of a task instance
	// that task_instance_history holds, oldest first: Airflow 2.10 writes
	// a row there for each try that ends before a retry, and an import
	// brings them (Windsock's own tries are told by task_fail). Empty when
	// there are none.
	TaskInstanceHistoryList(ctx context.Context, key windsock.TaskInstanceKey) ([]*windsock.TaskInstance, error)
	// TaskInstanceMeasures returns one number per task instance of the
	// given runs that has it, reading only that column: what a chart of
	// thousands of instances draws. Instances without it are left out.
	TaskInstanceMeasures(ctx context.Context, params *TaskInstanceMeasureParams) ([]TaskInstanceMeasure, error)
	// TaskFailListRun returns the failed tries of every task instance of
	// a run in one query, ordered by task_id, map_index, then as recorded.
	TaskFailListRun(ctx context.Context, dagID, runID string) ([]*windsock.TaskFail, error)
	TaskRescheduleInsert(ctx context.Context, r *windsock.TaskReschedule) error
	// TaskRescheduleList returns a task instance's reschedules for one
	// try, oldest first (a sensor's timeout counts from the first).
	TaskRescheduleList(ctx context.Context, key windsock.TaskInstanceKey, tryNumber int) ([]*windsock.TaskReschedule, error)
	// TaskRescheduleClear removes a task instance's reschedules.
	TaskRescheduleClear(ctx context.Context, key windsock.TaskInstanceKey) error

	// RenderedFieldsSet stores the rendered templated fields (JSON) of a
	// task instance's latest try.
	RenderedFieldsSet(ctx context.Context, key windsock.TaskInstanceKey, fields []byte) error
	RenderedFieldsGet(ctx context.Context, key windsock.TaskInstanceKey) ([]byte, error)

	// SlaMissInsert records a miss; an existing (task_id, dag_id,
	// execution_date) row is left as it is.
	SlaMissInsert(ctx context.Context, m *windsock.SlaMiss) error
	SlaMissList(ctx context.Context, dagID string) ([]*windsock.SlaMiss, error)
	// SlaMissClaimUnnotified marks every miss whose notification was not
	// sent as sent and returns them ordered by DAG, execution date and
	// task: each miss goes to exactly one caller, however many schedulers
	// ask at once, so its sla_miss_callback runs once.
	SlaMissClaimUnnotified(ctx context.Context) ([]*windsock.SlaMiss, error)
	// SlaMissRecent returns the latest misses across DAGs (limited to
	// dagIDs when not nil), newest execution date first, at most limit.
	SlaMissRecent(ctx context.Context, dagIDs []string, limit int) ([]*windsock.SlaMiss, error)
}

// DagRunCreateParams is a run and the task instances it starts with.
type DagRunCreateParams struct {
	Run           *windsock.DagRun
	TaskInstances []*windsock.TaskInstance
}

// DagRunListParams filters DagRunList. Zero values mean "no filter".
type DagRunListParams struct {
	DagID    string
	DagIDs   []string
	RunID    string
	States   []windsock.DagRunState
	RunTypes []windsock.RunType
	// LogicalDate bounds are inclusive.
	LogicalDateGTE *time.Time
	LogicalDateLTE *time.Time
	// OrderBy is a column of dag_run, "-" prefixed for descending
	// (logical date ascending when empty). Unknown columns are EINVALID.
	OrderBy string
	Limit   int
	Offset  int
	// DatesAndStates reads only the id, DAG id, run id, logical date and
	// state; every other field is left zero. A year of hourly runs (a
	// calendar's) reads several times faster this way.
	DatesAndStates bool
}

// TaskInstanceListParams filters TaskInstanceList. Zero values mean "no
// filter".
type TaskInstanceListParams struct {
	DagID   string
	RunID   string
	RunIDs  []string
	TaskIDs []string
	States  []windsock.TaskInstanceState
	// IncludeNullState adds instances with no state (Airflow's "none") to
	// a States filter.
	IncludeNullState bool
	// DueBefore keeps instances whose next_retry_at is before it.
	DueBefore *time.Time
	// HeartbeatBefore keeps instances whose last_heartbeat_at is before it
	// (or null): zombie candidates when combined with States running.
	HeartbeatBefore *time.Time
	// Timings reads only what charts of many instances draw: the key,
	// state, try number, queued, start and end dates and duration; every
	// other field is left zero. Reading 12,500 instances this way costs
	// about half as much as whole rows.
	Timings bool
	OrderBy string
	Limit   int
	Offset  int
}

// Try names one try of a task instance.
type Try struct {
	Key       windsock.TaskInstanceKey
	TryNumber int
}

// TaskInstanceClaimParams selects what a worker claims.
type TaskInstanceClaimParams struct {
	// Keys, when set, limits the claim to these instances.
	Keys     []windsock.TaskInstanceKey
	Queues   []string
	Limit    int
	Hostname string
	Unixname string
	JobID    *int64
	// PID is the claiming process's id, recorded as the tries' pid (0:
	// none); a restarted scheduler on the same host tells by it whether
	// the process running a try is still there.
	PID int
	Now time.Time
}

// SlotUsage is what queued and running task instances occupy.
type SlotUsage struct {
	// PoolSlots is pool name -> slots occupied.
	PoolSlots map[string]int
	// DagTasks is dag_id -> queued and running instances.
	DagTasks map[string]int
	// Total is queued and running instances everywhere.
	Total int
}

// XComGetParams names one XCom value.
type XComGetParams struct {
	DagID    string
	RunID    string
	TaskID   string
	MapIndex int
	Key      string
}

// Measure names a number TaskInstanceMeasures reads.
type Measure int

// The measures of a task instance.
const (
	// MeasureDuration is the duration of the latest try, in seconds.
	MeasureDuration Measure = iota
	// MeasureTries is the try number.
	MeasureTries
	// MeasureEndDate is the end date, in Unix seconds.
	MeasureEndDate
)

// TaskInstanceMeasureParams selects what TaskInstanceMeasures reads.
type TaskInstanceMeasureParams struct {
	DagID   string
	RunIDs  []string
	Measure Measure
}

// TaskInstanceMeasure is one instance's measure.
type TaskInstanceMeasure struct {
	TaskID, RunID string
	MapIndex      int
	Value         float64
}
