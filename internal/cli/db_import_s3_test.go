package cli_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/awss3/s3test"
	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/metaport/airflowtest"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// s3Env points the AWS_* variables boto3 reads at a test server.
func s3Env(srv *s3test.Server) []string {
	return []string{"AWS_ENDPOINT_URL_S3=" + srv.URL, "AWS_ACCESS_KEY_ID=" + srv.AccessKey,
		"AWS_SECRET_ACCESS_KEY=" + srv.SecretKey, "AWS_DEFAULT_REGION=us-east-1"}
}

// TestDBExportImportS3 exports an environment to an S3 prefix of a real
// S3-compatible server (versitygw) and imports it from there into a new
// environment: the files are AWS's layout in the bucket, every fact comes
// back, and importing again changes nothing (checkpoints are kept under
// the s3:// URL, not the temporary copy). The export is reached with the
// AWS_* variables, the import with an aws connection named by
// --aws-conn-id.
func TestDBExportImportS3(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "mwaa-backup")
	src := sqliteAirflowDB(t, "2.10", 0)
	a, _ := importHome(t)
	a.env = append(a.env, s3Env(srv)...)
	a.ok(t, "db", "import", src, "--fernet-key", airflowtest.SourceKey)
	out := a.ok(t, "db", "export", "s3://mwaa-backup/env-a/2024", "--format", "mwaa-dr", "-o", "json")
	var exp metaport.ExportReport
	if err := json.Unmarshal([]byte(out), &exp); err != nil || exp.Dir != "s3://mwaa-backup/env-a/2024" || exp.Files["dag_run.csv"] != 3 {
		t.Fatalf("export report %s (%v)", out, err)
	}
	// versitygw's posix backend keeps objects as files: the layout AWS's
	// restore DAG reads.
	for _, f := range []string{"dag_run.csv", "task_instance.csv", "variable.csv", "active_dag.csv"} {
		if _, err := os.Stat(filepath.Join(srv.Root, "mwaa-backup", "env-a", "2024", f)); err != nil {
			t.Errorf("object %s: %v", f, err)
		}
	}

	connJSON := fmt.Sprintf(`{"conn_type": "aws", "login": %q, "password": %q, "extra": {"endpoint_url": %q}}`, srv.AccessKey, srv.SecretKey, srv.URL)
	b, _ := importHome(t)
	b.env = append(b.env, "AIRFLOW_CONN_MIGRATION_S3="+connJSON)
	url := "s3://mwaa-backup/env-a/2024/"
	rep := decodeReport(t, b.ok(t, "db", "import", url, "--aws-conn-id", "migration_s3", "-o", "json"))
	if rep.Source != "s3://mwaa-backup/env-a/2024" || !strings.Contains(rep.Version, "mwaa-dr-2.10") {
		t.Errorf("report names %q %q", rep.Source, rep.Version)
	}
	for table, want := range map[string]int64{"dag_run": 3, "task_instance": 5, "variable": 2, "connection": 1, "log": 2, "job": 2, "task_fail": 1, "xcom": 1} {
		if got := reportOf(rep, table).Imported; got != want {
			t.Errorf("%s: imported %d, want %d", table, got, want)
		}
	}
	if out := b.ok(t, "variables", "get", "secret_var"); strings.TrimSpace(out) != "s3cr3t" {
		t.Errorf("variables get secret_var = %q", out)
	}
	again := decodeReport(t, b.ok(t, "db", "import", url, "--aws-conn-id", "migration_s3", "-o", "json"))
	for _, tr := range again.Tables {
		if tr.Imported != 0 || (tr.Read != 0 && !tr.Resumed) {
			t.Errorf("second import of %s: %+v", tr.Table, tr)
		}
	}

	// Without credentials the server refuses, and the command says so.
	c, _ := importHome(t)
	c.env = append(c.env, "AWS_ENDPOINT_URL_S3="+srv.URL)
	c.fails(t, "s3://mwaa-backup/env-a/2024", "db", "import", url)
	b.fails(t, "holds no .csv file", "db", "import", "s3://mwaa-backup/nothing-here", "--aws-conn-id", "migration_s3")
}

