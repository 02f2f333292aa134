// Package metaport moves an environment's metadata (run history, task
// instances and what their tries left, variables, connections, pools, the
// audit log, jobs, paused states) between Airflow or MWAA and Windsock.
//
// An import reads a Source table by table, in batches, parents before
// children; each batch is written in one transaction together with the
// checkpoint that ends it, so an interrupted import resumes where it
// stopped when run again, and a finished one reads nothing twice. What does
// not fit Windsock's schema (a pickle of objects, a secret without its key,
// a task instance without a run) is kept aside byte for byte and reported,
// never dropped in silence. Every DAG is paused while the import writes and
// given back its state afterwards, as AWS's migration guide does.
//
// The package depends on the store contract only.
package metaport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/store"
)

// sourceTables are the tables an import reads, parents before children.
var sourceTables = append([]string{
	"dag", "slot_pool", "variable", "connection", "job", "log", "dag_run", "task_instance",
	"task_fail", "task_reschedule", "xcom", "rendered_task_instance_fields", "sla_miss",
	"dataset", "dataset_event",
}, laterTables...)

// Options configure an import. Zero values mean the defaults.
type Options struct {
	// SourceKeys decrypt the source's Fernet-encrypted values (its
	// core.fernet_key; several keys as Airflow's MultiFernet).
	SourceKeys *fernet.Keys
	// TargetKeys encrypt them again for the environment (nil: stored
	// as plain text, as Airflow does without a key).
	TargetKeys *fernet.Keys
	// SkipEncrypted leaves out variables and connections whose secrets no
	// source key decrypts, instead of importing them unreadable.
	SkipEncrypted bool
	// Overwrite replaces rows whose key the environment already holds;
	// by default they are kept and counted as skipped.
	Overwrite bool
	// DryRun reads and validates everything, writes in one transaction
	// and rolls it back: the report says what an import would do.
	DryRun bool
	// BatchSize is the number of source rows per transaction (default
	// 2000).
	BatchSize int
	// BulkRows is the number of rows of a run or task-instance table from
	// which an import suspends the table's secondary indexes and builds
	// them again at the end (when the rows also outnumber those already
	// there): sorting once costs far less than keeping nine indexes up to
	// date row by row. Default 10,000; negative: never.
	BulkRows int64
	// Progress, when set, is told how many rows are to be read in all,
	// then how many more were read after each batch.
	Progress Progress
}

// Progress follows a long import.
type Progress interface {
	Start(total int64)
	Add(n int)
	Finish()
}

// Report is what an import did, per table.
type Report struct {
	Source  string         `json:"source"`
	Version string         `json:"airflow_version"`
	DryRun  bool           `json:"dry_run"`
	Tables  []*TableReport `json:"tables"`
	// Notes are one line per value that needs the user's attention
	// (secrets imported unreadable, values kept aside).
	Notes []string `json:"notes"`
}

// TableReport counts one table's rows.
type TableReport struct {
	Table    string `json:"table"`
	Read     int64  `json:"read"`
	Imported int64  `json:"imported"`
	// Skipped is the number of rows not imported, per reason.
	Skipped map[string]int64 `json:"skipped"`
	// KeptAside counts values or rows kept in import_aside.
	KeptAside int64 `json:"kept_aside"`
	// Resumed is set when the table was read from an earlier run's
	// checkpoint on.
	Resumed bool `json:"resumed"`
	// IndexesRebuilt is set when the table's secondary indexes were
	// dropped for the import and built again after it.
	IndexesRebuilt bool `json:"indexes_rebuilt,omitempty"`
}

// bulkTable reports whether table is one of the store's bulk tables
// (store.ImportBulkTables): written by ImportRowsBulk, and the ones whose
// secondary indexes a large import suspends, since they are keyed and
// their clashes are judged on the unique indexes that stay. Tables
// compared on content (log, task_fail) need their indexes to find a row
// while importing.
func bulkTable(table string) bool { return slices.Contains(store.ImportBulkTables, table) }

