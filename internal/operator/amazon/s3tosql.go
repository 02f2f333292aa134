package amazon

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sqlop"
)

// S3ToSql is S3ToSqlOperator with Windsock's native CSV parser: the rows
// of the CSV object s3_key (a full s3:// URL or relative to s3_bucket; a
// key ending in "/" means every object under it, in key order) inserted
// into table on sql_conn_id (PostgreSQL or SQLite), commit_every rows per
// transaction. Airflow's parser is a Python callable: here the file is
// CSV, with delimiter (default ","), and column_list names the columns,
// "infer" taking them from the file's header line (header: true skips
// that line otherwise). insert_query, when given, is the statement per
// row, with ? placeholders (Data Pipeline's SqlDataNode insertQuery).
type S3ToSql struct{ opts Options }

// NewS3ToSql returns the operator.
func NewS3ToSql(o Options) *S3ToSql { return &S3ToSql{opts: o} }

// identifier is a table or column name the operator puts in SQL: plain
// names, schema-qualified for a table, nothing a statement could hide in.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_$]*$`)

// Execute reads the objects and inserts their rows.
func (op *S3ToSql) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	if p, ok := tc.Args["parser"]; ok && p != nil && p != "csv" {
		return nil, fmt.Errorf("argument parser: a Python parser runs only in a Python DAG file's task; natively the file is read as CSV (leave parser out)")
	}
	key, _ := operator.StringArg(tc.Args, "s3_key", "")
	bucketArg, _ := operator.StringArg(tc.Args, "s3_bucket", "")
	table, _ := operator.StringArg(tc.Args, "table", "")
	connID, _ := operator.StringArg(tc.Args, "sql_conn_id", "")
	insertQuery, _ := operator.StringArg(tc.Args, "insert_query", "")
	if key == "" || connID == "" || (table == "" && insertQuery == "") {
		return nil, errors.New("arguments s3_key, sql_conn_id and table (or insert_query) are required")
	}
	if schema, _ := operator.StringArg(tc.Args, "schema", ""); schema != "" && table != "" {
		table = schema + "." + table
	}
	if table != "" {
		for _, part := range strings.Split(table, ".") {
			if !identifier.MatchString(part) {
				return nil, fmt.Errorf("argument table: %q is not a plain (schema.)table name", table)
			}
		}
	}
	commitEvery, err := operator.IntArg(tc.Args, "commit_every", 1000)
	if err != nil || commitEvery <= 0 {
		return nil, fmt.Errorf("argument commit_every: want a positive number of rows")
	}
	header, err := operator.BoolArg(tc.Args, "header", false)
	if err != nil {
		return nil, err
	}
	delimiter, _ := operator.StringArg(tc.Args, "delimiter", ",")
	if len([]rune(delimiter)) != 1 {
		return nil, fmt.Errorf("argument delimiter: want one character, got %q", delimiter)
	}
	var columns []string
	infer := tc.Args["column_list"] == "infer"
	if !infer {
		if columns, err = operator.StringListArg(tc.Args, "column_list"); err != nil {
			return nil, err
		}
	}
	if infer {
		header = true
	}
	bucket, key, err := location(key, bucketArg)
	if err != nil {
		return nil, fmt.Errorf("argument s3_key: %w", err)
	}
	c, err := client(ctx, tc, op.opts)
	if err != nil {
		return nil, err
	}
	keys := []string{key}
	if strings.HasSuffix(key, "/") {
		if keys, err = listKeys(ctx, c, bucket, key, ""); err != nil {
			return nil, err
		}
	}
	db, driver, err := sqlop.Open(ctx, tc, connID)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ins := &inserter{db: db, driver: driver, table: table, query: insertQuery, columns: columns, every: commitEvery}
	for _, k := range keys {
		if strings.HasSuffix(k, "/") {
			continue // a folder marker
		}
		n, err := ins.object(ctx, c, bucket, k, []rune(delimiter)[0], header, infer)
		if err != nil {
			return nil, fmt.Errorf("s3://%s/%s: %w", bucket, k, err)
		}
		fmt.Fprintf(tc.Log, "Inserted %d rows from s3://%s/%s\n", n, bucket, k)
	}
	return &operator.Result{}, nil
}

// inserter inserts CSV rows in transactions of every rows.
type inserter struct {
	db           *sql.DB
	driver       string
	table, query string
	columns      []string
	every        int
}

// object inserts the rows of one object.
func (in *inserter) object(ctx context.Context, c *s3.Client, bucket, key string, delim rune, header, infer bool) (int, error) {
	obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	defer obj.Body.Close()
	r := csv.NewReader(obj.Body)
	r.Comma = delim
	r.FieldsPerRecord = -1
	cols := in.columns
	if header {
		head, err := r.Read()
		if err == io.EOF {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if infer {
			cols = head
		}
	}
	n := 0
	var tx *sql.Tx
	var stmt *sql.Stmt
	defer func() {
		if tx != nil {
			tx.Rollback()
		}
	}()
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return n, err
		}
		if tx == nil {
			q, err := in.statement(cols, len(rec))
			if err != nil {
				return n, err
			}
			if tx, err = in.db.BeginTx(ctx, nil); err != nil {
				return n, err
			}
			if stmt, err = tx.PrepareContext(ctx, q); err != nil {
				return n, err
			}
		}
		args := make([]any, len(rec))
		for i, v := range rec {
			args[i] = v
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			line, _ := r.FieldPos(0)
			return n, fmt.Errorf("line %d: %w", line, err)
		}
		n++
		if n%in.every == 0 {
			if err := tx.Commit(); err != nil {
				return n, err
			}
			tx = nil
		}
	}
	if tx != nil {
		if err := tx.Commit(); err != nil {
			return n, err
		}
		tx = nil
	}
	return n, nil
}

// statement is the INSERT for rows of width fields into cols (or the
// table's own column order when none are named).
func (in *inserter) statement(cols []string, width int) (string, error) {
	q := in.query
	if q == "" {
		if len(cols) > 0 && len(cols) != width {
			return "", fmt.Errorf("%d columns named but the rows have %d fields", len(cols), width)
		}
		quoted := make([]string, len(cols))
		for i, col := range cols {
			if !identifier.MatchString(col) {
				return "", fmt.Errorf("column %q is not a plain column name", col)
			}
			quoted[i] = `"` + col + `"`
		}
		parts := strings.Split(in.table, ".")
		for i, p := range parts {
			parts[i] = `"` + p + `"`
		}
		q = "INSERT INTO " + strings.Join(parts, ".")
		if len(quoted) > 0 {
			q += " (" + strings.Join(quoted, ", ") + ")"
		}
		q += " VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
	}
	if in.driver == "pgx" {
		q = sqlop.DollarPlaceholders(q)
	}
	return q, nil
}
