package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// queries implements store.Queries over a dbtx: the store's *sql.DB or a
// transaction's *sql.Tx.
type queries struct {
	db dbtx
	// read, when set, serves reads outside transactions: SQLite's driver
	// gives writes a single connection (so that writers queue in Go rather
	// than sleep in SQLite's busy handler) and reads a pool of their own.
	read   *sql.DB
	rstmts *stmtCache
	d      Dialect
	// begin starts transactions; nil inside one, where writes that need
	// several statements are already atomic.
	begin *sql.DB
	// tx is the transaction q runs in, nil outside one: cached statements
	// are bound to it.
	tx *sql.Tx
	// conn is the connection a transaction of a store without group
	// commit runs on: a Copier reaches the driver's own connection
	// through it (database/sql hides it behind the *sql.Tx).
	conn  *sql.Conn
	stmts *stmtCache
	co    *coordination
	// group, when set, merges the transactions waiting for a single write
	// connection into one (SQLite).
	group *groupCommit
	// detached is set on the members of a group commit: one member's
	// cancelled context must not interrupt a statement (SQLite rolls back
	// the whole transaction of an interrupted statement, the others'
	// work included).
	detached bool
	// pending are the in-process notifications sent in the transaction,
	// delivered when it commits.
	pending []notice
	// health remembers whether the latest write failed for want of the
	// database; shared by the store and its transactions.
	health *writeHealth
	// marks are the bookmarks of deep list pages, shared by the store
	// and its transactions (which only mark them stale).
	marks *bookmarkCache
	// membershipChanged is set in a transaction that inserted or deleted
	// task instances or runs: its commit marks the bookmarks stale again,
	// as a page read meanwhile saw the rows before it.
	membershipChanged bool
}

// inTx runs fn atomically: in a new transaction, or in the current one when
// q is already inside a transaction.
func (q *queries) inTx(ctx context.Context, fn func(q *queries) error) (err error) {
	if q.begin == nil {
		return fn(q)
	}
	if q.group != nil {
		return q.groupTx(ctx, fn)
	}
	conn, tx, err := q.beginOnConn(ctx)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", q.wroteErr(err))
	}
	defer conn.Close() // after the rollback below: back to the pool
	committed := false
	defer func() {
		// Also covers a panic in fn: the transaction must not stay open
		// holding the write lock.
		if !committed {
			_ = tx.Rollback()
		}
	}()
	txq := &queries{db: tx, d: q.d, tx: tx, conn: conn, stmts: q.stmts, co: q.co, health: q.health, marks: q.marks}
	if err := fn(txq); err != nil {
		return err
	}
	if err := q.wroteErr(tx.Commit()); err != nil {
		return fmt.Errorf("commit transaction: %w", err)
	}
	committed = true
	if txq.membershipChanged {
		q.marks.changed()
	}
	for _, n := range txq.pending {
		q.co.hub.publish(n.channel, n.payload)
	}
	return nil
}

// beginOnConn begins a transaction on a connection of its own, retrying
// on another connection when the first turns out dead, as
// database/sql's DB.BeginTx does (a server restart leaves the pool's idle
// connections dead).
func (q *queries) beginOnConn(ctx context.Context) (conn *sql.Conn, tx *sql.Tx, err error) {
	for range 3 {
		if conn, err = q.begin.Conn(ctx); err != nil {
			return nil, nil, err
		}
		if tx, err = conn.BeginTx(ctx, nil); err == nil {
			return conn, tx, nil
		}
		conn.Close()
		if !errors.Is(err, driver.ErrBadConn) {
			break
		}
	}
	return nil, nil, err
}

func (q *queries) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = q.statementContext(ctx)
	q.noteMembership(query)
	var res sql.Result
	var err error
	if st := q.stmt(ctx, query, len(args)); st != nil {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = q.db.ExecContext(ctx, q.d.Rebind(query), args...)
	}
	if err != nil || q.tx == nil {
		// Inside a transaction, success is the commit's to report.
		err = q.wroteErr(err)
	}
	return res, err
}

