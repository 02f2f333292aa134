// Package store defines the metadata-store contract: every read and write of
// an environment's metadata database goes through these interfaces. The
// SQLite and PostgreSQL drivers implement it and both pass the conformance
// suite in storetest.
//
// Tables and columns follow Airflow's metadata schema so that export and
// import can speak it. Methods are named noun first (DAGGet, PoolUpsert) so
// related operations sort together; each takes ctx first and, where it needs
// more than a key, one params struct.
package store

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// Store is an open metadata database.
type Store interface {
	Queries
	Coordination
	Maintenance

	// InTx runs fn in one transaction: committed when fn returns nil,
	// rolled back otherwise. fn must use the Queries it is given, not the
	// Store, for everything that belongs to the transaction.
	InTx(ctx context.Context, fn func(q Queries) error) error

	// Migrate applies every pending migration and returns how many ran.
	Migrate(ctx context.Context) (int, error)
	// MigrationStatus returns the schema version applied and the latest
	// version this binary knows.
	MigrationStatus(ctx context.Context) (current, latest int, err error)
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// WriteFailure returns the error of the latest write when it failed
	// with ErrUnavailable (a full disk, a read-only database, a lost
	// connection), nil when it succeeded or none was made yet. A database
	// can answer Ping and still refuse every write.
	WriteFailure() error
	// Close releases the connections.
	Close() error
}

// Queries are the reads and writes, usable on the store or in a transaction.
// A missing row is reported as an error with code windsock.ENOTFOUND, a
// clashing unique key as windsock.ECONFLICT.
type Queries interface {
	Runs
	RunQueries
	Auth
	DAGQueries
	MetadataQueries
	DAGSummaryQueries
	CoordinationQueries
	DatasetQueries
	MetadataImportQueries

	// DAGGet returns the dag row with its tags.
	DAGGet(ctx context.Context, dagID string) (*windsock.DAGModel, error)
	// DAGList returns dag rows with their tags, ordered by dag_id.
	DAGList(ctx context.Context, params *DAGListParams) ([]*windsock.DAGModel, error)
	// DAGUpsert inserts or updates a dag row from a parsed definition. On
	// insert, is_paused is set from params.IsPausedUponCreation; an update
	// never changes is_paused. The row is marked active and its tags are
	// replaced.
	DAGUpsert(ctx context.Context, params *DAGUpsertParams) error
	// DAGSetPaused sets is_paused.
	DAGSetPaused(ctx context.Context, dagID string, paused bool) error
	// DAGSetImportErrors sets has_import_errors on the given DAGs.
	DAGSetImportErrors(ctx context.Context, dagIDs []string, has bool) error
	// DAGDeactivate marks the given DAGs inactive; their history stays.
	DAGDeactivate(ctx context.Context, dagIDs []string) error
	// DAGSetNextDagrun records when the scheduler will next create a run
	// of a DAG (next_dagrun, its data interval and next_dagrun_create_after);
	// nil fields are written as NULL (no further run).
	DAGSetNextDagrun(ctx context.Context, params *DAGSetNextDagrunParams) error
	// DAGListDue returns the active, unpaused DAGs whose
	// next_dagrun_create_after is at or before now, oldest first, at most
	// limit (0: no limit). It reads an index, so its cost follows the
	// number of due DAGs, not of all DAGs.
	DAGListDue(ctx context.Context, now time.Time, limit int) ([]*windsock.DAGModel, error)

	// SerializedDAGUpsert stores a definition and reports whether it
	// changed (false when the stored dag_hash is the same).
	SerializedDAGUpsert(ctx context.Context, sd *windsock.SerializedDAG) (changed bool, err error)
	// SerializedDAGGet returns the stored definition of a DAG.
	SerializedDAGGet(ctx context.Context, dagID string) (*windsock.SerializedDAG, error)
	// SerializedDAGClear deletes every stored definition (Airflow's
	// `dags reserialize` starts so) and returns how many there were.
	SerializedDAGClear(ctx context.Context) (int, error)
	// SerializedDAGHashes returns dag_id -> dag_hash for every stored DAG,
	// so a parser can skip writing what did not change.
	SerializedDAGHashes(ctx context.Context) (map[string]string, error)

	// DAGCodeUpsert stores a DAG file's source.
	DAGCodeUpsert(ctx context.Context, code *windsock.DAGCode) error
	// DAGCodeGet returns the source stored for a fileloc hash.
	DAGCodeGet(ctx context.Context, filelocHash int64) (*windsock.DAGCode, error)

	// ImportErrorSet replaces the import error of a file (at most one row
	// per filename, as Airflow keeps it).
	ImportErrorSet(ctx context.Context, ie *windsock.ImportError) error
	// ImportErrorDelete removes the import errors of the given files.
	ImportErrorDelete(ctx context.Context, filenames []string) error
	// ImportErrorList returns every import error, ordered by filename.
	ImportErrorList(ctx context.Context) ([]*windsock.ImportError, error)

	VariableGet(ctx context.Context, key string) (*windsock.Variable, error)
	// VariableSet inserts or replaces the variable with v.Key.
	VariableSet(ctx context.Context, v *windsock.Variable) error
	VariableDelete(ctx context.Context, key string) error
	// VariableList returns every variable, ordered by key.
	VariableList(ctx context.Context) ([]*windsock.Variable, error)

	ConnectionGet(ctx context.Context, connID string) (*windsock.Connection, error)
	// ConnectionInsert adds a connection; ECONFLICT if conn_id exists.
	ConnectionInsert(ctx context.Context, c *windsock.Connection) error
	// ConnectionUpdate replaces every field of the connection with c.ConnID.
	ConnectionUpdate(ctx context.Context, c *windsock.Connection) error
	ConnectionDelete(ctx context.Context, connID string) error
	// ConnectionList returns every connection, ordered by conn_id.
	ConnectionList(ctx context.Context) ([]*windsock.Connection, error)

	PoolGet(ctx context.Context, name string) (*windsock.Pool, error)
	// PoolUpsert inserts or replaces the pool with p.Pool.
	PoolUpsert(ctx context.Context, p *windsock.Pool) error
	PoolDelete(ctx context.Context, name string) error
	// PoolList returns every pool, ordered by name.
	PoolList(ctx context.Context) ([]*windsock.Pool, error)

	// JobCreate inserts a job and sets j.ID.
	JobCreate(ctx context.Context, j *windsock.Job) error
	// JobGet returns the job with id.
	JobGet(ctx context.Context, id int64) (*windsock.Job, error)
	// JobHeartbeat sets latest_heartbeat; a WorkerJob ended as failed (by
	// a scheduler that presumed it dead) that heartbeats is running again.
	JobHeartbeat(ctx context.Context, id int64, at time.Time) error
	// JobEnd sets state and end_date.
	JobEnd(ctx context.Context, id int64, state string, at time.Time) error
	// JobLatest returns the running job of a type with the newest
	// heartbeat.
	JobLatest(ctx context.Context, jobType string) (*windsock.Job, error)
	// JobList returns the jobs matching params, newest heartbeat first.
	JobList(ctx context.Context, params *JobListParams) ([]*windsock.Job, error)

	// UserCreate inserts a user with its roles (creating missing roles)
	// and sets u.ID.
	UserCreate(ctx context.Context, u *windsock.User) error
	UserGet(ctx context.Context, username string) (*windsock.User, error)
	// UserSetPassword replaces a user's password hash.
	UserSetPassword(ctx context.Context, username, hash string) error

	// EventLogInsert appends to the event log and sets e.ID.
	EventLogInsert(ctx context.Context, e *windsock.EventLog) error
	// EventLogList returns event log rows, newest first.
	EventLogList(ctx context.Context, params *EventLogListParams) ([]*windsock.EventLog, error)
}

