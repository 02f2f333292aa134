package cli_test

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/store/sqlite"
)

// dailyDAG runs one quick task a day.
const dailyDAG = `daily:
  schedule: "@daily"
  start_date: 2024-01-01
  catchup: false
  tasks:
    - task_id: hello
      operator: bash
      bash_command: "true"
`

// daemon is a long-running windsock process (scheduler, standalone).
type daemon struct {
	cmd   *exec.Cmd
	lines chan string // its stderr, line by line, closed at exit
	seen  []string    // the lines up to and with the ready one
}

// startDaemon starts windsock with args and waits until a stderr line
// contains ready. It is stopped when the test ends.
func (h *home) startDaemon(t *testing.T, ready string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = h.env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	d := &daemon{cmd: cmd, lines: make(chan string, 1000)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case d.lines <- sc.Text():
			default:
			}
		}
		close(d.lines)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	deadline := time.After(90 * time.Second)
	for {
		select {
		case l, ok := <-d.lines:
			if !ok {
				t.Fatalf("windsock %v exited before %q:\n%s", args, ready, strings.Join(d.seen, "\n"))
			}
			d.seen = append(d.seen, l)
			if strings.Contains(l, ready) {
				return d
			}
		case <-deadline:
			t.Fatalf("windsock %v: no %q", args, ready)
		}
	}
}

// events reads the event log of a home's SQLite database.
func (h *home) events(t *testing.T) []*eventRow {
	t.Helper()
	st, err := sqlite.Open(t.Context(), filepath.Join(h.dir, "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	es, err := st.EventLogList(t.Context(), &store.EventLogListParams{})
	if err != nil {
		t.Fatal(err)
	}
	var out []*eventRow
	for _, e := range es {
		out = append(out, &eventRow{Event: e.Event, Owner: e.Owner, DagID: e.DagID, TaskID: e.TaskID, Extra: e.Extra})
	}
	return out
}

type eventRow struct{ Event, Owner, DagID, TaskID, Extra string }

func TestVersionThroughAirflowLink(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "daily.yaml", dailyDAG)
	version := strings.TrimSpace(h.ok(t, "version"))
	if version == "" {
		t.Fatal("version printed nothing")
	}
	link := filepath.Join(t.TempDir(), "airflow")
	if err := os.Symlink(binary, link); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(link, args...)
		cmd.Env = h.env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("airflow %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if got := strings.TrimSpace(run("version")); got != version {
		t.Errorf("airflow version = %q, want %q", got, version)
	}
	if got := run("dags", "list", "-o", "plain"); !strings.Contains(got, "daily") {
		t.Errorf("airflow dags list = %q, want the daily DAG", got)
	}
	if got := run("cheat-sheet"); !strings.Contains(got, "airflow dags list") || !strings.Contains(got, "airflow jobs check") {
		t.Errorf("cheat-sheet through the link does not name commands as airflow ...:\n%s", got)
	}
	info := run("info")
	for _, want := range []string{"Apache Airflow", "version", version, "sql_alchemy_conn", "airflow_home", h.dir} {
		if !strings.Contains(info, want) {
			t.Errorf("info lacks %q:\n%s", want, info)
		}
	}
}

func TestJobsCheckAndSchedulerLock(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "daily.yaml", dailyDAG)

	r := h.run(t, "", "jobs", "check")
	if r.code != 1 || !strings.Contains(r.stderr, "No alive jobs found.") {
		t.Fatalf("jobs check without a scheduler: exit %d, stderr %q; want 1 and No alive jobs found.", r.code, r.stderr)
	}
	// Airflow exits 1 (SystemExit) for these, not argparse's 2.
	h.fails(t, "you must set the limit to a value greater than 1", "jobs", "check", "--allow-multiple")
	h.fails(t, "You can't use --hostname and --local at the same time", "jobs", "check", "--local", "--hostname", "x")

	h.startDaemon(t, "scheduler is running", "scheduler")
	if got := h.ok(t, "jobs", "check", "--job-type", "SchedulerJob"); got != "Found one alive job.\n" {
		t.Errorf("jobs check = %q", got)
	}
	h.ok(t, "jobs", "check", "--local")
	h.fails(t, "No alive jobs found.", "jobs", "check", "--hostname", "no-such-host")
	h.fails(t, "No alive jobs found.", "jobs", "check", "--job-type", "TriggererJob")

	// A second scheduler on the same SQLite home stops, unless it joins.
	h.fails(t, "already in use by another windsock standalone or scheduler", "scheduler")
	h.startDaemon(t, "scheduler is running", "scheduler", "--join")
	h.fails(t, "Found 2 alive jobs. Expected only one.", "jobs", "check", "--limit", "2")
	if got := h.ok(t, "jobs", "check", "--limit", "2", "--allow-multiple"); got != "Found 2 alive jobs.\n" {
		t.Errorf("jobs check --allow-multiple = %q", got)
	}
}

