package app

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/datapipeline"
	"github.com/windsock/windsock/internal/secrets"
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
	env, dagID := convertedEnv(t, `{"objects": [
  {"id": "Default", "scheduleType": "ondemand", "failureAndRerunMode": "cascade", "workerGroup": "wg", "maximumRetries": "0"},
  {"id": "Extract", "type": "ShellCommandActivity", "command": "echo extracting; exit 4"},
  {"id": "Transform", "type": "ShellCommandActivity", "command": "echo never", "dependsOn": {"ref": "Extract"}},
  {"id": "Load", "type": "ShellCommandActivity", "command": "echo never", "dependsOn": {"ref": "Transform"}},
  {"id": "Audit", "type": "ShellCommandActivity", "command": "echo audit $1", "scriptArgument": "#{@pipelineId}"},
  {"id": "Emr", "type": "EmrCluster"},
  {"id": "Hadoop", "type": "HadoopActivity", "jarUri": "s3://b/x.jar", "runsOn": {"ref": "Emr"}}
]}`)
	er := startEngine(t, env, nil)
	run := er.trigger(t, dagID, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), nil)
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
