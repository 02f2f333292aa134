package cli_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// jsonFieldNames returns the keys of the first object of a JSON list, in
// the order they were printed.
func jsonFieldNames(t *testing.T, out string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	for _, want := range []json.Delim{'[', '{'} {
		tok, err := dec.Token()
		if err != nil || tok != want {
			t.Fatalf("output is not a list of objects (%v, %v):\n%s", tok, err, out)
		}
	}
	var names []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		names = append(names, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
	}
	return names
}

// TestListCommandsUseAirflowFieldNames runs every command that prints -o
// json and checks its field names, in order, against the mapper of the
// same command in Airflow 2.10 (airflow/cli/commands/*.py, quoted beside
// each case; the users and roles commands are in the FAB provider's
// auth_manager/cli_commands). The lists are written from Airflow's source,
// not from Windsock's tables.
func TestListCommandsUseAirflowFieldNames(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	h.writeDAG(t, "broken.yaml", brokenDAG)
	h.ok(t, "variables", "set", "k", "v")
	h.ok(t, "connections", "add", "db", "--conn-uri", "postgres://u:pw@h:5432/s")
	h.ok(t, "users", "create", "-u", "ada", "-p", "x", "-r", "Op", "-f", "A", "-l", "L", "-e", "ada@example.com")
	trigger := h.ok(t, "dags", "trigger", "etl", "-e", "2024-05-01", "-o", "json")
	runID := "manual__2024-05-01T00:00:00+00:00"

	cases := []struct {
		args []string
		code int // exit code
		want []string
	}{
		// dag_command.dag_list_dags: default --columns.
		{[]string{"dags", "list"}, 0, []string{"dag_id", "fileloc", "owners", "is_paused"}},
		// --columns picks among api_connexion/schemas/dag_schema.py's DAGSchema fields.
		{[]string{"dags", "list", "--columns", "dag_id,is_active,tags,schedule_interval,next_dagrun,timetable_description"}, 0,
			[]string{"dag_id", "is_active", "tags", "schedule_interval", "next_dagrun", "timetable_description"}},
		// dag_command.dag_list_import_errors: {"filepath": filename, "error": errors}, then sys.exit(1).
		{[]string{"dags", "list-import-errors"}, 1, []string{"filepath", "error"}},
		// dag_command.dag_report.
		{[]string{"dags", "report"}, 0, []string{"file", "duration", "dag_num", "task_num", "dags"}},
		// dag_command.dag_list_dag_runs.
		{[]string{"dags", "list-runs", "-d", "etl"}, 0, []string{"dag_id", "run_id", "state", "execution_date", "start_date", "end_date"}},
		// dag_command.dag_details: dag_schema (DAGSchema) dumped, in its declaration order.
		{[]string{"dags", "details", "etl"}, 0, []string{"dag_id", "dag_display_name", "root_dag_id", "is_paused", "is_active", "is_subdag",
			"last_parsed_time", "last_pickled", "last_expired", "scheduler_lock", "pickle_id", "default_view", "fileloc", "file_token", "owners",
			"description", "schedule_interval", "timetable_description", "tags", "max_active_tasks", "max_active_runs",
			"max_consecutive_failed_dag_runs", "has_task_concurrency_limits", "has_import_errors", "next_dagrun",
			"next_dagrun_data_interval_start", "next_dagrun_data_interval_end", "next_dagrun_create_after"}},
		// dag_command.set_is_paused.
		{[]string{"dags", "unpause", "etl"}, 0, []string{"dag_id", "is_paused"}},
		// task_command.task_states_for_dag_run (no mapped task instances).
		{[]string{"tasks", "states-for-dag-run", "etl", runID}, 0, []string{"dag_id", "execution_date", "task_id", "state", "start_date", "end_date"}},
		// variable_command.variables_list.
		{[]string{"variables", "list"}, 0, []string{"key"}},
		// connection_command._connection_mapper (connections list and get).
		{[]string{"connections", "list"}, 0, []string{"id", "conn_id", "conn_type", "description", "host", "schema", "login", "password", "port", "is_encrypted", "is_extra_encrypted", "extra_dejson", "get_uri"}},
		{[]string{"connections", "get", "db"}, 0, []string{"id", "conn_id", "conn_type", "description", "host", "schema", "login", "password", "port", "is_encrypted", "is_extra_encrypted", "extra_dejson", "get_uri"}},
		// pool_command._show_pools (pools list and get).
		{[]string{"pools", "list"}, 0, []string{"pool", "slots", "description", "include_deferred"}},
		{[]string{"pools", "get", "default_pool"}, 0, []string{"pool", "slots", "description", "include_deferred"}},
		// user_command.users_list.
		{[]string{"users", "list"}, 0, []string{"id", "username", "email", "first_name", "last_name", "roles"}},
		// role_command.roles_list, without and with -p.
		{[]string{"roles", "list"}, 0, []string{"name"}},
		{[]string{"roles", "list", "-p"}, 0, []string{"name", "resource", "action"}},
	}
	for _, c := range cases {
		args := append(c.args, "-o", "json")
		r := h.run(t, "", args...)
		if r.code != c.code {
			t.Errorf("windsock %s: exit %d, want %d\n%s", strings.Join(args, " "), r.code, c.code, r.stderr)
			continue
		}
		if got := jsonFieldNames(t, r.stdout); !slices.Equal(got, c.want) {
			t.Errorf("windsock %s fields:\n got %v\nwant %v", strings.Join(args, " "), got, c.want)
		}
	}

	// dag_command.dag_trigger prints the dict of api/client/local_client.py's
	// trigger_dag, its datetimes as Python's str() prints them.
	want := []string{"conf", "dag_id", "dag_run_id", "data_interval_start", "data_interval_end", "end_date", "external_trigger",
		"last_scheduling_decision", "logical_date", "run_type", "start_date", "state"}
	if got := jsonFieldNames(t, trigger); !slices.Equal(got, want) {
		t.Errorf("dags trigger fields:\n got %v\nwant %v", got, want)
	}
	var trig []map[string]any
	json.Unmarshal([]byte(trigger), &trig)
	if v := trig[0]; v["logical_date"] != "2024-05-01 00:00:00+00:00" || v["external_trigger"] != "True" || v["end_date"] != nil || v["state"] != "queued" {
		t.Errorf("dags trigger values = %v", v)
	}
}