func (q *queries) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = q.statementContext(ctx)
	q.noteMembership(query)
	var rows *sql.Rows
	var err error
	switch {
	case q.readOnly(query):
		if st := q.rstmts.get(ctx, query, len(args), true); st != nil {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = q.read.QueryContext(ctx, q.d.Rebind(query), args...)
		}
		return rows, q.unavailable(err)
	default:
		if st := q.stmt(ctx, query, len(args)); st != nil {
			rows, err = st.QueryContext(ctx, args...)
		} else {
			rows, err = q.db.QueryContext(ctx, q.d.Rebind(query), args...)
		}
	}
	if isWrite(query) && (err != nil || q.tx == nil) {
		return rows, q.wroteErr(err)
	}
	return rows, q.unavailable(err)
}

// noteMembership marks the list bookmarks stale before a statement that
// may add or remove task instances runs (and, in a transaction, once more
// at its commit).
func (q *queries) noteMembership(query string) {
	if q.marks == nil || !changesMembership(query) {
		return
	}
	q.marks.changed()
	if q.tx != nil {
		q.membershipChanged = true
	}
}

// row is a single-row result whose Scan error tells unavailability apart,
// as exec's and query's do.
type row struct {
	*sql.Row
	q     *queries
	write bool
}

// Scan copies the row into dest.
func (r row) Scan(dest ...any) error {
	err := r.Row.Scan(dest...)
	if r.write && (r.q.tx == nil || (err != nil && !isNoRows(err))) {
		if isNoRows(err) {
			// An UPDATE ... RETURNING that matched nothing still ran.
			r.q.wroteErr(nil)
			return err
		}
		return r.q.wroteErr(err)
	}
	return r.q.unavailable(err)
}

func (q *queries) queryRow(ctx context.Context, query string, args ...any) row {
	ctx = q.statementContext(ctx)
	q.noteMembership(query)
	if q.readOnly(query) {
		if st := q.rstmts.get(ctx, query, len(args), true); st != nil {
			return row{st.QueryRowContext(ctx, args...), q, false}
		}
		return row{q.read.QueryRowContext(ctx, q.d.Rebind(query), args...), q, false}
	}
	write := isWrite(query)
	if st := q.stmt(ctx, query, len(args)); st != nil {
		return row{st.QueryRowContext(ctx, args...), q, write}
	}
	return row{q.db.QueryRowContext(ctx, q.d.Rebind(query), args...), q, write}
}

// readOnly reports whether query goes to the read pool: outside a
// transaction, on a store with one, for statements that write nothing.
func (q *queries) readOnly(query string) bool {
	return q.read != nil && q.tx == nil && !isWrite(query)
}

// isWrite reports whether a statement may write: it starts with a write
// keyword, or is a WITH whose body writes (the claim's UPDATE ... FROM).
func isWrite(query string) bool {
	head := strings.TrimLeft(query, " \t\r\n(")
	if len(head) > 8 {
		head = head[:8]
	}
	head = strings.ToUpper(head)
	for _, kw := range []string{"INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "PRAGMA"} {
		if strings.HasPrefix(head, kw) {
			return true
		}
	}
	if strings.HasPrefix(head, "WITH") {
		up := strings.ToUpper(query)
		return strings.Contains(up, "UPDATE ") || strings.Contains(up, "INSERT ") || strings.Contains(up, "DELETE ")
	}
	return false
}

// stmt returns the cached prepared statement for query, bound to q's
// transaction if any; nil to run it unprepared. Outside a transaction a
// statement is prepared on first use; inside one only a statement
// prepared before is used (see prepare).
func (q *queries) stmt(ctx context.Context, query string, nargs int) *sql.Stmt {
	st := q.stmts.get(ctx, query, nargs, q.tx == nil)
	if q.tx != nil {
		if st == nil {
			q.stmts.prepareLater(query, nargs)
			return nil
		}
		return q.tx.StmtContext(ctx, st)
	}
	return st
}

