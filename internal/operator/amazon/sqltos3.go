package amazon

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sqlop"
)

// SqlToS3 is SqlToS3Operator with file_format csv: the rows of query on
// sql_conn_id (PostgreSQL or SQLite), with a header line, written to
// s3_key (a full s3:// URL, or relative to s3_bucket).
type SqlToS3 struct{ opts Options }

// NewSqlToS3 returns the operator.
func NewSqlToS3(o Options) *SqlToS3 { return &SqlToS3{opts: o} }

// Execute runs the query and writes the CSV.
func (op *SqlToS3) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	query, _ := operator.StringArg(tc.Args, "query", "")
	connID, _ := operator.StringArg(tc.Args, "sql_conn_id", "")
	key, _ := operator.StringArg(tc.Args, "s3_key", "")
	bucketArg, _ := operator.StringArg(tc.Args, "s3_bucket", "")
	if query == "" || connID == "" {
		return nil, errors.New("arguments query and sql_conn_id are required")
	}
	if f, _ := operator.StringArg(tc.Args, "file_format", "csv"); !strings.EqualFold(f, "csv") {
		return nil, fmt.Errorf("argument file_format: only csv is supported, got %q", f)
	}
	bucket, key, err := location(key, bucketArg)
	if err != nil {
		return nil, fmt.Errorf("argument s3_key: %w", err)
	}
	replace, err := operator.BoolArg(tc.Args, "replace", false)
	if err != nil {
		return nil, err
	}
	db, _, err := sqlop.Open(ctx, tc, connID)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("run query on %s: %w", connID, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.Write(cols)
	n := 0
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		rec := make([]string, len(cols))
		for i, v := range vals {
			rec[i] = csvCell(v)
		}
		w.Write(rec)
		n++
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("run query on %s: %w", connID, err)
	}
	w.Flush()
	c, err := client(ctx, tc, op.opts)
	if err != nil {
		return nil, err
	}
	if !replace {
		if found, err := exists(ctx, c, bucket, key); err != nil {
			return nil, err
		} else if found {
			return nil, fmt.Errorf("the key s3://%s/%s already exists (set replace: true to overwrite it)", bucket, key)
		}
	}
	if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(buf.Bytes())}); err != nil {
		return nil, fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	fmt.Fprintf(tc.Log, "Wrote %d rows to s3://%s/%s\n", n, bucket, key)
	return &operator.Result{}, nil
}

// csvCell prints a value as pandas' to_csv would: empty for NULL.
func csvCell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case []byte:
		return string(x)
	case time.Time:
		return x.Format("2006-01-02 15:04:05")
	}
	return fmt.Sprint(v)
}