// Skip reasons, as reported.
const (
	reasonExists     = "already in the environment"
	reasonNoParent   = "its dag run or task instance was not imported"
	reasonKeyTaken   = "another run of the DAG has that logical date"
	reasonNoRun      = "no dag run at its logical date (moved aside, as Airflow 2.2 does)"
	reasonEncrypted  = "encrypted and no --fernet-key decrypts it (--skip-encrypted)"
	reasonNotPlain   = "value is a pickle of objects or not JSON (kept aside)"
	reasonIncomplete = "a required column is empty"
)

// pausedTable is the checkpoint holding the paused states to give back.
const pausedTable = "_paused"

var errDryRun = errors.New("dry run")

// Import copies src into st and reports what it did.
func Import(ctx context.Context, st store.Store, src Source, opts Options) (*Report, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = 2000
	}
	if opts.BulkRows == 0 {
		opts.BulkRows = 10000
	}
	im := &importer{src: src, opts: opts, report: &Report{Source: src.Name(), Version: src.Version(), DryRun: opts.DryRun, Notes: []string{}}}
	if opts.Progress != nil {
		var total int64
		for _, t := range sourceTables {
			n, err := src.Count(ctx, t)
			if err != nil {
				return nil, fmt.Errorf("import: count %s: %w", t, err)
			}
			total += n
		}
		opts.Progress.Start(total)
		defer opts.Progress.Finish()
	}
	if opts.DryRun {
		err := st.InTx(ctx, func(q store.Queries) error {
			im.batch = func(ctx context.Context, fn func(store.Queries) error) error { return fn(q) }
			if err := im.run(ctx, q); err != nil {
				return err
			}
			return errDryRun
		})
		if !errors.Is(err, errDryRun) {
			return im.report, err
		}
		return im.report, nil
	}
	im.batch = st.InTx
	return im.report, im.run(ctx, st)
}

type importer struct {
	src    Source
	opts   Options
	report *Report
	// batch runs one batch's writes in a transaction (the dry run's one
	// transaction).
	batch func(ctx context.Context, fn func(store.Queries) error) error
	// paused is dag_id -> paused state to give back at the end.
	paused map[string]bool
	// moreNotes counts the notes left out of the report.
	moreNotes int
	// datasetURIs maps the source's dataset ids to their uris (events
	// name datasets by id); read whole, small.
	datasetURIs map[int64]string
}

func (im *importer) run(ctx context.Context, q store.Queries) (err error) {
	if err := im.pauseAll(ctx, q); err != nil {
		return err
	}
	defer func() {
		// Given back on failure too: the next run pauses them again.
		if rerr := im.restorePaused(context.WithoutCancel(ctx), q); rerr != nil && err == nil {
			err = rerr
		}
	}()
	for _, t := range sourceTables {
		if err := im.table(ctx, q, t); err != nil {
			return err
		}
	}
	if im.moreNotes > 0 {
		im.report.Notes = append(im.report.Notes, fmt.Sprintf("... and %d more like these (every value is kept in import_aside)", im.moreNotes))
	}
	return nil
}

