// Package airflowtest builds Airflow metadata databases of several
// releases (1.10 to 2.10) for the import tests: the tables an import
// reads, with each release's columns and keys (written from Airflow's
// migration history), filled with one known history. Pickled values are
// made by Python's pickle (/usr/bin/python3), encrypted ones with a Fernet
// key the tests know.
package airflowtest

import (
	"context"
	"database/sql"
	"encoding/hex"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/fernet"
)

// SourceKey is the Fernet key the fixtures' secrets are encrypted with.
const SourceKey = "2Bk7b4ltq-ZmnFGcsXoO7jLRy9tOkuvbMk5Kx8ViYfU="

// Python is the interpreter that pickles the fixtures' values.
const Python = "/usr/bin/python3"

// Versions are the releases Build can make, with the alembic revision a
// database of that release holds.
var Versions = map[string]string{
	"1.10": "da3f683c3a5a", // 1.10.12
	"2.0":  "2e42bb497a22", // 2.0.2
	"2.2":  "587bdf053233", // 2.2.4
	"2.5":  "290244fb8b83", // 2.5.x
	"2.9":  "686269002441", // 2.9.2
	"2.10": "5f2621c13b39", // 2.10.3
}

// at reports whether release v has the schema of release min or later.
func at(v, min string) bool {
	order := []string{"1.10", "2.0", "2.1", "2.2", "2.3", "2.5", "2.7", "2.8", "2.9", "2.10"}
	idx := func(s string) int {
		for i, o := range order {
			if o == s {
				return i
			}
		}
		panic("airflowtest: unknown release " + s)
	}
	return idx(v) >= idx(min)
}

type column struct{ name, typ string }

type table struct {
	name string
	cols []column
	// pk is the primary key clause ("" for an id column).
	pk string
}

