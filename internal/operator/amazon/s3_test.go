package amazon_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/awss3/s3test"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/amazon"
	"github.com/windsock/windsock/internal/operator/bash"
	"github.com/windsock/windsock/internal/operator/process"
	"github.com/windsock/windsock/internal/operator/sqlop"
	"github.com/windsock/windsock/internal/windsock"
)

type connections map[string]*operator.Connection

func (c connections) Connection(_ context.Context, id string) (*operator.Connection, error) {
	if conn, ok := c[id]; ok {
		return conn, nil
	}
	return nil, windsock.Errorf(windsock.ENOTFOUND, "connection %s does not exist", id)
}

// counter counts the HTTP requests the operators send that the server
// answered. A request that failed in transport or with a 5xx is the SDK's
// to retry (a loaded test machine makes the S3 server slow to answer),
// and a retry is not a second request of the operator's own.
type counter struct{ n atomic.Int64 }

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil && resp.StatusCode < 500 {
		c.n.Add(1)
	}
	return resp, err
}

type fixture struct {
	srv   *s3test.Server
	opts  amazon.Options
	count *counter
	conns connections
}

func setup(t *testing.T) *fixture {
	t.Helper()
	srv := s3test.Start(t, "bkt", "other")
	c := &counter{}
	return &fixture{srv: srv, count: c, opts: amazon.Options{HTTPClient: &http.Client{Transport: c}},
		conns: connections{"aws_default": {ConnID: "aws_default", ConnType: "aws", Login: srv.AccessKey, Password: srv.SecretKey,
			Extra: map[string]any{"endpoint_url": srv.URL, "region_name": "us-east-1"}}}}
}

func (f *fixture) context(args map[string]any) *operator.Context {
	return &operator.Context{Args: args, Log: &bytes.Buffer{}, Now: time.Now, Connections: f.conns,
		Environ: []string{"PATH=" + os.Getenv("PATH")}}
}

func (f *fixture) put(t *testing.T, key, data string) {
	t.Helper()
	_, err := amazon.NewCreateObject(f.opts).Execute(context.Background(), f.context(map[string]any{"s3_key": "s3://bkt/" + key, "data": data, "replace": true}))
	if err != nil {
		t.Fatal(err)
	}
}

func TestS3Operators(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.put(t, "in/2024/a.csv", "a,1\n")
	if got, _ := os.ReadFile(filepath.Join(f.srv.Root, "bkt", "in", "2024", "a.csv")); string(got) != "a,1\n" {
		t.Fatalf("the server holds %q", got)
	}
	_, err := amazon.NewCreateObject(f.opts).Execute(ctx, f.context(map[string]any{"s3_key": "in/2024/a.csv", "s3_bucket": "bkt", "data": "x"}))
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("create over an existing key without replace: %v", err)
	}
	_, err = amazon.NewCopyObject(f.opts).Execute(ctx, f.context(map[string]any{"source_bucket_key": "s3://bkt/in/2024/a.csv", "dest_bucket_key": "s3://other/copy of a.csv"}))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(f.srv.Root, "other", "copy of a.csv")); string(got) != "a,1\n" {
		t.Errorf("copy holds %q", got)
	}
	f.put(t, "in/2024/b.csv", "b")
	res, err := amazon.NewList(f.opts).Execute(ctx, f.context(map[string]any{"bucket": "bkt", "prefix": "in/"}))
	if err != nil {
		t.Fatal(err)
	}
	if got := res.ReturnValue.([]any); !slices.Equal(got, []any{"in/2024/a.csv", "in/2024/b.csv"}) {
		t.Errorf("list = %v", got)
	}
	if _, err := amazon.NewDeleteObjects(f.opts).Execute(ctx, f.context(map[string]any{"bucket": "bkt", "keys": []any{"in/2024/a.csv"}})); err != nil {
		t.Fatal(err)
	}
	if _, err := amazon.NewDeleteObjects(f.opts).Execute(ctx, f.context(map[string]any{"bucket": "other", "prefix": "copy"})); err != nil {
		t.Fatal(err)
	}
	res, _ = amazon.NewList(f.opts).Execute(ctx, f.context(map[string]any{"bucket": "bkt"}))
	if got := res.ReturnValue.([]any); !slices.Equal(got, []any{"in/2024/b.csv"}) {
		t.Errorf("after deleting a.csv, list = %v", got)
	}
	if _, err := os.Stat(filepath.Join(f.srv.Root, "other", "copy of a.csv")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("delete by prefix left the copy: %v", err)
	}
}

