package store

import (
	"context"
	"time"
)

// MetadataImportQueries are the writes of a metadata import (`windsock db
// import`): rows of Airflow's tables brought in batch by batch, and the
// bookkeeping that makes an import resumable and repeatable. They are part
// of Queries, so that a batch, its checkpoint and what it kept aside are
// committed together in one InTx.
type MetadataImportQueries interface {
	// ImportRows writes one batch of rows into one of ImportTables and
	// returns the outcome of each row, in order. Rows whose key (or, for
	// tables without one, whose whole content) is already there are kept
	// as they are unless params.Overwrite; rows naming a run or task
	// instance that is not there are not written. Neither is an error: the
	// batch goes on.
	ImportRows(ctx context.Context, params *ImportRowsParams) ([]ImportOutcome, error)
	// ImportRowsBulk writes a large batch of rows into one of
	// ImportBulkTables with ImportRows' rules (keys, parents, Overwrite)
	// by the database's fastest path (COPY into a staging table on
	// PostgreSQL), and counts the outcomes instead of listing them: a
	// bulk load needs the counts, and listing a million outcomes would
	// cost the time the fast path saves.
	ImportRowsBulk(ctx context.Context, params *ImportRowsParams) (ImportCounts, error)
	// ImportIDMap returns, for source ids recorded by ImportRows
	// (params.SourceIDs), the ids of the rows they became; ids never
	// imported are absent.
	ImportIDMap(ctx context.Context, source, table string, sourceIDs []int64) (map[int64]int64, error)

	// ImportCheckpointGet returns the checkpoint of a source's table, nil
	// when there is none.
	ImportCheckpointGet(ctx context.Context, source, table string) (*ImportCheckpoint, error)
	// ImportCheckpointSet inserts or replaces a checkpoint.
	ImportCheckpointSet(ctx context.Context, cp *ImportCheckpoint) error
	// ImportCheckpointDelete removes a checkpoint (none is no error).
	ImportCheckpointDelete(ctx context.Context, source, table string) error

	// ImportAsideSet keeps a value (or row) that could not be imported,
	// replacing what was kept for the same source, table, row and column.
	ImportAsideSet(ctx context.Context, a *ImportAside) error
	// ImportAsideList returns what was kept aside from a source, in the
	// order it was kept.
	ImportAsideList(ctx context.Context, source string) ([]*ImportAside, error)

	// ImportIndexesSuspend prepares one of ImportTables for a bulk import
	// of about incoming rows: when they outnumber the rows the table
	// holds, so that building its secondary indexes afterwards costs less
	// than keeping them up to date row by row, it drops the indexes that
	// enforce nothing (unique and key indexes stay: clashes are judged on
	// them) and records their definitions in the same transaction. It
	// reports whether the table's indexes are suspended, by this call or
	// by an earlier one that was never followed by ImportIndexesRestore
	// (an import killed halfway): calling it again is harmless.
	ImportIndexesSuspend(ctx context.Context, table string, incoming int64) (bool, error)
	// ImportIndexesRestore builds again the indexes ImportIndexesSuspend
	// dropped from a table and forgets them; nothing when none are.
	ImportIndexesRestore(ctx context.Context, table string) error
	// ImportIndexNames returns the names of the indexes of one of
	// ImportTables that ImportIndexesSuspend would drop (those enforcing
	// nothing), as the table has them now, sorted.
	ImportIndexNames(ctx context.Context, table string) ([]string, error)

	// ExportRows reads one page of one of ImportTables for an export: the
	// given columns of the rows after params.After in key order, with the
	// key of the last row to continue from. Times come back as
	// time.Time, binary columns as []byte.
	ExportRows(ctx context.Context, params *ExportRowsParams) (*ExportPage, error)
}

// ExportRowsParams selects one page of a table.
type ExportRowsParams struct {
	Table   string
	Columns []string
	// After is the Last of the previous page; nil for the first.
	After []any
	Limit int
}

// ExportPage is one page of rows.
type ExportPage struct {
	Rows [][]any
	// Last is the key of the last row, nil when the page is empty.
	Last []any
}

// ImportTables are the tables ImportRows writes, parents before children.
var ImportTables = []string{
	"dag", "slot_pool", "variable", "connection", "job", "log", "dag_run", "task_instance",
	"task_fail", "task_reschedule", "xcom", "rendered_task_instance_fields", "sla_miss",
	"dataset", "dataset_event", "trigger", "dag_run_note", "task_instance_note", "task_instance_history", "task_map",
	"dagrun_dataset_event",
}

// ImportBulkTables are the tables ImportRowsBulk writes: the large ones
// of a history, keyed, whose rows need no id map.
var ImportBulkTables = []string{"dag_run", "task_instance"}

// ImportCounts is the number of rows of a batch per outcome.
type ImportCounts map[ImportOutcome]int64

// ImportRowsParams is one batch of rows of one table.
type ImportRowsParams struct {
	// Source names the import (the id map is per source).
	Source string
	// Table is one of ImportTables.
	Table string
	// Columns are columns of Table (Airflow's names), in Rows' order. For
	// xcom, dag_run_id is not given: it is the id of the run named by
	// dag_id and run_id here. dag_run_note names its run the same way;
	// dagrun_dataset_event takes dag_id, run_id, dataset_uri and
	// timestamp, which name a run and a dataset event.
	Columns []string
	// Rows hold nil, string, int64, int, float64, bool, time.Time or
	// []byte values.
	Rows [][]any
	// Overwrite replaces a row whose key is taken instead of keeping it.
	Overwrite bool
	// SourceIDs, for tables whose ids Windsock assigns itself (job), are
	// the source's id of each row: recorded for ImportIDMap.
	SourceIDs []int64
}

// ImportOutcome is what ImportRows did with one row.
type ImportOutcome int

const (
	// ImportWritten: the row was inserted (or, with Overwrite, replaced
	// an existing one).
	ImportWritten ImportOutcome = iota
	// ImportExists: a row with the same key or content was there and was
	// kept.
	ImportExists
	// ImportNoParent: the run or task instance the row belongs to is not
	// there.
	ImportNoParent
	// ImportKeyTaken: a dag_run whose logical date another run of the DAG
	// already holds.
	ImportKeyTaken
)

// ImportCheckpoint is how far an import of one source's table got.
type ImportCheckpoint struct {
	Source string
	Table  string
	// Position is the importer's own encoding of the last source row
	// done (its key), or of saved state.
	Position  string
	Done      bool
	UpdatedAt time.Time
}

// ImportAside is a value or row an import could not bring into Windsock's
// schema, kept as it was.
type ImportAside struct {
	Source string
	Table  string
	// RowKey names the source row (e.g. "dag_id/run_id").
	RowKey string
	// Column is the column kept, or "*" for a whole row (as JSON).
	Column    string
	Reason    string
	Value     []byte
	CreatedAt time.Time
}