// schema returns the tables of release v.
func schema(v string) []table {
	var ts []table
	add := func(name, pk string, cols ...column) { ts = append(ts, table{name: name, cols: cols, pk: pk}) }
	c := func(name, typ string) column { return column{name, typ} }
	when := func(cond bool, cols ...column) []column {
		if cond {
			return cols
		}
		return nil
	}
	cat := func(parts ...[]column) []column {
		var out []column
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	add("alembic_version", "version_num", c("version_num", "VARCHAR(32)"))
	add("dag", "dag_id", cat(
		[]column{c("dag_id", "VARCHAR(250)"), c("root_dag_id", "VARCHAR(250)"), c("is_paused", "BOOL"), c("is_subdag", "BOOL"), c("is_active", "BOOL")},
		when(!at(v, "2.0"), c("last_scheduler_run", "TIME")), when(at(v, "2.0"), c("last_parsed_time", "TIME")),
		[]column{c("fileloc", "TEXT"), c("owners", "TEXT"), c("description", "TEXT"), c("default_view", "TEXT"), c("schedule_interval", "TEXT")},
		when(at(v, "2.0") && !at(v, "2.2"), c("concurrency", "INT")), when(at(v, "2.2"), c("max_active_tasks", "INT")),
		when(at(v, "2.1"), c("max_active_runs", "INT")), when(at(v, "2.0"), c("has_task_concurrency_limits", "BOOL")),
	)...)
	add("slot_pool", "", cat([]column{c("pool", "VARCHAR(256)"), c("slots", "INT"), c("description", "TEXT")},
		when(at(v, "2.7"), c("include_deferred", "BOOL")))...)
	add("variable", "", cat([]column{c("key", "VARCHAR(250)"), c("val", "TEXT")}, when(at(v, "2.1"), c("description", "TEXT")),
		[]column{c("is_encrypted", "BOOL")})...)
	add("connection", "", cat([]column{c("conn_id", "VARCHAR(250)"), c("conn_type", "VARCHAR(500)")}, when(at(v, "2.0"), c("description", "TEXT")),
		[]column{c("host", "TEXT"), c("schema", "TEXT"), c("login", "TEXT"), c("password", "TEXT"), c("port", "INT"),
			c("is_encrypted", "BOOL"), c("is_extra_encrypted", "BOOL"), c("extra", "TEXT")})...)
	add("job", "", c("dag_id", "VARCHAR(250)"), c("state", "VARCHAR(20)"), c("job_type", "VARCHAR(30)"), c("start_date", "TIME"),
		c("end_date", "TIME"), c("latest_heartbeat", "TIME"), c("executor_class", "VARCHAR(500)"), c("hostname", "VARCHAR(500)"), c("unixname", "VARCHAR(1000)"))
	add("log", "", cat([]column{c("dttm", "TIME"), c("dag_id", "VARCHAR(250)"), c("task_id", "VARCHAR(250)")}, when(at(v, "2.3"), c("map_index", "INT")),
		[]column{c("event", "VARCHAR(60)"), c("execution_date", "TIME")}, when(at(v, "2.9"), c("run_id", "VARCHAR(250)")),
		[]column{c("owner", "VARCHAR(500)")}, when(at(v, "2.8"), c("owner_display_name", "VARCHAR(500)")),
		[]column{c("extra", "TEXT")}, when(at(v, "2.10"), c("try_number", "INT")))...)
	add("dag_run", "", cat([]column{c("dag_id", "VARCHAR(250)")}, when(at(v, "2.1"), c("queued_at", "TIME")),
		[]column{c("execution_date", "TIME"), c("start_date", "TIME"), c("end_date", "TIME"), c("state", "VARCHAR(50)"), c("run_id", "VARCHAR(250)")},
		when(at(v, "2.0"), c("creating_job_id", "INT")), []column{c("external_trigger", "BOOL")},
		when(at(v, "2.0"), c("run_type", "VARCHAR(50)")), []column{c("conf", "BLOB")},
		when(at(v, "2.2"), c("data_interval_start", "TIME"), c("data_interval_end", "TIME")),
		when(at(v, "2.0"), c("last_scheduling_decision", "TIME"), c("dag_hash", "VARCHAR(32)")),
		when(at(v, "2.3"), c("log_template_id", "INT")), when(at(v, "2.5"), c("updated_at", "TIME")),
		when(at(v, "2.8"), c("clear_number", "INT")))...)
	tiKey := "dag_id, task_id, execution_date"
	if at(v, "2.3") {
		tiKey = "dag_id, task_id, run_id, map_index"
	} else if at(v, "2.2") {
		tiKey = "dag_id, task_id, run_id"
	}
	tiRunCols := func() []column {
		if at(v, "2.2") {
			return []column{c("run_id", "VARCHAR(250)")}
		}
		return []column{c("execution_date", "TIME")}
	}
	add("task_instance", tiKey, cat([]column{c("task_id", "VARCHAR(250)"), c("dag_id", "VARCHAR(250)")}, tiRunCols(),
		when(at(v, "2.3"), c("map_index", "INT")),
		[]column{c("start_date", "TIME"), c("end_date", "TIME"), c("duration", "FLOAT"), c("state", "VARCHAR(20)"), c("try_number", "INT"),
			c("max_tries", "INT"), c("hostname", "VARCHAR(1000)"), c("unixname", "VARCHAR(1000)"), c("job_id", "INT"), c("pool", "VARCHAR(256)"),
			c("pool_slots", "INT"), c("queue", "VARCHAR(256)"), c("priority_weight", "INT"), c("operator", "VARCHAR(1000)")},
		when(at(v, "2.7"), c("custom_operator_name", "VARCHAR(1000)")),
		[]column{c("queued_dttm", "TIME"), c("pid", "INT"), c("executor_config", "BLOB")},
		when(at(v, "2.0"), c("queued_by_job_id", "INT"), c("external_executor_id", "VARCHAR(250)")),
		when(at(v, "2.2"), c("trigger_id", "INT"), c("trigger_timeout", "TIME"), c("next_method", "VARCHAR(1000)"), c("next_kwargs", "JSON")),
		when(at(v, "2.5"), c("updated_at", "TIME")),
		when(at(v, "2.9"), c("rendered_map_index", "VARCHAR(250)"), c("task_display_name", "VARCHAR(2000)")),
		when(at(v, "2.10"), c("executor", "VARCHAR(1000)")))...)
	failRun := []column{c("execution_date", "TIME")}
	if at(v, "2.3") {
		failRun = []column{c("run_id", "VARCHAR(250)"), c("map_index", "INT")}
	}
	add("task_fail", "", cat([]column{c("task_id", "VARCHAR(250)"), c("dag_id", "VARCHAR(250)")}, failRun,
		[]column{c("start_date", "TIME"), c("end_date", "TIME"), c("duration", "INT")})...)
	reschedRun := tiRunCols()
	if at(v, "2.3") {
		reschedRun = append(reschedRun, c("map_index", "INT"))
	}
	add("task_reschedule", "", cat([]column{c("task_id", "VARCHAR(250)"), c("dag_id", "VARCHAR(250)")}, reschedRun,
		[]column{c("try_number", "INT"), c("start_date", "TIME"), c("end_date", "TIME"), c("duration", "INT"), c("reschedule_date", "TIME")})...)
	switch {
	case at(v, "2.3"):
		add("xcom", "dag_run_id, task_id, map_index, key", c("dag_run_id", "INT"), c("task_id", "VARCHAR(250)"), c("map_index", "INT"),
			c("key", "VARCHAR(512)"), c("dag_id", "VARCHAR(250)"), c("run_id", "VARCHAR(250)"), c("value", "BLOB"), c("timestamp", "TIME"))
	case at(v, "2.0"):
		add("xcom", "dag_id, task_id, key, execution_date", c("key", "VARCHAR(512)"), c("value", "BLOB"), c("timestamp", "TIME"),
			c("execution_date", "TIME"), c("task_id", "VARCHAR(250)"), c("dag_id", "VARCHAR(250)"))
	default:
		add("xcom", "", c("key", "VARCHAR(512)"), c("value", "BLOB"), c("timestamp", "TIME"),
			c("execution_date", "TIME"), c("task_id", "VARCHAR(250)"), c("dag_id", "VARCHAR(250)"))
	}
	rtifKey := "dag_id, task_id, execution_date"
	if at(v, "2.3") {
		rtifKey = "dag_id, task_id, run_id, map_index"
	}
	rtifRun := []column{c("execution_date", "TIME")}
	if at(v, "2.3") {
		rtifRun = []column{c("run_id", "VARCHAR(250)"), c("map_index", "INT")}
	}
	add("rendered_task_instance_fields", rtifKey, cat([]column{c("dag_id", "VARCHAR(250)"), c("task_id", "VARCHAR(250)")}, rtifRun,
		[]column{c("rendered_fields", "JSON")}, when(at(v, "2.0"), c("k8s_pod_yaml", "JSON")))...)
	if at(v, "2.5") {
		add("dataset", "", c("uri", "VARCHAR(3000)"), c("extra", "JSON"), c("created_at", "TIME"), c("updated_at", "TIME"), c("is_orphaned", "BOOL"))
		add("dataset_event", "", c("dataset_id", "INT"), c("extra", "JSON"), c("source_task_id", "VARCHAR(250)"), c("source_dag_id", "VARCHAR(250)"),
			c("source_run_id", "VARCHAR(250)"), c("source_map_index", "INT"), c("timestamp", "TIME"))
		add("dagrun_dataset_event", "dag_run_id, event_id", c("dag_run_id", "INT"), c("event_id", "INT"))
		// Read and reported, not imported: keyed by neither id nor run.
		add("dag_schedule_dataset_reference", "dataset_id, dag_id", c("dataset_id", "INT"), c("dag_id", "VARCHAR(250)"),
			c("created_at", "TIME"), c("updated_at", "TIME"))
		add("dataset_dag_run_queue", "dataset_id, target_dag_id", c("dataset_id", "INT"), c("target_dag_id", "VARCHAR(250)"),
			c("created_at", "TIME"))
	}
	if at(v, "2.2") {
		kwargsType := "JSON" // encrypted text from 2.9
		if at(v, "2.9") {
			kwargsType = "TEXT"
		}
		add("trigger", "", c("classpath", "VARCHAR(1000)"), c("kwargs", kwargsType), c("created_date", "TIME"), c("triggerer_id", "INT"))
	}
	if at(v, "2.3") {
		add("task_map", "dag_id, task_id, run_id, map_index", c("dag_id", "VARCHAR(250)"), c("task_id", "VARCHAR(250)"),
			c("run_id", "VARCHAR(250)"), c("map_index", "INT"), c("length", "INT"), c("keys", "JSON"))
	}
	if at(v, "2.5") {
		add("dag_run_note", "dag_run_id", c("user_id", "INT"), c("dag_run_id", "INT"), c("content", "VARCHAR(1000)"),
			c("created_at", "TIME"), c("updated_at", "TIME"))
		add("task_instance_note", "task_id, dag_id, run_id, map_index", c("user_id", "INT"), c("task_id", "VARCHAR(250)"),
			c("dag_id", "VARCHAR(250)"), c("run_id", "VARCHAR(250)"), c("map_index", "INT"), c("content", "VARCHAR(1000)"),
			c("created_at", "TIME"), c("updated_at", "TIME"))
	}
	if at(v, "2.10") {
		// One row per try, with task_instance's columns.
		for _, tb := range ts {
			if tb.name == "task_instance" {
				add("task_instance_history", "", tb.cols...)
			}
		}
	}
	add("sla_miss", "task_id, dag_id, execution_date", c("task_id", "VARCHAR(250)"), c("dag_id", "VARCHAR(250)"), c("execution_date", "TIME"),
		c("email_sent", "BOOL"), c("timestamp", "TIME"), c("description", "TEXT"), c("notification_sent", "BOOL"))
	return ts
}

// ddl is a table's CREATE TABLE in a dialect.
func (t table) ddl(postgres bool) string {
	var cols []string
	if t.pk == "" {
		if postgres {
			cols = append(cols, "id SERIAL PRIMARY KEY")
		} else {
			cols = append(cols, "id INTEGER PRIMARY KEY")
		}
	}
	for _, c := range t.cols {
		typ := c.typ
		switch {
		case typ == "TIME" && postgres:
			typ = "TIMESTAMPTZ"
		case typ == "TIME":
			typ = "DATETIME"
		case typ == "BLOB" && postgres:
			typ = "BYTEA"
		case typ == "BOOL":
			typ = "BOOLEAN"
		case typ == "FLOAT" && postgres:
			typ = "DOUBLE PRECISION"
		case typ == "INT":
			typ = "INTEGER"
		}
		cols = append(cols, `"`+c.name+`" `+typ)
	}
	if t.pk != "" {
		cols = append(cols, "PRIMARY KEY ("+quoteList(t.pk)+")")
	}
	return fmt.Sprintf("CREATE TABLE %s (\n  %s\n)", t.name, strings.Join(cols, ",\n  "))
}

func quoteList(s string) string {
	parts := strings.Split(s, ", ")
	for i, p := range parts {
		parts[i] = `"` + p + `"`
	}
	return strings.Join(parts, ", ")
}

// DB is an Airflow database being filled.
type DB struct {
	t        testing.TB
	db       *sql.DB
	postgres bool
	Version  string
	tables   map[string]table
}

// Create makes the schema of release v in db (an empty SQLite file or
// PostgreSQL schema) and records its alembic revision.
func Create(t testing.TB, db *sql.DB, postgres bool, v string) *DB {
	t.Helper()
	rev, ok := Versions[v]
	if !ok {
		t.Fatalf("airflowtest: no fixture for Airflow %s", v)
	}
	d := &DB{t: t, db: db, postgres: postgres, Version: v, tables: map[string]table{}}
	for _, tb := range schema(v) {
		if _, err := db.Exec(tb.ddl(postgres)); err != nil {
			t.Fatalf("airflowtest: create %s: %v", tb.name, err)
		}
		d.tables[tb.name] = tb
	}
	d.Insert("alembic_version", map[string]any{"version_num": rev})
	return d
}

// Has reports whether the release's table has a column.
func (d *DB) Has(table, col string) bool {
	for _, c := range d.tables[table].cols {
		if c.name == col {
			return true
		}
	}
	return false
}

// Insert adds a row, leaving out the columns the release does not have.
// Times are written as Airflow writes them: naive UTC text in SQLite.
func (d *DB) Insert(table string, row map[string]any) {
	d.t.Helper()
	tb, ok := d.tables[table]
	if !ok {
		d.t.Fatalf("airflowtest: no table %s in %s", table, d.Version)
	}
	var cols, ph []string
	var args []any
	for _, c := range tb.cols {
		v, ok := row[c.name]
		if !ok {
			continue
		}
		if tm, isTime := v.(time.Time); isTime && !d.postgres {
			v = tm.UTC().Format("2006-01-02 15:04:05.000000")
		}
		cols = append(cols, `"`+c.name+`"`)
		args = append(args, v)
		if d.postgres {
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		} else {
			ph = append(ph, "?")
		}
	}
	if id, ok := row["id"]; ok && tb.pk == "" {
		cols = append(cols, "id")
		args = append(args, id)
		if d.postgres {
			ph = append(ph, fmt.Sprintf("$%d", len(args)))
		} else {
			ph = append(ph, "?")
		}
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, strings.Join(cols, ", "), strings.Join(ph, ", "))
	if _, err := d.db.Exec(q, args...); err != nil {
		d.t.Fatalf("airflowtest: insert into %s: %v", table, err)
	}
}

// Pickle returns Python's pickle (protocol 4, or 2 for 1.10's Python 2
// habits) of each expression.
func Pickle(t testing.TB, protocol int, exprs ...string) [][]byte {
	t.Helper()
	script := "import pickle, datetime\n"
	for _, e := range exprs {
		script += fmt.Sprintf("print(pickle.dumps(%s, protocol=%d).hex())\n", e, protocol)
	}
	out, err := exec.Command(Python, "-c", script).Output()
	if err != nil {
		t.Fatalf("airflowtest: pickle with %s: %v", Python, err)
	}
	var res [][]byte
	for _, line := range strings.Fields(string(out)) {
		b, err := hex.DecodeString(line)
		if err != nil {
			t.Fatal(err)
		}
		res = append(res, b)
	}
	return res
}

// Encrypt returns a Fernet token of plain under SourceKey.
func Encrypt(t testing.TB, plain string) string {
	t.Helper()
	k, err := fernet.Parse(SourceKey)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := k.Encrypt([]byte(plain))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Day is midnight UTC of January d, 2024: the fixtures' logical dates.
func Day(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }

// History is what Fill puts in a database; tests compare an import
// against it.
type History struct {
	// Runs are dag_id/run_id of the runs with a logical date.
	Runs []string
	// TaskInstances are dag_id/run_id/task_id of the task instances that
	// belong to a run.
	TaskInstances []string
	// Orphans counts task instances without a run (releases before 2.2).
	Orphans int
	// DatasetEvents counts the events of dataset s3://bucket/sales.csv
	// (releases from 2.4 on).
	DatasetEvents int
	// TriggeredBy maps dag_id/run_id of a run to the source_run_id of the
	// dataset event that triggered it (2.4 on).
	TriggeredBy map[string]string
	// Triggers counts the triggers (2.2 on), TaskMaps the mapped lengths
	// (2.3 on).
	Triggers, TaskMaps int
	// TriggerKwargs is the JSON of the trigger's kwargs.
	TriggerKwargs string
	// RunNotes and TaskNotes are the notes (2.5 on) by dag_id/run_id and
	// dag_id/run_id/task_id.
	RunNotes, TaskNotes map[string]string
	// Tries are dag_id/run_id/task_id/try_number host of the rows of
	// task_instance_history (2.10).
	Tries []string
}

// Fill inserts one known history: two DAGs, three runs (one with a conf
// pickle of an object), task instances (one without a run where the
// release allows it), a failure, a reschedule, XComs (one pickle of an
// object), rendered fields, plain and encrypted variables, an encrypted
// connection, pools, an SLA miss, audit log rows and jobs.
func Fill(ctx context.Context, d *DB) *History {
	t := d.t
	t.Helper()
	proto := 4
	if d.Version == "1.10" {
		proto = 2
	}
	p := Pickle(t, proto, `{}`, `{"param": [1, 2], "name": "x", "ratio": 0.5}`, `{"when": datetime.date(2024, 1, 3)}`,
		`{"rows": 3}`, `datetime.datetime(2024, 1, 1)`, `{}`)
	confEmpty, confPlain, confObject, xcomPlain, xcomObject, execCfg := p[0], p[1], p[2], p[3], p[4], p[5]
	d.Insert("dag", map[string]any{"dag_id": "etl", "is_paused": false, "is_active": true, "is_subdag": false, "fileloc": "/dags/etl.py",
		"owners": "data", "schedule_interval": `"@daily"`, "concurrency": 16, "max_active_tasks": 16, "max_active_runs": 16, "has_task_concurrency_limits": false})
	d.Insert("dag", map[string]any{"dag_id": "old", "is_paused": true, "is_active": true, "is_subdag": false, "fileloc": "/dags/old.py",
		"owners": "data", "concurrency": 16, "max_active_tasks": 16, "has_task_concurrency_limits": false})
	d.Insert("job", map[string]any{"id": 7, "dag_id": "etl", "state": "success", "job_type": "LocalTaskJob", "start_date": Day(1),
		"end_date": Day(1).Add(time.Minute), "latest_heartbeat": Day(1).Add(time.Minute), "executor_class": "LocalExecutor", "hostname": "worker-1", "unixname": "airflow"})
	d.Insert("job", map[string]any{"id": 8, "state": "running", "job_type": "SchedulerJob", "start_date": Day(1),
		"latest_heartbeat": Day(2), "executor_class": "LocalExecutor", "hostname": "sched-1", "unixname": "airflow"})
	runs := []struct {
		dag, id, typ, state string
		day                 int
		ext                 bool
		conf                []byte
	}{
		{"etl", "scheduled__2024-01-01T00:00:00+00:00", "scheduled", "success", 1, false, confEmpty},
		{"etl", "manual__2024-01-02T00:00:00+00:00", "manual", "failed", 2, true, confPlain},
		{"old", "manual__2024-01-03T00:00:00+00:00", "manual", "success", 3, true, confObject},
	}
	h := &History{}
	runIDs := map[string]int64{}
	for i, r := range runs {
		row := map[string]any{"id": i + 1, "dag_id": r.dag, "run_id": r.id, "execution_date": Day(r.day), "state": r.state,
			"external_trigger": r.ext, "conf": r.conf, "start_date": Day(r.day).Add(time.Minute), "end_date": Day(r.day).Add(time.Hour),
			"run_type": r.typ, "queued_at": Day(r.day), "data_interval_start": Day(r.day - 1), "data_interval_end": Day(r.day),
			"creating_job_id": 8, "log_template_id": 1, "updated_at": Day(r.day).Add(time.Hour), "clear_number": 0}
		d.Insert("dag_run", row)
		runIDs[r.dag+"/"+r.id] = int64(i + 1)
		h.Runs = append(h.Runs, r.dag+"/"+r.id)
	}
	tis := []struct {
		dag, run, task, state string
		day, try              int
	}{
		{"etl", runs[0].id, "extract", "success", 1, 1},
		{"etl", runs[0].id, "load", "success", 1, 1},
		{"etl", runs[1].id, "extract", "success", 2, 1},
		{"etl", runs[1].id, "load", "failed", 2, 2},
		{"old", runs[2].id, "only", "success", 3, 1},
	}
	for _, ti := range tis {
		row := map[string]any{"dag_id": ti.dag, "task_id": ti.task, "run_id": ti.run, "execution_date": Day(ti.day), "map_index": -1,
			"start_date": Day(ti.day).Add(2 * time.Minute), "end_date": Day(ti.day).Add(3 * time.Minute), "duration": 60.5, "state": ti.state,
			"try_number": ti.try, "max_tries": 1, "hostname": "worker-1", "unixname": "airflow", "job_id": 7, "pool": "etl_pool", "pool_slots": 1,
			"queue": "default", "priority_weight": 2, "operator": "BashOperator", "custom_operator_name": "BashOperator",
			"queued_dttm": Day(ti.day).Add(time.Minute), "pid": 4242, "executor_config": execCfg, "queued_by_job_id": 8,
			"updated_at": Day(ti.day).Add(3 * time.Minute), "task_display_name": ti.task, "executor": "LocalExecutor"}
		d.Insert("task_instance", row)
		h.TaskInstances = append(h.TaskInstances, ti.dag+"/"+ti.run+"/"+ti.task)
	}
	if !at(d.Version, "2.2") {
		// `airflow tasks test` leaves task instances without a run.
		d.Insert("task_instance", map[string]any{"dag_id": "etl", "task_id": "extract", "execution_date": Day(9), "state": "success",
			"try_number": 1, "max_tries": 0, "pool": "default_pool", "pool_slots": 1, "priority_weight": 1})
		h.Orphans = 1
	}
	failed := map[string]any{"dag_id": "etl", "task_id": "load", "run_id": runs[1].id, "execution_date": Day(2), "map_index": -1,
		"start_date": Day(2).Add(2 * time.Minute), "end_date": Day(2).Add(3 * time.Minute), "duration": 60}
	d.Insert("task_fail", failed)
	d.Insert("task_reschedule", map[string]any{"dag_id": "etl", "task_id": "extract", "run_id": runs[0].id, "execution_date": Day(1),
		"map_index": -1, "try_number": 1, "start_date": Day(1).Add(time.Minute), "end_date": Day(1).Add(time.Minute), "duration": 0,
		"reschedule_date": Day(1).Add(2 * time.Minute)})
	xcomValue := []byte(`{"rows": 3}`)
	if !at(d.Version, "2.0") {
		xcomValue = xcomPlain // pickling was the default before 2.0
	}
	for _, x := range []struct {
		task, key string
		value     []byte
	}{{"extract", "return_value", xcomValue}, {"load", "when", xcomObject}} {
		d.Insert("xcom", map[string]any{"dag_run_id": runIDs["etl/"+runs[0].id], "dag_id": "etl", "task_id": x.task, "run_id": runs[0].id,
			"execution_date": Day(1), "map_index": -1, "key": x.key, "value": x.value, "timestamp": Day(1).Add(3 * time.Minute)})
	}
	d.Insert("rendered_task_instance_fields", map[string]any{"dag_id": "etl", "task_id": "extract", "run_id": runs[0].id, "execution_date": Day(1),
		"map_index": -1, "rendered_fields": `{"bash_command": "echo 2024-01-01"}`})
	d.Insert("variable", map[string]any{"key": "plain_var", "val": "hello", "is_encrypted": false, "description": "a plain one"})
	d.Insert("variable", map[string]any{"key": "secret_var", "val": Encrypt(t, "s3cr3t"), "is_encrypted": true})
	d.Insert("connection", map[string]any{"conn_id": "my_pg", "conn_type": "postgres", "host": "db.example", "schema": "sales",
		"login": "etl", "password": Encrypt(t, "pg-pass"), "port": 5432, "is_encrypted": true, "is_extra_encrypted": true,
		"extra": Encrypt(t, `{"sslmode": "require"}`)})
	d.Insert("slot_pool", map[string]any{"pool": "default_pool", "slots": 128, "description": "Default pool", "include_deferred": false})
	d.Insert("slot_pool", map[string]any{"pool": "etl_pool", "slots": 4, "description": "ETL", "include_deferred": false})
	d.Insert("sla_miss", map[string]any{"task_id": "load", "dag_id": "etl", "execution_date": Day(2), "email_sent": false,
		"timestamp": Day(2).Add(time.Hour), "notification_sent": false})
	d.Insert("log", map[string]any{"dttm": Day(2), "dag_id": "etl", "event": "trigger", "owner": "admin", "extra": "{}"})
	d.Insert("log", map[string]any{"dttm": Day(2).Add(time.Minute), "dag_id": "etl", "task_id": "load", "event": "failed",
		"execution_date": Day(2), "owner": "airflow", "map_index": -1, "run_id": runs[1].id, "try_number": 2})
	fillLater(d, h, runs[0].id, runs[1].id, runIDs["etl/"+runs[1].id])
	if _, ok := d.tables["dataset"]; ok {
		d.Insert("dataset", map[string]any{"id": 5, "uri": "s3://bucket/sales.csv", "extra": `{"team": "sales"}`, "created_at": Day(1),
			"updated_at": Day(2), "is_orphaned": false})
		for i, day := range []int{1, 2} {
			d.Insert("dataset_event", map[string]any{"id": 10 + i, "dataset_id": 5, "extra": "{}", "source_task_id": "load", "source_dag_id": "etl",
				"source_run_id": runs[i].id, "source_map_index": -1, "timestamp": Day(day).Add(3 * time.Minute)})
		}
		h.DatasetEvents = 2
		// The first event triggered the run of "old".
		d.Insert("dagrun_dataset_event", map[string]any{"dag_run_id": 3, "event_id": 10})
		d.Insert("dag_schedule_dataset_reference", map[string]any{"dataset_id": 5, "dag_id": "old", "created_at": Day(1), "updated_at": Day(1)})
		d.Insert("dataset_dag_run_queue", map[string]any{"dataset_id": 5, "target_dag_id": "old", "created_at": Day(2)})
		h.TriggeredBy = map[string]string{"old/" + runs[2].id: runs[0].id}
	}
	return h
}

// fillLater inserts rows in the tables of later releases: a trigger, a
// mapped length, a run's and a task's note, and the first try of the
// task instance that failed twice.
func fillLater(d *DB, h *History, run0, run1 string, run1ID int64) {
	t := d.t
	t.Helper()
	h.RunNotes, h.TaskNotes = map[string]string{}, map[string]string{}
	if _, ok := d.tables["trigger"]; ok {
		h.TriggerKwargs = `{"moment": "2024-01-02T00:05:00+00:00"}`
		kwargs := h.TriggerKwargs
		if at(d.Version, "2.9") {
			kwargs = Encrypt(t, kwargs)
		}
		d.Insert("trigger", map[string]any{"id": 3, "classpath": "airflow.triggers.temporal.DateTimeTrigger", "kwargs": kwargs,
			"created_date": Day(2).Add(4 * time.Minute), "triggerer_id": 8})
		h.Triggers = 1
	}
	if _, ok := d.tables["task_map"]; ok {
		d.Insert("task_map", map[string]any{"dag_id": "etl", "task_id": "extract", "run_id": run0, "map_index": -1, "length": 3})
		h.TaskMaps = 1
	}
	if _, ok := d.tables["dag_run_note"]; ok {
		d.Insert("dag_run_note", map[string]any{"dag_run_id": run1ID, "content": "rerun after the fix", "created_at": Day(3), "updated_at": Day(3)})
		d.Insert("task_instance_note", map[string]any{"dag_id": "etl", "task_id": "load", "run_id": run1, "map_index": -1,
			"content": "the source was late", "created_at": Day(3), "updated_at": Day(3).Add(time.Hour)})
		h.RunNotes["etl/"+run1] = "rerun after the fix"
		h.TaskNotes["etl/"+run1+"/load"] = "the source was late"
	}
	if _, ok := d.tables["task_instance_history"]; ok {
		d.Insert("task_instance_history", map[string]any{"id": 1, "dag_id": "etl", "task_id": "load", "run_id": run1, "map_index": -1,
			"try_number": 1, "state": "failed", "start_date": Day(2).Add(time.Minute), "end_date": Day(2).Add(90 * time.Second),
			"duration": 30.0, "hostname": "worker-0", "unixname": "airflow", "job_id": 7, "pool": "etl_pool", "pool_slots": 1,
			"queue": "default", "priority_weight": 2, "operator": "BashOperator", "max_tries": 1, "executor": "LocalExecutor"})
		h.Tries = append(h.Tries, "etl/"+run1+"/load/1 worker-0")
	}
}