// In reschedule mode a poke of a missing key sends one request and ends
// the try with a reschedule; once the key exists the sensor succeeds.
func TestS3KeySensor(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	cases := []struct {
		name string
		args map[string]any
		key  string // uploaded between the two pokes
	}{
		{"exact", map[string]any{"bucket_key": "s3://bkt/ready/_SUCCESS"}, "ready/_SUCCESS"},
		{"relative with bucket_name", map[string]any{"bucket_key": "flags/done", "bucket_name": "bkt"}, "flags/done"},
		{"wildcard", map[string]any{"bucket_key": "s3://bkt/parts/2024-*/*.gz", "wildcard_match": true}, "parts/2024-05/x/y.gz"},
		{"deferrable", map[string]any{"bucket_key": "s3://bkt/late", "deferrable": true}, "late"},
	}
	for _, tc := range cases {
		args := tc.args
		args["mode"] = "reschedule"
		args["poke_interval"] = 30
		before := f.count.n.Load()
		res, err := amazon.NewKeySensor(f.opts).Execute(ctx, f.context(args))
		if err != nil {
			t.Fatalf("%s: first poke: %v", tc.name, err)
		}
		if res.RescheduleAt == nil {
			t.Fatalf("%s: the key does not exist yet, but the sensor did not reschedule", tc.name)
		}
		if n := f.count.n.Load() - before; n != 1 {
			t.Errorf("%s: a poke sent %d requests, want 1", tc.name, n)
		}
		f.put(t, tc.key, "x")
		res, err = amazon.NewKeySensor(f.opts).Execute(ctx, f.context(args))
		if err != nil || res.RescheduleAt != nil {
			t.Errorf("%s: after the upload: %+v, %v; want done", tc.name, res, err)
		}
	}
	_, err := amazon.NewKeySensor(f.opts).Execute(ctx, f.context(map[string]any{"bucket_key": "s3://bkt/x", "bucket_name": "bkt"}))
	if err == nil || !strings.Contains(err.Error(), "relative") {
		t.Errorf("a full URL with bucket_name: %v", err)
	}
}