// DAGListParams filters DAGList. Zero values mean "no filter".
type DAGListParams struct {
	DagIDs     []string
	OnlyActive bool
	Paused     *bool
	Fileloc    string // only DAGs from this file
	Limit      int    // 0: no limit
	Offset     int
}

// DAGUpsertParams describes a dag row written by the DAG processor.
type DAGUpsertParams struct {
	DagID                       string
	Fileloc                     string
	ProcessorSubdir             string
	Owners                      string
	Description                 string
	ScheduleInterval            string
	TimetableDescription        string
	MaxActiveTasks              int
	MaxActiveRuns               int
	HasTaskConcurrencyLimits    bool
	HasImportErrors             bool
	IsPausedUponCreation        bool
	Tags                        []string
	LastParsedTime              time.Time
	NextDagrun                  *time.Time
	NextDagrunDataIntervalStart *time.Time
	NextDagrunDataIntervalEnd   *time.Time
	NextDagrunCreateAfter       *time.Time
}

// DAGSetNextDagrunParams is the next run the scheduler will create.
type DAGSetNextDagrunParams struct {
	DagID                       string
	NextDagrun                  *time.Time
	NextDagrunDataIntervalStart *time.Time
	NextDagrunDataIntervalEnd   *time.Time
	NextDagrunCreateAfter       *time.Time
}

// JobListParams filters JobList. Zero values mean "no filter".
type JobListParams struct {
	JobType  string
	State    string
	Hostname string
	Limit    int // 0: no limit
}

// EventLogListParams filters EventLogList.
type EventLogListParams struct {
	DagID string
	Event string
	Limit int // 0: no limit
}
