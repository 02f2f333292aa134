package windsock

import "time"

// RunType says how a DAG run came to be; it prefixes the run id.
type RunType string

// Run types, as Airflow names them.
const (
	RunTypeManual           RunType = "manual"
	RunTypeScheduled        RunType = "scheduled"
	RunTypeBackfill         RunType = "backfill"
	RunTypeDatasetTriggered RunType = "dataset_triggered"
)

// RunID returns Airflow's default run id for a run type and logical date:
// "scheduled__2024-01-01T00:00:00+00:00".
func RunID(t RunType, logicalDate time.Time) string {
	return string(t) + "__" + ISOFormat(logicalDate)
}

// ISOFormat formats t in UTC the way Python's isoformat does: microseconds
// only when there are any, and a "+00:00" offset.
func ISOFormat(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 != 0 {
		return t.Format("2006-01-02T15:04:05.000000-07:00")
	}
	return t.Format("2006-01-02T15:04:05-07:00")
}

// DagRun is a row of dag_run: one run of a DAG for one logical date.
type DagRun struct {
	ID    int64
	DagID string
	RunID string
	// LogicalDate is Airflow's execution_date.
	LogicalDate            time.Time
	QueuedAt               *time.Time
	StartDate              *time.Time
	EndDate                *time.Time
	State                  DagRunState
	RunType                RunType
	ExternalTrigger        bool
	Conf                   map[string]any
	DataIntervalStart      *time.Time
	DataIntervalEnd        *time.Time
	LastSchedulingDecision *time.Time
	DagHash                string
	CreatingJobID          *int64
	ClearNumber            int
	UpdatedAt              time.Time
	Note                   string
}

// TaskInstanceKey names one task instance.
type TaskInstanceKey struct {
	DagID    string
	TaskID   string
	RunID    string
	MapIndex int // -1 for unmapped tasks
}

// TaskInstance is a row of task_instance: one task in one DAG run, with
// the state of its current try.
type TaskInstance struct {
	TaskInstanceKey
	State TaskInstanceState
	// TryNumber is the current (or last) try, counting from 1; 0 before
	// the first try is scheduled.
	TryNumber      int
	MaxTries       int
	StartDate      *time.Time
	EndDate        *time.Time
	Duration       *float64 // seconds
	Hostname       string
	Unixname       string
	JobID          *int64
	Pool           string
	PoolSlots      int
	Queue          string
	PriorityWeight int
	Operator       string
	QueuedDttm     *time.Time
	QueuedByJobID  *int64
	PID            *int
	Executor       string
	UpdatedAt      time.Time
	// LastHeartbeatAt is when the process running the try last reported
	// (Airflow 3's column; Airflow 2 kept it on the job row). Zombie
	// detection reads it.
	LastHeartbeatAt *time.Time
	// NextRetryAt is when an up_for_retry or up_for_reschedule instance may
	// run again, so the scheduler can find due ones with one query.
	NextRetryAt *time.Time
	Note        string
	// RenderedMapIndex is a mapped instance's name from its task's
	// map_index_template, rendered when its try ends (Airflow 2.9's
	// rendered_map_index); empty when there is none.
	RenderedMapIndex string
}

// XCom is a row of xcom: a value a task pushed, stored as JSON.
type XCom struct {
	DagRunID  int64
	TaskID    string
	MapIndex  int
	Key       string
	DagID     string
	RunID     string
	Value     []byte // JSON
	Timestamp time.Time
}

// XComReturnKey is the key of a task's return value.
const XComReturnKey = "return_value"

// TaskFail is a row of task_fail: one failed try.
type TaskFail struct {
	ID        int64
	DagID     string
	TaskID    string
	RunID     string
	MapIndex  int
	StartDate *time.Time
	EndDate   *time.Time
	Duration  *int
}

// TaskReschedule is a row of task_reschedule: one poke of a sensor in
// reschedule mode.
type TaskReschedule struct {
	ID             int64
	DagID          string
	TaskID         string
	RunID          string
	MapIndex       int
	TryNumber      int
	StartDate      time.Time
	EndDate        time.Time
	Duration       int
	RescheduleDate time.Time
}

// SlaMiss is a row of sla_miss.
type SlaMiss struct {
	DagID            string
	TaskID           string
	ExecutionDate    time.Time
	EmailSent        bool
	Timestamp        time.Time
	Description      string
	NotificationSent bool
}

// HistoryCovers reports whether task_instance_history rows (an import's,
// Airflow 2.10's per-try rows) account for every try before tryNumber.
// Windsock records its own failed tries in task_fail only, so an imported
// instance that was cleared and failed again here has tries the history
// lacks: then task_fail is the one record that has them all.
func HistoryCovers(history []*TaskInstance, tryNumber int) bool {
	if len(history) == 0 {
		return false
	}
	latest := 0
	for _, h := range history {
		latest = max(latest, h.TryNumber)
	}
	return latest >= tryNumber-1
}