// pauseAll pauses every DAG, remembering the states to give back. An
// interrupted run left its states in the checkpoint: they are the ones to
// give back, not the paused states it left.
func (im *importer) pauseAll(ctx context.Context, q store.Queries) error {
	cp, err := q.ImportCheckpointGet(ctx, im.src.Name(), pausedTable)
	if err != nil {
		return err
	}
	if cp != nil {
		if err := json.Unmarshal([]byte(cp.Position), &im.paused); err != nil {
			return fmt.Errorf("import: read saved paused states: %w", err)
		}
	} else {
		dags, err := q.DAGList(ctx, &store.DAGListParams{})
		if err != nil {
			return fmt.Errorf("import: list dags: %w", err)
		}
		im.paused = map[string]bool{}
		for _, d := range dags {
			im.paused[d.DagID] = d.IsPaused
		}
		if err := im.savePaused(ctx, q); err != nil {
			return err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(im.paused)) {
		if !im.paused[id] {
			if err := q.DAGSetPaused(ctx, id, true); err != nil {
				return fmt.Errorf("import: pause %s: %w", id, err)
			}
		}
	}
	return nil
}

func (im *importer) savePaused(ctx context.Context, q store.Queries) error {
	b, err := json.Marshal(im.paused)
	if err != nil {
		return err
	}
	return q.ImportCheckpointSet(ctx, &store.ImportCheckpoint{Source: im.src.Name(), Table: pausedTable, Position: string(b)})
}

func (im *importer) restorePaused(ctx context.Context, q store.Queries) error {
	for _, id := range slices.Sorted(maps.Keys(im.paused)) {
		if err := q.DAGSetPaused(ctx, id, im.paused[id]); err != nil {
			return fmt.Errorf("import: give %s back its paused state: %w", id, err)
		}
	}
	return q.ImportCheckpointDelete(ctx, im.src.Name(), pausedTable)
}

// table imports one table batch by batch from its checkpoint on.
func (im *importer) table(ctx context.Context, q store.Queries, table string) (err error) {
	tr := &TableReport{Table: table, Skipped: map[string]int64{}}
	im.report.Tables = append(im.report.Tables, tr)
	if bulkTable(table) && !im.opts.DryRun {
		// Also when this source lacks the table: an earlier import killed
		// halfway may have left the indexes suspended.
		defer func() {
			if rerr := q.ImportIndexesRestore(context.WithoutCancel(ctx), table); rerr != nil && err == nil {
				err = rerr
			}
		}()
	}
	if !im.src.Has(table) {
		return nil
	}
	if bulkTable(table) && !im.opts.DryRun && im.opts.BulkRows > 0 {
		n, err := im.src.Count(ctx, table)
		if err != nil {
			return fmt.Errorf("import: count %s: %w", table, err)
		}
		if n >= im.opts.BulkRows {
			if tr.IndexesRebuilt, err = q.ImportIndexesSuspend(ctx, table, n); err != nil {
				return err
			}
		}
	}
	cp, err := q.ImportCheckpointGet(ctx, im.src.Name(), table)
	if err != nil {
		return err
	}
	position := ""
	if cp != nil {
		position, tr.Resumed = cp.Position, true
	}
	// The source is read and each batch prepared one batch ahead of the
	// writes, in a goroutine: reading the source and writing the store
	// then overlap on two cores. Writes stay in order, each batch with its
	// checkpoint, so resuming is unchanged.
	type prepared struct {
		b    *batch
		read int
		last string
	}
	next := make(chan prepared, 1)
	readErr := make(chan error, 1)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(next)
		readErr <- im.src.Scan(rctx, table, position, im.opts.BatchSize, func(rows []Row, last string) error {
			b := &batch{table: table, skipped: map[string]int64{}}
			if err := im.prepare(b, rows); err != nil {
				return fmt.Errorf("import %s: %w", table, err)
			}
			select {
			case next <- prepared{b: b, read: len(rows), last: last}:
				return nil
			case <-rctx.Done():
				return rctx.Err()
			}
		})
	}()
	for p := range next {
		if err := im.writeBatch(ctx, tr, p.b, p.read, p.last); err != nil {
			cancel()
			for range next {
			}
			<-readErr
			return err
		}
	}
	return <-readErr
}

// writeBatch commits one prepared batch and counts it.
func (im *importer) writeBatch(ctx context.Context, tr *TableReport, b *batch, read int, last string) error {
	err := im.batch(ctx, func(q store.Queries) error {
		return im.write(ctx, q, b, tr, last)
	})
	if err != nil {
		return fmt.Errorf("import %s: %w", b.table, err)
	}
	tr.Read += int64(read)
	for r, n := range b.skipped {
		tr.Skipped[r] += n
	}
	tr.KeptAside += int64(len(b.aside))
	im.note(b.notes...)
	if im.opts.Progress != nil {
		im.opts.Progress.Add(read)
	}
	return nil
}