// gz compresses a CloudWatch export chunk.
func gz(t *testing.T, lines ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(strings.Join(lines, "\n") + "\n"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDBImportLogsCloudWatch copies task logs from an export of MWAA's
// task log group in the layout `aws logs create-export-task` writes
// (<prefix>/<task id>/<log stream>/NNNNNN.gz, one "time message" line per
// event, chunks not in time order, a message of several lines), first
// from a folder, then from the same files in an S3 bucket. No real
// CloudWatch is reachable here: the files are made as AWS documents them.
func TestDBImportLogsCloudWatch(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "logs-export")
	src := sqliteAirflowDB(t, "2.10", 0)
	const taskA, taskB = "0a1b2c3d-1111-4222-8333-944455566677", "9f8e7d6c-aaaa-4bbb-8ccc-ddeeff001122"
	files := map[string][]byte{
		"aws-logs-write-test": []byte("Permission Check Successful"),
		// Try 1 in two chunks whose events are out of order.
		taskA + "/dag_id=etl/run_id=manual__2024-01-02T00_00_00+00_00/task_id=load/attempt=1.log/000001.gz": gz(t,
			"2024-01-02T00:00:03.000Z [2024-01-02, 00:00:03 UTC] {taskinstance.py:1} ERROR - Task failed",
			"Traceback (most recent call last):",
			"ValueError: boom"),
		taskA + "/dag_id=etl/run_id=manual__2024-01-02T00_00_00+00_00/task_id=load/attempt=1.log/000000.gz": gz(t,
			"2024-01-02T00:00:02.000Z [2024-01-02, 00:00:02 UTC] {logging_mixin.py:1} INFO - loading",
			"2024-01-02T00:00:01.000Z [2024-01-02, 00:00:01 UTC] {taskinstance.py:1} INFO - Starting attempt 1 of 2"),
		// Try 2 in another export task.
		taskB + "/dag_id=etl/run_id=manual__2024-01-02T00_00_00+00_00/task_id=load/attempt=2.log/000000.gz": gz(t,
			"2024-01-02T00:10:00.000Z second try failed too"),
	}
	want1 := strings.Join([]string{
		"[2024-01-02, 00:00:01 UTC] {taskinstance.py:1} INFO - Starting attempt 1 of 2",
		"[2024-01-02, 00:00:02 UTC] {logging_mixin.py:1} INFO - loading",
		"[2024-01-02, 00:00:03 UTC] {taskinstance.py:1} ERROR - Task failed",
		"Traceback (most recent call last):",
		"ValueError: boom", ""}, "\n")
	key := windsock.TaskInstanceKey{DagID: "etl", RunID: "manual__2024-01-02T00:00:00+00:00", TaskID: "load", MapIndex: -1}

	folder := filepath.Join(t.TempDir(), "exportedlogs")
	fsys, err := awss3.NewFS(t.Context(), awss3.NewClient(awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil), "s3://logs-export/exportedlogs")
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		p := filepath.Join(folder, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := fsys.Put(t.Context(), name, bytes.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}

	for _, source := range []string{folder, "s3://logs-export/exportedlogs"} {
		h, _ := importHome(t)
		logs := t.TempDir()
		h.env = append(h.env, "WINDSOCK__LOGGING__BASE_LOG_FOLDER="+logs)
		h.env = append(h.env, s3Env(srv)...)
		h.ok(t, "db", "import", src, "--fernet-key", airflowtest.SourceKey)
		out := h.ok(t, "db", "import-logs", source, "--days", "10000", "-o", "json")
		var rep metaport.LogImportReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Copied != 2 || rep.FromCloudWatch != 2 || rep.Missing != 0 {
			t.Fatalf("%s: import-logs report %s (%v)", source, out, err)
		}
		got, err := os.ReadFile(tasklog.Path(logs, key, 1))
		if err != nil || string(got) != want1 {
			t.Errorf("%s: try 1 log = %q (%v), want %q", source, got, err, want1)
		}
		if got, err := os.ReadFile(tasklog.Path(logs, key, 2)); err != nil || string(got) != "second try failed too\n" {
			t.Errorf("%s: try 2 log = %q (%v)", source, got, err)
		}
		// One export task's folder as the source: only its streams.
		h2, _ := importHome(t)
		h2.env = append(h2.env, "WINDSOCK__LOGGING__BASE_LOG_FOLDER="+t.TempDir())
		h2.env = append(h2.env, s3Env(srv)...)
		h2.ok(t, "db", "import", src, "--fernet-key", airflowtest.SourceKey)
		out = h2.ok(t, "db", "import-logs", source+"/"+taskB, "--days", "10000", "-o", "json")
		if err := json.Unmarshal([]byte(out), &rep); err != nil || rep.Copied != 1 || rep.Missing != 1 {
			t.Fatalf("%s/%s: import-logs report %s (%v)", source, taskB, out, err)
		}
	}
}
