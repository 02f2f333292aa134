package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"regexp"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// suspendedIndexes is the import_checkpoint source under which the
// definitions of indexes dropped for a bulk import are kept, one row per
// table. The colon keeps it apart from every import's source name (a path
// or a redacted URL always has more than this).
const suspendedIndexes = "windsock:suspended-indexes"

// indexDef is one dropped index.
type indexDef struct {
	Name string `json:"name"`
	DDL  string `json:"ddl"`
}

// indexDDL is what a recorded definition must look like before it is run
// again: a plain CREATE INDEX, as the database's catalog wrote it.
var (
	indexName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	indexDDL  = regexp.MustCompile(`(?is)^CREATE INDEX [A-Za-z_"][^;]*$`)
)

// ImportIndexesSuspend drops a table's secondary indexes for a bulk
// import; see store.MetadataImportQueries.
func (q *queries) ImportIndexesSuspend(ctx context.Context, table string, incoming int64) (bool, error) {
	if _, ok := importTables[table]; !ok {
		return false, windsock.Errorf(windsock.EINVALID, "import: table %q cannot be imported", table)
	}
	suspended := false
	err := q.inTx(ctx, func(q *queries) error {
		cp, err := q.ImportCheckpointGet(ctx, suspendedIndexes, table)
		if err != nil || cp != nil {
			suspended = cp != nil
			return err
		}
		var have int64
		// The table name is one of importTables' keys, never input.
		if err := q.queryRow(ctx, `SELECT COUNT(*) FROM `+quoteIdent(table)).Scan(&have); err != nil {
			return fmt.Errorf("import: count %s: %w", table, err)
		}
		if incoming <= have {
			return nil
		}
		defs, err := q.secondaryIndexes(ctx, table)
		if err != nil || len(defs) == 0 {
			return err
		}
		b, err := json.Marshal(defs)
		if err != nil {
			return err
		}
		// Recorded in the transaction that drops them: a crash leaves
		// either both or neither.
		if err := q.ImportCheckpointSet(ctx, &store.ImportCheckpoint{Source: suspendedIndexes, Table: table, Position: string(b)}); err != nil {
			return err
		}
		for _, d := range defs {
			if _, err := q.execDDL(ctx, `DROP INDEX `+quoteIdent(d.Name)); err != nil {
				return fmt.Errorf("import: drop index %s: %w", d.Name, err)
			}
		}
		suspended = true
		return nil
	})
	return suspended, err
}

func (q *queries) secondaryIndexes(ctx context.Context, table string) ([]indexDef, error) {
	rows, err := q.query(ctx, q.d.SecondaryIndexesSQL(), table)
	if err != nil {
		return nil, fmt.Errorf("import: list indexes of %s: %w", table, err)
	}
	defer rows.Close()
	var defs []indexDef
	for rows.Next() {
		var d indexDef
		if err := rows.Scan(&d.Name, &d.DDL); err != nil {
			return nil, fmt.Errorf("import: list indexes of %s: %w", table, err)
		}
		if !indexName.MatchString(d.Name) || !indexDDL.MatchString(d.DDL) {
			return nil, fmt.Errorf("import: index %q of %s has a definition it cannot rebuild: %s", d.Name, table, d.DDL)
		}
		defs = append(defs, d)
	}
	return defs, rows.Err()
}

// ImportIndexesRestore builds the suspended indexes of a table again.
func (q *queries) ImportIndexesRestore(ctx context.Context, table string) error {
	if _, ok := importTables[table]; !ok {
		return windsock.Errorf(windsock.EINVALID, "import: table %q cannot be imported", table)
	}
	return q.inTx(ctx, func(q *queries) error {
		cp, err := q.ImportCheckpointGet(ctx, suspendedIndexes, table)
		if err != nil || cp == nil {
			return err
		}
		var defs []indexDef
		if err := json.Unmarshal([]byte(cp.Position), &defs); err != nil {
			return fmt.Errorf("import: read the suspended indexes of %s: %w", table, err)
		}
		for _, d := range defs {
			// Written by the database's own catalog when it was dropped;
			// checked again because it is read back from a table.
			if !indexName.MatchString(d.Name) || !indexDDL.MatchString(d.DDL) {
				return fmt.Errorf("import: suspended index %q of %s has a definition it will not run: %s", d.Name, table, d.DDL)
			}
			if _, err := q.execDDL(ctx, d.DDL); err != nil {
				return fmt.Errorf("import: build index %s again: %w", d.Name, err)
			}
		}
		return q.ImportCheckpointDelete(ctx, suspendedIndexes, table)
	})
}

// execDDL runs a schema change outside the prepared-statement cache: a
// DROP or CREATE of one index is run once, and preparing it ahead on
// another connection would fail or do it twice.
func (q *queries) execDDL(ctx context.Context, ddl string) (sql.Result, error) {
	res, err := q.db.ExecContext(ctx, ddl)
	return res, q.wroteErr(err)
}