// The Data Pipeline shell operator stages S3 inputs into
// ${INPUT1_STAGING_DIR}, runs the command and uploads
// ${OUTPUT1_STAGING_DIR}; a script_uri runs a script kept in S3.
func TestStagedShell(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.put(t, "in/day1/a.txt", "alpha\n")
	f.put(t, "in/day1/sub/b.txt", "beta\n")
	f.put(t, "scripts/count.sh", "#!/bin/sh\nwc -l \"$INPUT1_STAGING_DIR\"/a.txt | cut -d' ' -f1 > \"$OUTPUT1_STAGING_DIR/$1\"\n")
	op := amazon.NewStagedShell(bash.New(bash.Options{}), f.opts)
	_, err := op.Execute(ctx, f.context(map[string]any{
		"bash_command":   `cat ${INPUT1_STAGING_DIR}/a.txt ${INPUT1_STAGING_DIR}/sub/b.txt > ${OUTPUT1_STAGING_DIR}/all.txt`,
		"input_staging":  []any{"s3://bkt/in/day1"},
		"output_staging": []any{"s3://bkt/out/day1/"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(f.srv.Root, "bkt", "out", "day1", "all.txt")); string(got) != "alpha\nbeta\n" {
		t.Errorf("uploaded output %q", got)
	}
	_, err = op.Execute(ctx, f.context(map[string]any{
		"script_uri": "s3://bkt/scripts/count.sh", "script_args": []any{"n.txt"},
		"input_staging": []any{"s3://bkt/in/day1"}, "output_staging": []any{"s3://bkt/out/count"},
	}))
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(f.srv.Root, "bkt", "out", "count", "n.txt")); strings.TrimSpace(string(got)) != "1" {
		t.Errorf("script output %q", got)
	}
	_, err = op.Execute(ctx, f.context(map[string]any{"bash_command": "exit 3", "output_staging": []any{"s3://bkt/never/"}}))
	if err == nil {
		t.Errorf("a failing command succeeded")
	}
	if _, err := os.Stat(filepath.Join(f.srv.Root, "bkt", "never")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed command's outputs were uploaded: %v", err)
	}
}

// SqlToS3Operator writes a query's rows as CSV with a header.
func TestSqlToS3(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "shop.db")
	f.conns["lite"] = &operator.Connection{ConnID: "lite", ConnType: "sqlite", Host: dbPath}
	if _, err := sqlop.New().Execute(ctx, f.context(map[string]any{"conn_id": "lite",
		"sql": `CREATE TABLE orders (id int, note text); INSERT INTO orders VALUES (1, 'a, "quoted"'), (2, NULL);`})); err != nil {
		t.Fatal(err)
	}
	args := map[string]any{"sql_conn_id": "lite", "query": "SELECT id, note FROM orders ORDER BY id", "s3_key": "s3://bkt/export/orders.csv"}
	if _, err := amazon.NewSqlToS3(f.opts).Execute(ctx, f.context(args)); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(filepath.Join(f.srv.Root, "bkt", "export", "orders.csv"))
	if want := "id,note\n1,\"a, \"\"quoted\"\"\"\n2,\n"; string(got) != want {
		t.Errorf("CSV %q, want %q", got, want)
	}
	if _, err := amazon.NewSqlToS3(f.opts).Execute(ctx, f.context(args)); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("writing over the key without replace: %v", err)
	}
}

// S3FileTransformOperator runs a local script between download and upload.
func TestS3FileTransform(t *testing.T) {
	t.Parallel()
	f := setup(t)
	ctx := context.Background()
	f.put(t, "raw/in.txt", "one\ntwo\n")
	script := filepath.Join(t.TempDir(), "upper.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho transforming \"$1\" with $3\ntr a-z A-Z < \"$1\" > \"$2\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tc := f.context(map[string]any{"source_s3_key": "s3://bkt/raw/in.txt", "dest_s3_key": "s3://other/clean/out.txt",
		"transform_script": script, "script_args": []any{"--loud"}})
	if _, err := amazon.NewFileTransform(f.opts, process.Runner{}).Execute(ctx, tc); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(f.srv.Root, "other", "clean", "out.txt")); string(got) != "ONE\nTWO\n" {
		t.Errorf("transformed %q", got)
	}
	if log := tc.Log.(*bytes.Buffer).String(); !strings.Contains(log, "with --loud") {
		t.Errorf("the script's output is not in the log:\n%s", log)
	}
	failing := filepath.Join(t.TempDir(), "fail.sh")
	os.WriteFile(failing, []byte("#!/bin/sh\nexit 5\n"), 0o755)
	_, err := amazon.NewFileTransform(f.opts, process.Runner{}).Execute(ctx, f.context(map[string]any{"source_s3_key": "s3://bkt/raw/in.txt",
		"dest_s3_key": "s3://other/clean/never.txt", "transform_script": failing}))
	if err == nil || !strings.Contains(err.Error(), "5") {
		t.Errorf("a failing script: %v", err)
	}
}
