package store

import (
	"context"
	"regexp"
	"time"
)

// Maintenance is housekeeping over whole tables: `db clean` moving old rows
// into archive tables, `db export-archived` reading and dropping those, and
// `db reset` dropping everything. It is on Store, not Queries: it runs DDL
// and manages its own transactions.
type Maintenance interface {
	// DBClean counts the rows of one CleanTables table older than
	// params.Before (keeping, for dag_run, each DAG's latest scheduled
	// run) and, unless DryRun, moves them into a new archive table named
	// ArchiveTableName(table, params.At) (dropped again with SkipArchive).
	// Rows that depend on deleted ones go with them (foreign keys cascade,
	// as in Airflow). It returns the number of rows found.
	DBClean(ctx context.Context, params *DBCleanParams) (int, error)
	// ArchiveTableList returns the archive tables `db clean` left, sorted.
	ArchiveTableList(ctx context.Context) ([]string, error)
	// ArchiveTableExport calls emit with an archive table's column names,
	// then with each row's values as text (NULL as "").
	ArchiveTableExport(ctx context.Context, name string, emit func(record []string) error) error
	// ArchiveTableDrop drops an archive table.
	ArchiveTableDrop(ctx context.Context, name string) error
	// DBReset drops every table of the metadata database, archives and the
	// migration bookkeeping included; Migrate builds it again.
	DBReset(ctx context.Context) error
}

// DBCleanParams is one table's pass of `db clean`.
type DBCleanParams struct {
	Table       string
	Before      time.Time
	DryRun      bool
	SkipArchive bool
	// At names the archive table (its UTC second); the clean's start.
	At time.Time
}

// CleanTable is a table `db clean` purges, with the column whose age
// decides (Airflow's airflow/utils/db_cleanup.py config_list).
type CleanTable struct {
	Name          string
	RecencyColumn string
	// KeepLast keeps each DAG's latest scheduled (not externally
	// triggered) row even when it is old, so that scheduling continues.
	KeepLast bool
}

// CleanTables are the tables `db clean` knows, sorted by name, as Airflow
// 2.10 lists them (without the dataset, callback and Celery tables, which
// Windsock's schema does not have).
var CleanTables = []CleanTable{
	{Name: "dag", RecencyColumn: "last_parsed_time"},
	{Name: "dag_run", RecencyColumn: "start_date", KeepLast: true},
	{Name: "import_error", RecencyColumn: "timestamp"},
	{Name: "job", RecencyColumn: "latest_heartbeat"},
	{Name: "log", RecencyColumn: "dttm"},
	{Name: "sla_miss", RecencyColumn: "timestamp"},
	{Name: "task_fail", RecencyColumn: "start_date"},
	{Name: "task_instance", RecencyColumn: "start_date"},
	{Name: "task_instance_history", RecencyColumn: "start_date"},
	{Name: "task_reschedule", RecencyColumn: "start_date"},
	{Name: "trigger", RecencyColumn: "created_date"},
	{Name: "xcom", RecencyColumn: "timestamp"},
}

// ArchiveTablePrefix starts the name of every archive table.
const ArchiveTablePrefix = "_airflow_deleted__"

// archiveTablePattern matches the names ArchiveTableName makes; nothing
// else is ever read or dropped as an archive.
var archiveTablePattern = regexp.MustCompile(`^` + ArchiveTablePrefix + `([a-z_]+?)__([0-9]{14})$`)

// ArchiveTableName is where `db clean` moves a table's rows at a time:
// _airflow_deleted__<table>__<YYYYMMDDHHMMSS>, as Airflow names it.
func ArchiveTableName(table string, at time.Time) string {
	return ArchiveTablePrefix + table + "__" + at.UTC().Format("20060102150405")
}

// ArchivedTable returns the table an archive table was cleaned from, and
// false when name is not an archive table's.
func ArchivedTable(name string) (string, bool) {
	m := archiveTablePattern.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// CleanTableNamed returns the CleanTables entry for name.
func CleanTableNamed(name string) (CleanTable, bool) {
	for _, t := range CleanTables {
		if t.Name == name {
			return t, true
		}
	}
	return CleanTable{}, false
}
