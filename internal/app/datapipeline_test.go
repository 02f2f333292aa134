package app

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/awss3/s3test"
	"github.com/windsock/windsock/internal/datapipeline"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// convertedEnv converts a Data Pipeline definition and opens an
// environment whose DAG folder holds the DAG file.
func convertedEnv(t *testing.T, definition string) (*Environment, string) {
	t.Helper()
	def, err := datapipeline.Parse([]byte(definition))
	if err != nil {
		t.Fatal(err)
	}
	res := datapipeline.Convert(def, datapipeline.Options{Source: "pipeline.json", Now: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)})
	if res.YAML == nil {
		t.Fatalf("not converted: %+v", res.Report.Problems)
	}
	return benchEnv(t, map[string]string{"pipeline.yaml": string(res.YAML)}), res.Report.DagID
}

// A cascade failure: the failed activity's consumers end upstream_failed
// (Data Pipeline's CASCADE_FAILED), an independent branch still runs, and
// an activity that could not be converted fails saying why.
func TestDataPipelineCascadeFailure(t *testing.T) {
	t.Parallel()
	published := make(chan url.Values, 4)
	sns := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		published <- r.PostForm
	}))
	t.Cleanup(sns.Close)
	env, dagID := convertedEnv(t, `{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "cascade", "workerGroup": "wg", "maximumRetries": "0"},
  {"id": "Alarm", "type": "SnsAlarm", "topicArn": "arn:aws:sns:us-east-1:1:etl", "role": "r",
   "subject": "#{node.name} failed", "message": "pipeline #{node.@pipelineId}, run of #{node.@scheduledStartTime}"},
  {"id": "Extract", "type": "ShellCommandActivity", "command": "echo extracting; exit 4", "onFail": {"ref": "Alarm"}},
  {"id": "Transform", "type": "ShellCommandActivity", "command": "echo never", "dependsOn": {"ref": "Extract"}},
  {"id": "Load", "type": "ShellCommandActivity", "command": "echo never", "dependsOn": {"ref": "Transform"}},
  {"id": "Audit", "type": "ShellCommandActivity", "command": "echo audit $1", "scriptArgument": "#{@pipelineId}"},
  {"id": "Emr", "type": "EmrCluster"},
  {"id": "Hadoop", "type": "HadoopActivity", "jarUri": "s3://b/x.jar", "runsOn": {"ref": "Emr"}}
]}`)
	if err := env.Connections.Add(context.Background(), &secrets.Connection{ConnID: "aws_default", ConnType: "aws",
		Login: "AKID", Password: "s", Extra: `{"endpoint_url": "` + sns.URL + `"}`}); err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	run := er.trigger(t, dagID, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	select {
	case form := <-published:
		if form.Get("TopicArn") != "arn:aws:sns:us-east-1:1:etl" || form.Get("Subject") != "Extract failed" ||
			form.Get("Message") != "pipeline pipeline, run of 2024-03-01T00:00:00+00:00" {
			t.Errorf("the SnsAlarm published %v", form)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the onFail SnsAlarm published nothing")
	}
	tis := states(t, env, run)
	want := map[string]windsock.TaskInstanceState{"Extract": "failed", "Transform": "upstream_failed",
		"Load": "upstream_failed", "Audit": "success", "Hadoop": "failed"}
	for id, st := range want {
		if tis[id] == nil || tis[id].State != st {
			t.Errorf("%s = %v, want %s", id, tis[id], st)
		}
	}
	if log := readLog(t, env, tis["Audit"], 1); !strings.Contains(log, "audit pipeline") {
		t.Errorf("Audit's log lacks #{@pipelineId} rendered as the DAG id:\n%s", log)
	}
	if log := readLog(t, env, tis["Hadoop"], 1); !strings.Contains(log, "EmrAddStepsOperator needs Amazon EMR") {
		t.Errorf("Hadoop's log does not say why it failed:\n%s", log)
	}
	if run.State != windsock.DagRunFailed {
		t.Errorf("run %s, want failed", run.State)
	}
}

// A converted SqlActivity runs against PostgreSQL through the connection
// its JdbcDatabase became, with the expression rendered for the run.
func TestDataPipelineSqlActivityOnPostgres(t *testing.T) {
	t.Parallel()
	pgURL := os.Getenv("WINDSOCK_TEST_POSTGRES_URL")
	if pgURL == "" {
		t.Skip("WINDSOCK_TEST_POSTGRES_URL is not set")
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := "dp_runs_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := db.Exec("CREATE TABLE " + table + " (run_day text, note text)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE " + table) })
	port := u.Port()
	env, dagID := convertedEnv(t, `{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg"},
  {"id": "Pg", "type": "JdbcDatabase", "connectionString": "jdbc:postgresql://`+u.Hostname()+`:`+port+u.Path+`",
   "jdbcDriverClass": "org.postgresql.Driver", "username": "`+u.User.Username()+`", "*password": "x"},
  {"id": "Insert", "type": "SqlActivity", "database": {"ref": "Pg"}, "maximumRetries": "0",
   "script": "insert into #{myTable} (run_day, note) values ('#{format(@scheduledStartTime, 'YYYY-MM-dd')}', ?)",
   "scriptArgument": "it's #{myNote}"}
], "parameters": [{"id": "myTable"}, {"id": "myNote", "default": "hello"}], "values": {"myTable": "`+table+`"}}`)
	pw, _ := u.User.Password()
	port64, _ := strconv.Atoi(port)
	if err := env.Connections.Add(context.Background(), &secrets.Connection{ConnID: "dp_pg", ConnType: "postgres",
		Host: u.Hostname(), Port: port64, Schema: u.Path[1:], Login: u.User.Username(), Password: pw,
		Extra: `{"sslmode": "disable"}`}); err != nil {
		t.Fatal(err)
	}
	er := startEngine(t, env, nil)
	run := er.trigger(t, dagID, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	if tis := states(t, env, run); tis["Insert"].State != windsock.TaskStateSuccess {
		t.Fatalf("Insert %s: %s", tis["Insert"].State, readLog(t, env, tis["Insert"], 1))
	}
	var day, note string
	if err := db.QueryRow("SELECT run_day, note FROM "+table).Scan(&day, &note); err != nil {
		t.Fatal(err)
	}
	if day != "2024-03-01" || note != "it's hello" {
		t.Errorf("row (%q, %q), want (2024-03-01, it's hello)", day, note)
	}
}

// A converted shell pipeline with S3 staging against a real S3-compatible
// server: the scheduler creates the runs Data Pipeline would (a cron
// schedule of two daily instances from 2024-03-01), each run's
// S3KeyExists precondition waits, in reschedule mode, for a flag the test
// uploads only once the sensor has poked, and the activity stages its
// input folder, runs and uploads its output for the instance's day.
func TestDataPipelineS3StagingPipeline(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "data")
	ctx := context.Background()
	s3c := awss3.NewClient(awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil)
	put := func(key, body string) {
		t.Helper()
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	put("in/2024-03-01/words.txt", "march first\n")
	put("in/2024-03-02/words.txt", "march second\n")

	def, err := datapipeline.Parse([]byte(`{"objects": [
  {"id": "Default", "scheduleType": "cron", "failureAndRerunMode": "cascade", "schedule": {"ref": "Daily"},
   "workerGroup": "wg", "maximumRetries": "0"},
  {"id": "Daily", "type": "Schedule", "period": "1 day", "startDateTime": "2024-03-01T00:00:00", "occurrences": "2"},
  {"id": "Ready", "type": "S3KeyExists", "s3Key": "s3://data/ready/#{format(node.@scheduledStartTime, 'YYYY-MM-dd')}.flag", "retryDelay": "2 minutes"},
  {"id": "In", "type": "S3DataNode", "directoryPath": "s3://data/in/#{format(@scheduledStartTime, 'YYYY-MM-dd')}"},
  {"id": "Out", "type": "S3DataNode", "directoryPath": "s3://data/out/#{format(@scheduledStartTime, 'YYYY-MM-dd')}"},
  {"id": "Shout", "type": "ShellCommandActivity", "stage": "true", "input": {"ref": "In"}, "output": {"ref": "Out"},
   "precondition": {"ref": "Ready"},
   "command": "tr a-z A-Z < ${INPUT1_STAGING_DIR}/words.txt > ${OUTPUT1_STAGING_DIR}/loud.txt"}
]}`))
	if err != nil {
		t.Fatal(err)
	}
	res := datapipeline.Convert(def, datapipeline.Options{Source: "shout.json"})
	if res.Report.ExitCode() != 0 {
		t.Fatalf("exit %d: %+v", res.Report.ExitCode(), res.Report.Problems)
	}
	// The DAG file is meant to be edited: poke every second rather than
	// every retryDelay, so the test does not wait two minutes.
	dagFile := strings.Replace(string(res.YAML), "poke_interval: 120", "poke_interval: 1", 1)
	env := benchEnv(t, map[string]string{"shout.yaml": dagFile})
	if err := env.Connections.Add(ctx, &secrets.Connection{ConnID: "aws_default", ConnType: "aws",
		Login: srv.AccessKey, Password: srv.SecretKey, Extra: srv.Extra()}); err != nil {
		t.Fatal(err)
	}
	poked := make(chan struct{})
	var once sync.Once
	er := startEngine(t, env, func(try *taskrun.Try, out *taskrun.Outcome) {
		if try.TI.TaskID == "Shout_Ready" && out.State == windsock.TaskStateUpForReschedule {
			once.Do(func() { close(poked) })
		}
	})
	select {
	case <-poked:
	case <-time.After(60 * time.Second):
		t.Fatal("the precondition's sensor never poked")
	}
	put("ready/2024-03-01.flag", "")
	put("ready/2024-03-02.flag", "")

	// Data Pipeline's cron instances start 2024-03-01 and 2024-03-02 and
	// run at their start: the DAG's runs are due then (data_interval_end).
	wantDays := []string{"2024-03-01", "2024-03-02"}
	for i, d := range wantDays {
		start := time.Date(2024, 2, 29+i, 0, 0, 0, 0, time.UTC)
		run := er.wait(t, windsock.RunID(windsock.RunTypeScheduled, start))
		if run.State != windsock.DagRunSuccess {
			t.Fatalf("run for %s ended %s: %v", d, run.State, states(t, env, run))
		}
		if got := run.DataIntervalEnd.Format("2006-01-02"); got != d {
			t.Errorf("run due at %s, want Data Pipeline's instance start %s", got, d)
		}
		got, err := os.ReadFile(filepath.Join(srv.Root, "data", "out", d, "loud.txt"))
		if err != nil {
			t.Fatal(err)
		}
		if want := strings.ToUpper("march " + []string{"first", "second"}[i] + "\n"); string(got) != want {
			t.Errorf("out/%s/loud.txt = %q, want %q", d, got, want)
		}
	}
	runs, err := env.Store.DagRunList(ctx, &store.DagRunListParams{DagID: res.Report.DagID})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 {
		t.Errorf("%d runs, want occurrences 2", len(runs))
	}
}

// A converted CopyActivity from an S3 folder of TSV files into a
// PostgreSQL table, through the engine: every row of every object lands
// in the table.
func TestDataPipelineCopyS3ToPostgres(t *testing.T) {
	t.Parallel()
	pgURL := os.Getenv("WINDSOCK_TEST_POSTGRES_URL")
	if pgURL == "" {
		t.Skip("WINDSOCK_TEST_POSTGRES_URL is not set")
	}
	u, err := url.Parse(pgURL)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	table := "dp_load_" + strconv.FormatInt(time.Now().UnixNano(), 36)
	if _, err := db.Exec("CREATE TABLE " + table + " (city text, visits int)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Exec("DROP TABLE " + table) })
	srv := s3test.Start(t, "data")
	ctx := context.Background()
	s3c := awss3.NewClient(awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil)
	for key, body := range map[string]string{"visits/2024-03-01/a.tsv": "Paris\t3\nOslo\t4\n", "visits/2024-03-01/b.tsv": "Lima\t5\n"} {
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	env, dagID := convertedEnv(t, `{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "workerGroup": "wg", "maximumRetries": "0"},
  {"id": "Pg", "type": "JdbcDatabase", "connectionString": "jdbc:postgresql://`+u.Host+u.Path+`",
   "jdbcDriverClass": "org.postgresql.Driver", "username": "`+u.User.Username()+`", "*password": "x"},
  {"id": "Tabs", "type": "TSV"},
  {"id": "In", "type": "S3DataNode", "directoryPath": "s3://data/visits/#{format(@scheduledStartTime, 'YYYY-MM-dd')}", "dataFormat": {"ref": "Tabs"}},
  {"id": "Out", "type": "SqlDataNode", "database": {"ref": "Pg"}, "table": "`+table+`"},
  {"id": "Load", "type": "CopyActivity", "input": {"ref": "In"}, "output": {"ref": "Out"}}
]}`)
	pw, _ := u.User.Password()
	port, _ := strconv.Atoi(u.Port())
	for _, c := range []*secrets.Connection{
		{ConnID: "dp_pg", ConnType: "postgres", Host: u.Hostname(), Port: port, Schema: u.Path[1:], Login: u.User.Username(), Password: pw, Extra: `{"sslmode": "disable"}`},
		{ConnID: "aws_default", ConnType: "aws", Login: srv.AccessKey, Password: srv.SecretKey, Extra: srv.Extra()},
	} {
		if err := env.Connections.Add(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	er := startEngine(t, env, nil)
	run := er.trigger(t, dagID, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), nil)
	if tis := states(t, env, run); tis["Load"].State != windsock.TaskStateSuccess {
		t.Fatalf("Load %s: %s", tis["Load"].State, readLog(t, env, tis["Load"], 1))
	}
	rows, err := db.Query("SELECT city, visits FROM " + table + " ORDER BY city")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var city string
		var n int
		rows.Scan(&city, &n)
		got = append(got, fmt.Sprintf("%s=%d", city, n))
	}
	if strings.Join(got, " ") != "Lima=5 Oslo=4 Paris=3" {
		t.Errorf("table rows %v, want Lima=5 Oslo=4 Paris=3", got)
	}
}