// maxNotes bounds the report's notes: a source with a million unreadable
// values must not hold a million lines in memory. Every value stays in
// import_aside.
const maxNotes = 1000

func (im *importer) note(lines ...string) {
	for _, l := range lines {
		if len(im.report.Notes) < maxNotes {
			im.report.Notes = append(im.report.Notes, l)
		} else {
			im.moreNotes++
		}
	}
}

// write is one batch's transaction: its rows, what it keeps aside and its
// checkpoint.
func (im *importer) write(ctx context.Context, q store.Queries, b *batch, tr *TableReport, last string) error {
	if len(b.jobRefs) > 0 {
		if err := mapJobIDs(ctx, q, im.src.Name(), b); err != nil {
			return err
		}
	}
	imported := int64(0)
	if len(b.rows) > 0 {
		params := &store.ImportRowsParams{Source: im.src.Name(), Table: b.table,
			Columns: b.cols, Rows: b.rows, Overwrite: im.opts.Overwrite, SourceIDs: b.sourceIDs}
		if bulkTable(b.table) {
			// The history's large tables: counted, not listed, by the
			// store's fastest path.
			counts, err := q.ImportRowsBulk(ctx, params)
			if err != nil {
				return err
			}
			for o, n := range counts {
				imported += b.count(o, n)
			}
		} else {
			outcomes, err := q.ImportRows(ctx, params)
			if err != nil {
				return err
			}
			for i, o := range outcomes {
				imported += b.count(o, 1)
				if b.table == "dag" {
					im.notePaused(b.dagIDs[i], b.dagPaused[i], o)
				}
			}
		}
	}
	for _, a := range b.aside {
		a.Source = im.src.Name()
		if err := q.ImportAsideSet(ctx, a); err != nil {
			return err
		}
	}
	if b.table == "dag" {
		if err := im.savePaused(ctx, q); err != nil {
			return err
		}
	}
	if err := q.ImportCheckpointSet(ctx, &store.ImportCheckpoint{Source: im.src.Name(), Table: b.table, Position: last}); err != nil {
		return err
	}
	// Counted once the transaction's writes are done; a failed commit
	// fails the import, so the counts are never ahead of the store.
	tr.Imported += imported
	return nil
}

// count adds n rows of an outcome to the batch's skipped rows, and
// returns how many of them were imported.
func (b *batch) count(o store.ImportOutcome, n int64) int64 {
	if n == 0 {
		return 0 // no reason reported with no row
	}
	switch o {
	case store.ImportWritten:
		return n
	case store.ImportExists:
		b.skipped[reasonExists] += n
	case store.ImportNoParent:
		b.skipped[reasonNoParent] += n
	case store.ImportKeyTaken:
		b.skipped[reasonKeyTaken] += n
	}
	return 0
}

// notePaused decides the paused state a source DAG ends with: its source
// state when it is new here, or when --on-conflict overwrite says the
// source wins.
func (im *importer) notePaused(dagID string, sourcePaused bool, o store.ImportOutcome) {
	if o == store.ImportWritten || im.opts.Overwrite {
		im.paused[dagID] = sourcePaused
	}
}

// mapJobIDs points a batch's job references at the jobs they became;
// references to jobs the source does not have become NULL.
func mapJobIDs(ctx context.Context, q store.Queries, source string, b *batch) error {
	var ids []int64
	for _, row := range b.rows {
		for _, c := range b.jobRefs {
			if n, ok := row[c].(int64); ok {
				ids = append(ids, n)
			}
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	ids = slices.Compact(ids)
	m, err := q.ImportIDMap(ctx, source, "job", ids)
	if err != nil {
		return err
	}
	for _, row := range b.rows {
		for _, c := range b.jobRefs {
			if n, ok := row[c].(int64); ok {
				if to, ok := m[n]; ok {
					row[c] = to
				} else {
					row[c] = nil
				}
			}
		}
	}
	return nil
}
