package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Copier is implemented by a Dialect whose database takes many rows
// fastest through a copy protocol (PostgreSQL's COPY). ImportRowsBulk then
// copies a batch into a staging table and moves it into place with a few
// set-based statements, instead of binding every value of every row into
// INSERT statements.
type Copier interface {
	// CopyRows copies rows into the given columns of table over
	// driverConn, the driver's connection as database/sql's Conn.Raw
	// hands it over, inside the transaction open on it.
	CopyRows(ctx context.Context, driverConn any, table string, columns []string, rows [][]any) (int64, error)
}

// importStage is the staging table of a bulk import on a Copier: a
// temporary table, private to the transaction's connection and dropped at
// its commit.
const importStage = "import_stage"

// ImportRowsBulk writes a large batch of rows; see
// store.MetadataImportQueries.
func (q *queries) ImportRowsBulk(ctx context.Context, p *store.ImportRowsParams) (store.ImportCounts, error) {
	if !slices.Contains(store.ImportBulkTables, p.Table) {
		return nil, windsock.Errorf(windsock.EINVALID, "import: table %q cannot be bulk imported", p.Table)
	}
	spec := importTables[p.Table]
	st, err := buildImport(p.Table, spec, p.Columns, p.Overwrite)
	if err != nil {
		return nil, err
	}
	idx := columnIndex(p.Columns)
	rows, err := importArgs(p)
	if err != nil {
		return nil, err
	}
	counts := store.ImportCounts{}
	err = q.inTx(ctx, func(q *queries) error {
		if c, ok := q.d.(Copier); ok && q.conn != nil {
			return q.importStaged(ctx, c, p, spec, st, rows, counts)
		}
		return q.importDirect(ctx, p, spec, st, idx, rows, counts)
	})
	if err != nil {
		return nil, fmt.Errorf("import %s: %w", p.Table, err)
	}
	return counts, nil
}