func TestStandaloneGuards(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	port := freePort(t)
	h.startDaemon(t, "is ready", "standalone", "--port", port)
	h.fails(t, "already in use by another windsock standalone or scheduler", "standalone", "--port", freePort(t))
	h.fails(t, "pass --join", "scheduler")

	// A busy port names --port.
	other := newHome(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, busy, _ := net.SplitHostPort(ln.Addr().String())
	other.fails(t, "port "+busy+" is in use: choose another with --port", "standalone", "--port", busy)
}

func TestDBCleanAndExportArchived(t *testing.T) {
	t.Parallel()
	t.Run("SQLite", func(t *testing.T) {
		t.Parallel()
		testDBClean(t, newHome(t))
	})
	t.Run("PostgreSQL", func(t *testing.T) {
		t.Parallel()
		testDBClean(t, newHome(t, "WINDSOCK__DATABASE__SQL_ALCHEMY_CONN="+pgtest.FreshSchemaURL(t)))
	})
}

// testDBClean runs db clean, export-archived and reset on h's database.
func testDBClean(t *testing.T, h *home) {
	h.writeDAG(t, "daily.yaml", dailyDAG)
	// One backfill a day, so that the runs start at different times.
	for _, day := range []string{"2024-01-01", "2024-01-02", "2024-01-03"} {
		h.ok(t, "dags", "backfill", "daily", "-s", day, "-e", day)
	}
	runs := func() int {
		var rs []any
		json.Unmarshal([]byte(h.ok(t, "dags", "list-runs", "-d", "daily", "-o", "json")), &rs)
		return len(rs)
	}
	if n := runs(); n != 3 {
		t.Fatalf("backfill made %d runs, want 3", n)
	}

	out := h.ok(t, "db", "clean", "--clean-before-timestamp", "2100-01-01", "--dry-run")
	for _, want := range []string{
		"Performing dry run for db cleanup.",
		"Data prior to 2100-01-01 00:00:00+00:00 would be purged",
		"Checking table dag_run\nFound 2 rows meeting deletion criteria.", // the latest scheduled run stays
		"Checking table task_instance\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if n := runs(); n != 3 {
		t.Fatalf("a dry run deleted runs: %d left", n)
	}

	// Without -y it asks, and anything but "delete rows" stops it.
	r := h.run(t, "no\n", "db", "clean", "--clean-before-timestamp", "2100-01-01", "--tables", "dag_run")
	if r.code != 1 || !strings.Contains(r.stderr, "User did not confirm; exiting.") || !strings.Contains(r.stdout, "Enter 'delete rows'") {
		t.Fatalf("unconfirmed clean: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = h.run(t, "delete rows\n", "db", "clean", "--clean-before-timestamp", "2100-01-01", "--tables", "dag_run,log,bogus")
	if r.code != 0 || !strings.Contains(r.stdout, "Moving data to table _airflow_deleted__dag_run__") ||
		!strings.Contains(r.stderr, "not valid choices and will be skipped: ['bogus']") {
		t.Fatalf("confirmed clean: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	if n := runs(); n != 1 {
		t.Fatalf("runs after clean = %d, want the latest only", n)
	}

	h.fails(t, "does not exist", "db", "export-archived", "--output-path", filepath.Join(h.dir, "missing"))
	dir := t.TempDir()
	if got := h.ok(t, "db", "export-archived", "--output-path", dir, "--tables", "dag_run"); got != "Total exported tables: 1, Total dropped tables: 0\n" {
		t.Errorf("export-archived = %q", got)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "_airflow_deleted__dag_run__*.csv"))
	if len(files) != 1 {
		t.Fatalf("export wrote %v, want one dag_run CSV", files)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !strings.Contains(strings.Join(recs[0], ","), "run_id") {
		t.Fatalf("CSV = %v, want a header with run_id and the 2 purged runs", recs)
	}

	h.ok(t, "db", "export-archived", "--output-path", dir, "--drop-archives", "-y")
	if got := h.ok(t, "db", "export-archived", "--output-path", dir); got != "Total exported tables: 0, Total dropped tables: 0\n" {
		t.Errorf("after --drop-archives = %q, want nothing left", got)
	}

	// db reset drops everything and builds the schema again.
	if r := h.run(t, "n\n", "db", "reset"); r.code != 1 || !strings.Contains(r.stderr, "Cancelled") {
		t.Fatalf("unconfirmed reset: exit %d %s", r.code, r.stderr)
	}
	h.ok(t, "db", "reset", "-y")
	h.fails(t, "not found", "dags", "list-runs", "-d", "daily")
	h.ok(t, "db", "check")
}

func TestDagsAndTasksCommands(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "daily.yaml", dailyDAG)
	h.writeDAG(t, "etl.yaml", etlDAG)
	h.ok(t, "dags", "test", "etl", "2024-01-01")

	if got := h.ok(t, "tasks", "state", "etl", "load", "2024-01-01"); got != "success\n" {
		t.Errorf("tasks state = %q, want success", got)
	}
	deps := h.ok(t, "tasks", "failed-deps", "etl", "load", "2024-01-01")
	if !strings.Contains(deps, "dependency 'Task Instance State', FAILED: Task is in the 'success' state") {
		t.Errorf("failed-deps of a finished task = %q", deps)
	}

	// next-execution: the daily DAG (no catchup) next runs at today's
	// midnight; -n 2 shows the day after too.
	next := strings.Fields(h.ok(t, "dags", "next-execution", "daily", "-n", "2"))
	if len(next) != 2 {
		t.Fatalf("next-execution -n 2 printed %v", next)
	}
	a, err1 := time.Parse(time.RFC3339, next[0])
	b, err2 := time.Parse(time.RFC3339, next[1])
	if err1 != nil || err2 != nil || b.Sub(a) != 24*time.Hour {
		t.Errorf("next executions %v are not a day apart", next)
	}

	var details []map[string]any
	if err := json.Unmarshal([]byte(h.ok(t, "dags", "details", "etl", "-o", "json")), &details); err != nil || len(details) != 1 {
		t.Fatalf("dags details -o json: %v", err)
	}
	if details[0]["dag_id"] != "etl" || details[0]["description"] != "extract, transform, load" || details[0]["timetable_description"] == nil {
		t.Errorf("details = %v", details[0])
	}
	if table := h.ok(t, "dags", "details", "etl"); !strings.Contains(table, "property_name") || !strings.Contains(table, "max_active_runs") {
		t.Errorf("details table = %s", table)
	}
	serialized := func() int {
		t.Helper()
		st, err := sqlite.Open(t.Context(), filepath.Join(h.dir, "windsock.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		hashes, err := st.SerializedDAGHashes(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return len(hashes)
	}
	h.ok(t, "dags", "reserialize", "--clear-only")
	if n := serialized(); n != 0 {
		t.Errorf("after reserialize --clear-only %d definitions are stored, want none", n)
	}
	h.ok(t, "dags", "reserialize")
	if n := serialized(); n != 2 {
		t.Errorf("after reserialize %d definitions are stored, want 2", n)
	}

	// dags delete asks; -y removes every record of the DAG.
	if got := h.run(t, "n\n", "dags", "delete", "etl"); got.code != 0 || !strings.Contains(got.stdout, "Cancelled") {
		t.Fatalf("unconfirmed delete: %+v", got)
	}
	if got := h.ok(t, "dags", "delete", "etl", "-y"); !strings.HasPrefix(got, "Removed ") {
		t.Errorf("delete = %q", got)
	}
	h.fails(t, "not found", "dags", "list-runs", "-d", "etl")
	h.fails(t, "Dag id etl not found", "dags", "delete", "etl", "-y")
}

func TestUsersExportImportAndAudit(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "daily.yaml", dailyDAG)
	h.ok(t, "users", "create", "-u", "alice", "-f", "Alice", "-l", "A", "-e", "alice@example.com", "-r", "Op", "-p", "hunter2-secret")
	h.ok(t, "users", "create", "-u", "bob", "-f", "Bob", "-l", "B", "-e", "bob@example.com", "-r", "Viewer", "--password=bob-secret")
	file := filepath.Join(t.TempDir(), "users.json")
	if got := h.ok(t, "users", "export", file); got != "2 users successfully exported to "+file+"\n" {
		t.Errorf("export = %q", got)
	}
	var users []map[string]any
	b, _ := os.ReadFile(file)
	if err := json.Unmarshal(b, &users); err != nil || len(users) != 2 {
		t.Fatalf("export file %s: %v", b, err)
	}
	for _, k := range []string{"email", "firstname", "lastname", "roles", "username", "id"} {
		if _, ok := users[0][k]; !ok {
			t.Errorf("exported user lacks %q: %v", k, users[0])
		}
	}

	h.ok(t, "users", "delete", "-u", "bob")
	users[0]["firstname"], users[0]["roles"] = "Alicia", []string{"User"}
	b, _ = json.Marshal(users)
	os.WriteFile(file, b, 0o600)
	out := h.ok(t, "users", "import", file)
	if !strings.Contains(out, "Found existing user with email 'alice@example.com'") || !strings.Contains(out, "Creating new user with email 'bob@example.com'") {
		t.Errorf("import output:\n%s", out)
	}
	var listed []struct {
		Username  string   `json:"username"`
		FirstName string   `json:"first_name"`
		Roles     []string `json:"roles"`
	}
	json.Unmarshal([]byte(h.ok(t, "users", "list", "-o", "json")), &listed)
	got := map[string]string{}
	for _, u := range listed {
		got[u.Username] = u.FirstName + ":" + strings.Join(u.Roles, ",")
	}
	if got["alice"] != "Alicia:User" || got["bob"] != "Bob:Viewer" {
		t.Errorf("after import users = %v, want alice Alicia:User and bob Bob:Viewer", got)
	}

	if got := h.ok(t, "users", "reset-password", "-u", "alice", "-p", "new-pass-secret"); got != "User \"alice\" password reset successfully\n" {
		t.Errorf("reset-password = %q", got)
	}
	h.fails(t, "does not exist", "users", "reset-password", "-e", "nobody@example.com", "-p", "x")

	h.ok(t, "variables", "set", "api_password", "var-secret")
	h.ok(t, "connections", "add", "db1", "--conn-uri", "postgres://u:conn-secret@db.example.com:5432/x")
	h.ok(t, "dags", "trigger", "daily")
	h.ok(t, "dags", "pause", "daily")
	h.ok(t, "dags", "list")

	byEvent := map[string]*eventRow{}
	for _, e := range h.events(t) {
		for _, secret := range []string{"hunter2-secret", "bob-secret", "new-pass-secret", "var-secret", "conn-secret"} {
			if strings.Contains(e.Extra, secret) {
				t.Errorf("%s row leaks %q: %s", e.Event, secret, e.Extra)
			}
		}
		byEvent[e.Event] = e
	}
	for _, ev := range []string{"cli_users_create", "cli_users_delete", "cli_users_import", "cli_user_reset_password",
		"cli_variables_set", "cli_connections_add", "cli_dag_trigger", "cli_dag_pause"} {
		e := byEvent[ev]
		if e == nil {
			t.Errorf("no %s row; rows: %v", ev, keys(byEvent))
			continue
		}
		var extra struct {
			HostName    string `json:"host_name"`
			FullCommand string `json:"full_command"`
		}
		if err := json.Unmarshal([]byte(e.Extra), &extra); err != nil || extra.HostName == "" || !strings.HasPrefix(extra.FullCommand, "['") {
			t.Errorf("%s extra = %s, want host_name and a full_command list", ev, e.Extra)
		}
		if e.Owner == "" {
			t.Errorf("%s has no owner", ev)
		}
	}
	if _, ok := byEvent["cli_pause"]; ok {
		t.Error("dags pause wrote its old cli_pause row beside Airflow's cli_dag_pause")
	}
	if e := byEvent["cli_dag_trigger"]; e != nil && e.DagID != "daily" {
		t.Errorf("cli_dag_trigger dag_id = %q", e.DagID)
	}
	if e := byEvent["cli_users_create"]; e != nil && !strings.Contains(e.Extra, "'-p', '********'") {
		t.Errorf("users create row does not mask -p as Airflow does: %s", e.Extra)
	}
	if _, ok := byEvent["cli_dags_list"]; ok {
		t.Error("a read-only command was audited")
	}
}

func keys(m map[string]*eventRow) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestConnectionsTest(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	off := newHome(t)
	off.ok(t, "connections", "add", "web", "--conn-uri", srv.URL)
	off.fails(t, "Testing connections is disabled", "connections", "test", "web")

	h := newHome(t, "WINDSOCK__CORE__TEST_CONNECTION=Enabled")
	h.ok(t, "connections", "add", "web", "--conn-type", "http", "--conn-host", srv.URL)
	h.ok(t, "connections", "add", "broken", "--conn-type", "http", "--conn-host", srv.URL+"/missing")
	if out := h.ok(t, "connections", "test", "web"); !strings.Contains(out, "Retrieving connection: 'web'") || !strings.Contains(out, "Connection success!") {
		t.Errorf("test of a live connection:\n%s", out)
	}
	if out := h.ok(t, "connections", "test", "broken"); !strings.Contains(out, "Connection failed!\n404") {
		t.Errorf("test of a failing connection:\n%s", out)
	}
	h.fails(t, "Connection not found.", "connections", "test", "nope")
}

// TestSchedulerLockFollowsTheSQLiteFile: two homes pointing at one SQLite
// file are one environment, so the second scheduler stops too.
func TestSchedulerLockFollowsTheSQLiteFile(t *testing.T) {
	t.Parallel()
	db := "WINDSOCK__DATABASE__SQL_ALCHEMY_CONN=sqlite:///" + filepath.Join(t.TempDir(), "shared.db")
	a, b := newHome(t, db), newHome(t, db)
	a.startDaemon(t, "scheduler is running", "scheduler")
	b.fails(t, "shared.db is already in use", "scheduler")

	// A home whose database is another home's own file.
	c := newHome(t)
	d := newHome(t, "WINDSOCK__DATABASE__SQL_ALCHEMY_CONN=sqlite:///"+filepath.Join(c.dir, "windsock.db"))
	c.startDaemon(t, "scheduler is running", "scheduler")
	d.fails(t, "windsock.db is already in use", "scheduler")
}