// prepare caches query's prepared statement ahead of a transaction that
// will run it, since a transaction cannot prepare it itself.
func (q *queries) prepare(ctx context.Context, query string, nargs int) {
	if q.tx == nil {
		q.stmts.get(ctx, query, nargs, true)
	}
}

// execOne runs an UPDATE or DELETE that must touch a row and returns
// notFound when it touched none.
func (q *queries) execOne(ctx context.Context, notFound error, query string, args ...any) error {
	res, err := q.exec(ctx, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("count affected rows: %w", err)
	}
	if n == 0 {
		return notFound
	}
	return nil
}

// inChunkSize bounds the values bound in one IN list, well under SQLite's
// and PostgreSQL's parameter limits.
const inChunkSize = 500

// execIn runs query once per chunk of values, atomically; query holds one
// %s where the IN list's placeholders go, after the leading args.
func (q *queries) execIn(ctx context.Context, query string, values []string, leading ...any) error {
	if len(values) == 0 {
		return nil
	}
	return q.inTx(ctx, func(q *queries) error { return q.execInChunks(ctx, query, values, leading) })
}

func (q *queries) execInChunks(ctx context.Context, query string, values []string, leading []any) error {
	for start := 0; start < len(values); start += inChunkSize {
		chunk := values[start:min(start+inChunkSize, len(values))]
		args := make([]any, 0, len(leading)+len(chunk))
		args = append(args, leading...)
		for _, v := range chunk {
			args = append(args, v)
		}
		if _, err := q.exec(ctx, fmt.Sprintf(query, placeholders(len(chunk))), args...); err != nil {
			return err
		}
	}
	return nil
}

// placeholders returns n comma-separated ? placeholders.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}

// noLimit stands for "no limit" where OFFSET needs a LIMIT before it: SQLite
// requires one, and PostgreSQL accepts any bigint.
const noLimit = int64(1<<63 - 1)

// limitOffset returns the LIMIT/OFFSET clause and its arguments.
func limitOffset(limit, offset int) (string, []any) {
	switch {
	case limit <= 0 && offset <= 0:
		return "", nil
	case limit <= 0:
		return " LIMIT ? OFFSET ?", []any{noLimit, offset}
	default:
		return " LIMIT ? OFFSET ?", []any{limit, max(offset, 0)}
	}
}

// isNoRows reports whether err says a single-row query found nothing.
func isNoRows(err error) bool {
	return errors.Is(err, sql.ErrNoRows)
}

// Parameter helpers: every time is written in UTC (so that SQLite's text
// form sorts correctly) and to the microsecond (PostgreSQL's precision, so
// that both databases give back the same value), and empty optional values
// are written as NULL, as Airflow leaves them.

// utc returns t in UTC to the microsecond.
func utc(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// ts returns t in UTC to the microsecond, or NULL for the zero time.
func ts(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return utc(t)
}

// tsPtr returns *t in UTC, or NULL for nil.
func tsPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ts(*t)
}