// importDirect writes rows with multi-row INSERTs of one prepared
// statement (SQLite's fastest path: the statement is parsed once per
// batch, not once per few hundred rows) and counts what each wrote
// instead of returning its keys.
func (q *queries) importDirect(ctx context.Context, p *store.ImportRowsParams, spec importTable, st *importStatement, idx map[string]int, rows [][]any, counts store.ImportCounts) error {
	// A member of a group commit: its cancellation must not interrupt a
	// statement of the transaction the others share.
	ctx = q.statementContext(ctx)
	full := st.head + strings.TrimSuffix(strings.Repeat(st.values+", ", importRowsPerStatement), ", ") + st.conflict
	var stmt *sql.Stmt
	defer func() {
		if stmt != nil {
			stmt.Close()
		}
	}()
	q.noteMembership(st.head)
	note := func(_ int, o store.ImportOutcome) { counts[o]++ }
	return q.importStatements(ctx, p, spec, st, idx, rows, note, func(pending []int, args []any) error {
		var res sql.Result
		var err error
		if len(pending) == importRowsPerStatement {
			if stmt == nil {
				if stmt, err = q.tx.PrepareContext(ctx, q.d.Rebind(full)); err != nil {
					return q.wroteErr(err)
				}
			}
			res, err = stmt.ExecContext(ctx, args...)
		} else {
			query := st.head + strings.TrimSuffix(strings.Repeat(st.values+", ", len(pending)), ", ") + st.conflict
			res, err = q.tx.ExecContext(ctx, q.d.Rebind(query), args...)
		}
		if err != nil {
			return q.wroteErr(err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		counts[store.ImportWritten] += n
		kept := int64(len(pending)) - n
		if kept > 0 && p.Table == "dag_run" && !p.Overwrite {
			// Kept because of its run_id, or because another run holds
			// its logical date? Asked only when a statement kept rows: a
			// first import never does. The rows written are held too.
			for _, i := range pending {
				o, err := q.importKept(ctx, p, rows[i], idx)
				if err != nil {
					return err
				}
				if o == store.ImportKeyTaken {
					counts[o]++
					kept--
				}
			}
		}
		counts[store.ImportExists] += kept
		return nil
	})
}

// importStaged copies rows into a staging table and moves them into
// p.Table with one INSERT ... SELECT, the checks ImportRows makes row by
// row made once for the whole batch.
func (q *queries) importStaged(ctx context.Context, c Copier, p *store.ImportRowsParams, spec importTable, st *importStatement, rows [][]any, counts store.ImportCounts) error {
	if p.Overwrite {
		// PostgreSQL refuses to update one row twice in a statement: the
		// last of a key's rows wins, as it would row by row.
		rows = lastOfEachKey(rows, st.findCols, counts)
	}
	cols := make([]string, len(p.Columns))
	for i, col := range p.Columns {
		cols[i] = quoteIdent(col)
	}
	list := strings.Join(cols, ", ")
	// Table and column names come from importTables, checked by
	// buildImport. The target's column types, no constraint; made and
	// dropped by each batch (a dry run writes every batch in one
	// transaction; a failed batch's transaction rolls it back).
	if _, err := q.stageExec(ctx, `CREATE TEMP TABLE `+importStage+` ON COMMIT DROP AS SELECT `+list+
		` FROM `+p.Table+` WITH NO DATA`); err != nil {
		return err
	}
	err := q.conn.Raw(func(dc any) error {
		_, err := c.CopyRows(ctx, dc, importStage, p.Columns, rows)
		return err
	})
	if err != nil {
		return fmt.Errorf("copy: %w", q.wroteErr(err))
	}
	left := int64(len(rows))
	drop := func(outcome store.ImportOutcome, where string) error {
		n, err := q.stageExec(ctx, `DELETE FROM `+importStage+` s WHERE `+where)
		counts[outcome] += n
		left -= n
		return err
	}
	if spec.parent == "run" {
		if err := drop(store.ImportNoParent, `NOT EXISTS (SELECT 1 FROM dag_run r WHERE r.dag_id = s.dag_id AND r.run_id = s.run_id)`); err != nil {
			return err
		}
	}
	if p.Table == "dag_run" && p.Overwrite {
		if err := drop(store.ImportKeyTaken, `EXISTS (SELECT 1 FROM dag_run r WHERE r.dag_id = s.dag_id
			AND r.execution_date = s.execution_date AND r.run_id <> s.run_id)`); err != nil {
			return err
		}
	}
	insert := `INSERT INTO ` + p.Table + ` (` + list + `) SELECT ` + list + ` FROM ` + importStage + ` WHERE true` + st.conflict
	q.noteMembership(insert)
	written, err := q.stageExec(ctx, insert)
	if err != nil {
		return err
	}
	counts[store.ImportWritten] += written
	left -= written
	if left > 0 && p.Table == "dag_run" && !p.Overwrite {
		// Rows kept whose run_id is not there: another run holds their
		// logical date.
		var taken int64
		if err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+importStage+` s WHERE NOT EXISTS
			(SELECT 1 FROM dag_run r WHERE r.dag_id = s.dag_id AND r.run_id = s.run_id)`).Scan(&taken); err != nil {
			return q.wroteErr(err)
		}
		counts[store.ImportKeyTaken] += taken
		left -= taken
	}
	counts[store.ImportExists] += left
	_, err = q.stageExec(ctx, `DROP TABLE `+importStage)
	return err
}

// stageExec runs a statement of a staged import outside the prepared
// statement cache (the staging table exists on this connection only) and
// returns the rows it changed.
func (q *queries) stageExec(ctx context.Context, query string) (int64, error) {
	res, err := q.db.ExecContext(q.statementContext(ctx), query)
	if err != nil {
		return 0, q.wroteErr(err)
	}
	return res.RowsAffected()
}

// lastOfEachKey returns rows without the earlier rows of a key that
// recurs, counted as written (each replaced the one before).
func lastOfEachKey(rows [][]any, keyCols []int, counts store.ImportCounts) [][]any {
	last := make(map[string]int, len(rows))
	for i, a := range rows {
		last[importKey(a, keyCols)] = i
	}
	if len(last) == len(rows) {
		return rows
	}
	out := make([][]any, 0, len(last))
	for i, a := range rows {
		if last[importKey(a, keyCols)] == i {
			out = append(out, a)
		} else {
			counts[store.ImportWritten]++
		}
	}
	return out
}

// ImportIndexNames lists the indexes ImportIndexesSuspend would drop.
func (q *queries) ImportIndexNames(ctx context.Context, table string) ([]string, error) {
	if _, ok := importTables[table]; !ok {
		return nil, windsock.Errorf(windsock.EINVALID, "import: table %q cannot be imported", table)
	}
	defs, err := q.secondaryIndexes(ctx, table)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name
	}
	slices.Sort(names)
	return names, nil
}
