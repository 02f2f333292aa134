package windsock

import "time"

// DAGModel is a row of the dag table: what the scheduler and the UI need to
// know about a DAG without reading its whole definition.
type DAGModel struct {
	DagID                       string
	IsPaused                    bool
	IsActive                    bool
	LastParsedTime              *time.Time
	Fileloc                     string
	ProcessorSubdir             string
	Owners                      string // comma-separated, as Airflow stores it
	Description                 string
	DefaultView                 string
	ScheduleInterval            string // JSON, as Airflow stores it
	TimetableDescription        string
	MaxActiveTasks              int
	MaxActiveRuns               int
	HasTaskConcurrencyLimits    bool
	HasImportErrors             bool
	NextDagrun                  *time.Time
	NextDagrunDataIntervalStart *time.Time
	NextDagrunDataIntervalEnd   *time.Time
	NextDagrunCreateAfter       *time.Time
	Tags                        []string
}

// SerializedDAG is a row of serialized_dag: a DAG definition in JSON and the
// hash that tells whether it changed.
type SerializedDAG struct {
	DagID           string
	Fileloc         string
	FilelocHash     int64
	Data            []byte // JSON of DAG
	DagHash         string
	LastUpdated     time.Time
	ProcessorSubdir string
}

// DAGCode is a row of dag_code: the source of a DAG file.
type DAGCode struct {
	FilelocHash int64
	Fileloc     string
	LastUpdated time.Time
	SourceCode  string
}

// ImportError is a row of import_error: why a DAG file could not be loaded.
// Stacktrace holds one "file:line:column: message" line per problem.
type ImportError struct {
	ID              int64
	Timestamp       time.Time
	Filename        string
	Stacktrace      string
	ProcessorSubdir string
}

// Variable is a row of the variable table. Val is stored as-is: ciphertext
// when IsEncrypted is set.
type Variable struct {
	ID          int64
	Key         string
	Val         string
	Description string
	IsEncrypted bool
}

// Connection is a row of the connection table. Password and Extra are stored
// as-is: ciphertext when IsEncrypted / IsExtraEncrypted are set.
type Connection struct {
	ID               int64
	ConnID           string
	ConnType         string
	Description      string
	Host             string
	Schema           string
	Login            string
	Password         string
	Port             int // 0 when unset
	Extra            string
	IsEncrypted      bool
	IsExtraEncrypted bool
}

// Pool is a row of slot_pool.
type Pool struct {
	ID              int64
	Pool            string
	Slots           int
	Description     string
	IncludeDeferred bool
}

// DefaultPoolName is the pool tasks use when they name none.
const DefaultPoolName = "default_pool"

// Job types, as Airflow names them in the job table.
const (
	JobTypeScheduler    = "SchedulerJob"
	JobTypeDagProcessor = "DagProcessorJob"
	JobTypeTriggerer    = "TriggererJob"
	JobTypeLocalTask    = "LocalTaskJob"
	JobTypeBackfill     = "BackfillJob"
	// JobTypeWorker is Windsock's: the executor of a worker or of a
	// scheduler (LocalExecutor), whose heartbeat vouches for the tries it
	// runs (scheduler.worker_health_check_threshold).
	JobTypeWorker = "WorkerJob"
)

// Job states.
const (
	JobRunning = "running"
	JobSuccess = "success"
	JobFailed  = "failed"
)

// Job is a row of the job table: one long-running process (scheduler, DAG
// processor, task runner) and its heartbeat.
type Job struct {
	ID              int64
	DagID           string
	State           string
	JobType         string
	StartDate       time.Time
	EndDate         *time.Time
	LatestHeartbeat time.Time
	ExecutorClass   string
	Hostname        string
	Unixname        string
	// PID and ProcessStart name the process the job is (an executor's;
	// 0 and "" for other jobs): ProcessStart tells it from a later process
	// that reuses its pid (see package osproc).
	PID          int
	ProcessStart string
	// LogServer is host:port of the log server serving the logs of the
	// tries an executor job runs; "" when it serves none.
	LogServer string
	// MetricsAddr is host:port where the job's process serves its
	// Prometheus metrics on a listener of its own (a process without a
	// web server); "" when it serves none.
	MetricsAddr string
}

// User is a row of ab_user with the names of its roles.
type User struct {
	ID        int64
	Username  string
	FirstName string
	LastName  string
	Email     string
	// Password is a bcrypt hash, never the password itself.
	Password       string
	Active         bool
	Roles          []string
	CreatedOn      time.Time
	ChangedOn      time.Time
	LastLogin      *time.Time
	LoginCount     int
	FailLoginCount int
}

// EventLog is a row of the log table: who did what, when.
type EventLog struct {
	ID            int64
	Dttm          time.Time
	DagID         string
	TaskID        string
	MapIndex      *int
	Event         string
	ExecutionDate *time.Time
	RunID         string
	Owner         string
	Extra         string
	TryNumber     *int
}