// str returns s, or NULL for "".
func str(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// intPtr returns *i, or NULL for nil.
func intPtr(i *int) any {
	if i == nil {
		return nil
	}
	return *i
}

// Scan destinations that turn NULL into the zero value and times into UTC,
// whatever the driver returns.

type nullString struct{ p *string }

func (d nullString) Scan(v any) error {
	var ns sql.NullString
	if err := ns.Scan(v); err != nil {
		return err
	}
	*d.p = ns.String
	return nil
}

type nullBool struct{ p *bool }

func (d nullBool) Scan(v any) error {
	var nb sql.NullBool
	if err := nb.Scan(v); err != nil {
		return err
	}
	*d.p = nb.Bool
	return nil
}

type nullInt struct{ p *int }

func (d nullInt) Scan(v any) error {
	var ni sql.NullInt64
	if err := ni.Scan(v); err != nil {
		return err
	}
	*d.p = int(ni.Int64)
	return nil
}

type nullIntPtr struct{ p **int }

func (d nullIntPtr) Scan(v any) error {
	var ni sql.NullInt64
	if err := ni.Scan(v); err != nil {
		return err
	}
	*d.p = nil
	if ni.Valid {
		i := int(ni.Int64)
		*d.p = &i
	}
	return nil
}

type nullTime struct{ p *time.Time }

func (d nullTime) Scan(v any) error {
	var nt sql.NullTime
	if err := nt.Scan(v); err != nil {
		return err
	}
	*d.p = time.Time{}
	if nt.Valid {
		*d.p = nt.Time.UTC()
	}
	return nil
}

type nullTimePtr struct{ p **time.Time }

func (d nullTimePtr) Scan(v any) error {
	var nt sql.NullTime
	if err := nt.Scan(v); err != nil {
		return err
	}
	*d.p = nil
	if nt.Valid {
		t := nt.Time.UTC()
		*d.p = &t
	}
	return nil
}

// int64Ptr returns *i, or NULL for nil.
func int64Ptr(i *int64) any {
	if i == nil {
		return nil
	}
	return *i
}

// float64Ptr returns *f, or NULL for nil.
func float64Ptr(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

type nullInt64Ptr struct{ p **int64 }

func (d nullInt64Ptr) Scan(v any) error {
	var ni sql.NullInt64
	if err := ni.Scan(v); err != nil {
		return err
	}
	*d.p = nil
	if ni.Valid {
		i := ni.Int64
		*d.p = &i
	}
	return nil
}

type nullFloat64Ptr struct{ p **float64 }

func (d nullFloat64Ptr) Scan(v any) error {
	var nf sql.NullFloat64
	if err := nf.Scan(v); err != nil {
		return err
	}
	*d.p = nil
	if nf.Valid {
		f := nf.Float64
		*d.p = &f
	}
	return nil
}

// orderBy returns an ORDER BY clause for a caller-supplied sort key: a
// name from allowed (mapped to its column), "-" prefixed for descending,
// followed by the tie-breaking columns so that paging is stable. Nullable
// columns sort their NULLs last in both directions, the same in every
// database (SQLite and PostgreSQL disagree by default). Only names from
// allowed ever reach the SQL.
func orderBy(key string, allowed map[string]sortColumn, def string, tiebreak string) (string, error) {
	if key == "" {
		return " ORDER BY " + def + ", " + tiebreak, nil
	}
	dir := "ASC"
	name, desc := strings.CutPrefix(key, "-")
	if desc {
		dir = "DESC"
	}
	col, ok := allowed[name]
	if !ok {
		return "", windsock.Errorf(windsock.EINVALID, "cannot order by %q", key)
	}
	clause := " ORDER BY "
	if col.nullable {
		clause += "(" + col.expr + " IS NULL), "
	}
	return clause + col.expr + " " + dir + ", " + tiebreak, nil
}

// sortColumn is a column a list may be ordered by.
type sortColumn struct {
	expr     string
	nullable bool
}

// inList appends "col IN (?, ...)" for values to where and the values to
// args; nothing when values is empty.
func inList[T ~string](where []string, args []any, col string, values []T) ([]string, []any) {
	if len(values) == 0 {
		return where, args
	}
	for _, v := range values {
		// Plain strings: drivers need not know our named string types.
		args = append(args, string(v))
	}
	return append(where, col+" IN ("+placeholders(len(values))+")"), args
}

// statementContext is the context a statement runs under.
func (q *queries) statementContext(ctx context.Context) context.Context {
	if q.detached {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// selectRows runs query and scans each row with scan, in order.
func selectRows[T any](ctx context.Context, q *queries, query string, args []any, scan func(rowScanner) (T, error)) ([]T, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