// TestListCommandValuesAreAirflowShaped checks value shapes Airflow users
// script against: str() of numbers and booleans, null for None, isoformat
// dates where the mapper calls .isoformat(), "" for an unset date there.
func TestListCommandValuesAreAirflowShaped(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.writeDAG(t, "etl.yaml", etlDAG)
	h.ok(t, "dags", "trigger", "etl", "-e", "2024-05-01")
	runID := "manual__2024-05-01T00:00:00+00:00"

	var runs []map[string]any
	json.Unmarshal([]byte(h.ok(t, "dags", "list-runs", "-d", "etl", "-o", "json")), &runs)
	if len(runs) != 1 || runs[0]["execution_date"] != "2024-05-01T00:00:00+00:00" || runs[0]["start_date"] != "" || runs[0]["state"] != "queued" {
		t.Errorf("list-runs = %v", runs)
	}
	var tis []map[string]any
	json.Unmarshal([]byte(h.ok(t, "tasks", "states-for-dag-run", "etl", runID, "-o", "json")), &tis)
	if len(tis) != 3 || tis[0]["state"] != nil || tis[0]["execution_date"] != "2024-05-01T00:00:00+00:00" {
		t.Errorf("states-for-dag-run = %v", tis)
	}
	if out := h.ok(t, "pools", "list", "-o", "json"); out != `[{"pool": "default_pool", "slots": "128", "description": "Default pool", "include_deferred": "False"}]`+"\n" {
		t.Errorf("pools list = %s", out)
	}
	if out := h.ok(t, "pools", "list", "-o", "yaml"); !strings.Contains(out, "slots: \"128\"") || !strings.Contains(out, "include_deferred: \"False\"") {
		t.Errorf("pools list -o yaml = %s", out)
	}
	table := h.ok(t, "tasks", "states-for-dag-run", "etl", runID)
	if !strings.HasPrefix(table, "dag_id | execution_date            | task_id   | state | start_date | end_date\n"+
		"=======+===========================+===========+=======+============+=========\n") || !strings.Contains(table, "etl    | 2024-05-01T00:00:00+00:00 | extract   | None  |            |\n") {
		t.Errorf("states-for-dag-run table:\n%s", table)
	}
	r := h.run(t, "", "dags", "list", "--columns", "dag_id,tags,nope,schedule_interval", "-o", "json")
	want := `[{"dag_id": "etl", "tags": [{"name": "etl"}], "schedule_interval": {"__type": "CronExpression", "value": "@daily"}}]` + "\n"
	if r.code != 0 || r.stdout != want || !strings.Contains(r.stderr, "Ignoring the following invalid columns: ['nope']") {
		t.Errorf("dags list --columns: exit %d\n%s%s\nwant %s", r.code, r.stdout, r.stderr, want)
	}
	if out := h.ok(t, "variables", "list"); out != "No data found\n" {
		t.Errorf("empty variables list = %q", out)
	}
	if out := h.ok(t, "variables", "list", "-o", "json"); out != "[]\n" {
		t.Errorf("empty variables list -o json = %q", out)
	}
}

// TestConnectionsOutputMasksSecrets: Airflow prints a connection's password
// (and get_uri with it); Windsock keeps its rule that CLI listings mask
// secrets, including extra fields with sensitive names.
func TestConnectionsOutputMasksSecrets(t *testing.T) {
	t.Parallel()
	h := newHome(t)
	h.ok(t, "connections", "add", "api", "--conn-type", "http", "--conn-host", "example.com", "--conn-password", "hunter2",
		"--conn-extra", `{"api_token": "tok123", "region": "eu"}`)
	for _, f := range []string{"json", "yaml", "table", "plain"} {
		out := h.ok(t, "connections", "list", "-o", f)
		if strings.Contains(out, "hunter2") || strings.Contains(out, "tok123") || !strings.Contains(out, "eu") {
			t.Errorf("connections list -o %s shows a secret or lost the extra:\n%s", f, out)
		}
	}
	var got []map[string]any
	json.Unmarshal([]byte(h.ok(t, "connections", "get", "api", "-o", "json")), &got)
	extra, _ := got[0]["extra_dejson"].(map[string]any)
	if got[0]["password"] != "***" || extra["api_token"] != "***" || extra["region"] != "eu" {
		t.Errorf("connections get = %v", got)
	}
}
