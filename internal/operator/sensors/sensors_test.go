package sensors

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// connections is the test's connection source: a map.
type connections map[string]*operator.Connection

func (c connections) Connection(_ context.Context, id string) (*operator.Connection, error) {
	if conn, ok := c[id]; ok {
		return conn, nil
	}
	return nil, windsock.Errorf(windsock.ENOTFOUND, "connection %s does not exist", id)
}

// runs is the test's run state source: maps keyed by DAG id and logical
// date.
type runs struct {
	runStates  map[string]windsock.DagRunState
	taskStates map[string]map[string]windsock.TaskInstanceState
	// asked records the logical dates queried.
	asked []time.Time
}

func runKey(dagID string, date time.Time) string { return dagID + "@" + windsock.ISOFormat(date) }

func (r *runs) DagRunState(_ context.Context, dagID string, date time.Time) (windsock.DagRunState, error) {
	r.asked = append(r.asked, date)
	return r.runStates[runKey(dagID, date)], nil
}

func (r *runs) TaskStates(_ context.Context, dagID string, date time.Time, ids []string) (map[string]windsock.TaskInstanceState, error) {
	r.asked = append(r.asked, date)
	all := r.taskStates[runKey(dagID, date)]
	out := map[string]windsock.TaskInstanceState{}
	for id, s := range all {
		if len(ids) == 0 || contains(ids, id) {
			out[id] = s
		}
	}
	if len(all) == 0 {
		return nil, nil
	}
	return out, nil
}

// listingRuns is runs that also knows the DAGs' tasks.
type listingRuns struct {
	*runs
	dags map[string][]string
}

func (r listingRuns) DagTaskIDs(_ context.Context, dagID string) ([]string, error) {
	ids, ok := r.dags[dagID]
	if !ok {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "dag %s not found", dagID)
	}
	return ids, nil
}

var logical = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)

func newContext(args map[string]any) *operator.Context {
	end := logical.Add(24 * time.Hour)
	return &operator.Context{
		Args: args,
		Run:  &windsock.DagRun{DagID: "me", LogicalDate: logical, DataIntervalStart: &logical, DataIntervalEnd: &end},
		Log:  &bytes.Buffer{},
		Now:  time.Now,
	}
}

func writeFile(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFileSensorPoke(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in", "a.csv"))
	writeFile(t, filepath.Join(dir, "deep", "x", "y", "z.txt"))
	writeFile(t, filepath.Join(dir, "base", "rel.txt"))
	if err := os.MkdirAll(filepath.Join(dir, "empty", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	conns := connections{"data_fs": {ConnType: "fs", Extra: map[string]any{"path": filepath.Join(dir, "base")}}}
	for _, tt := range []struct {
		name string
		args map[string]any
		want bool
	}{
		{"file exists", map[string]any{"filepath": filepath.Join(dir, "in", "a.csv")}, true},
		{"file missing", map[string]any{"filepath": filepath.Join(dir, "in", "b.csv")}, false},
		{"glob matches", map[string]any{"filepath": filepath.Join(dir, "in", "*.csv")}, true},
		{"glob misses", map[string]any{"filepath": filepath.Join(dir, "in", "*.json")}, false},
		{"empty directory tree", map[string]any{"filepath": filepath.Join(dir, "empty")}, false},
		{"directory with a deep file", map[string]any{"filepath": filepath.Join(dir, "deep")}, true},
		{"recursive glob", map[string]any{"filepath": filepath.Join(dir, "**", "z.txt"), "recursive": true}, true},
		{"recursive glob misses", map[string]any{"filepath": filepath.Join(dir, "**", "q.txt"), "recursive": true}, false},
		{"** without recursive is one level", map[string]any{"filepath": filepath.Join(dir, "**", "z.txt")}, false},
		{"relative to fs connection path", map[string]any{"filepath": "rel.txt", "fs_conn_id": "data_fs"}, true},
		{"absolute path ignores base", map[string]any{"filepath": filepath.Join(dir, "in", "a.csv"), "fs_conn_id": "data_fs"}, true},
	} {
		tc := newContext(tt.args)
		tc.Connections = conns
		poke, err := NewFileSensor().Poke(context.Background(), tc)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, _, err := poke(context.Background())
		if err != nil || got != tt.want {
			t.Errorf("%s: poke = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

func TestFileSensorReschedulesUntilFileAppears(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ready.flag")
	tc := newContext(map[string]any{"filepath": path, "mode": "reschedule", "poke_interval": 30})
	tc.FirstTryStart = time.Now()
	res, err := NewFileSensor().Execute(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	if res.RescheduleAt == nil {
		t.Fatal("missing file: want a reschedule")
	}
	writeFile(t, path)
	res, err = NewFileSensor().Execute(context.Background(), tc)
	if err != nil || res.RescheduleAt != nil {
		t.Fatalf("present file: result %+v, %v; want done", res, err)
	}
}

func TestMatchSegments(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pat, name string
		want      bool
	}{
		{"**/a.txt", "a.txt", true},
		{"**/a.txt", "x/y/a.txt", true},
		{"x/**/a.txt", "x/a.txt", true},
		{"x/**/a.txt", "y/a.txt", false},
		{"*/a.txt", "x/y/a.txt", false},
		{"**", "x/y", true},
		{"x/*.csv", "x/b.csv", true},
	} {
		if got := matchSegments(strings.Split(tt.pat, "/"), strings.Split(tt.name, "/")); got != tt.want {
			t.Errorf("matchSegments(%q, %q) = %v, want %v", tt.pat, tt.name, got, tt.want)
		}
	}
}

// sqliteDB creates a database with a table of jobs and returns its path.
func sqliteDB(t *testing.T) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Exec(`CREATE TABLE jobs (name TEXT, done INTEGER)`); err != nil {
		t.Fatal(err)
	}
	return path, db
}

func TestSqlSensorPoke(t *testing.T) {
	t.Parallel()
	path, db := sqliteDB(t)
	conns := connections{"state": {ConnType: "sqlite", Host: path}}
	pokeWith := func(args map[string]any) (bool, error) {
		t.Helper()
		args["conn_id"] = "state"
		tc := newContext(args)
		tc.Connections = conns
		poke, err := NewSqlSensor().Poke(context.Background(), tc)
		if err != nil {
			t.Fatal(err)
		}
		done, _, err := poke(context.Background())
		return done, err
	}
	countDone := map[string]any{"sql": "SELECT count(*) FROM jobs WHERE name = ? AND done = 1", "parameters": []any{"load"}}
	if done, err := pokeWith(countDone); err != nil || done {
		t.Fatalf("before insert: %v, %v; want not done", done, err)
	}
	byName := map[string]any{"sql": "SELECT done FROM jobs WHERE name = :name", "parameters": map[string]any{"name": "load"}, "fail_on_empty": true}
	if _, err := pokeWith(byName); err == nil || !strings.Contains(err.Error(), "fail_on_empty") {
		t.Fatalf("no rows with fail_on_empty: err = %v", err)
	}
	delete(byName, "fail_on_empty")
	if done, err := pokeWith(byName); err != nil || done {
		t.Fatalf("no rows: %v, %v; want not done", done, err)
	}
	if _, err := db.Exec(`INSERT INTO jobs VALUES ('load', 0)`); err != nil {
		t.Fatal(err)
	}
	if done, err := pokeWith(byName); err != nil || done {
		t.Fatalf("done = 0: %v, %v; want not done", done, err)
	}
	if _, err := db.Exec(`UPDATE jobs SET done = 1`); err != nil {
		t.Fatal(err)
	}
	if done, err := pokeWith(countDone); err != nil || !done {
		t.Fatalf("after update: %v, %v; want done", done, err)
	}
}

func TestSqlSensorRejects(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope.db")
	conns := connections{
		"pg":      {ConnType: "postgres", Host: "db"},
		"missing": {ConnType: "sqlite", Host: missing},
	}
	tc := newContext(map[string]any{"conn_id": "pg", "sql": "SELECT 1"})
	tc.Connections = conns
	if _, err := NewSqlSensor().Poke(context.Background(), tc); err == nil || !strings.Contains(err.Error(), "supports sqlite connections") {
		t.Errorf("postgres connection: err = %v", err)
	}
	tc = newContext(map[string]any{"conn_id": "missing", "sql": "SELECT 1"})
	tc.Connections = conns
	poke, err := NewSqlSensor().Poke(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := poke(context.Background()); err == nil {
		t.Error("missing database file: want an error")
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the sensor created %s", missing)
	}
}

func TestTruthy(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		v    any
		want bool
	}{
		{nil, false}, {int64(0), false}, {0.0, false}, {"", false}, {"0", false}, {[]byte("0"), false}, {false, false},
		{int64(2), true}, {0.5, true}, {"no", true}, {"00", true}, {[]byte("x"), true}, {true, true},
	} {
		if got := truthy(tt.v); got != tt.want {
			t.Errorf("truthy(%#v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

func TestTimeDeltaSensor(t *testing.T) {
	t.Parallel()
	end := logical.Add(24 * time.Hour)
	for _, tt := range []struct {
		name     string
		noEnd    bool
		now      time.Time
		wantDone bool
	}{
		{name: "before end + delta", now: end.Add(30 * time.Minute)},
		{name: "exactly at end + delta", now: end.Add(time.Hour)},
		{name: "after end + delta", now: end.Add(time.Hour + time.Second), wantDone: true},
		{name: "no interval uses logical date", noEnd: true, now: logical.Add(time.Hour + time.Second), wantDone: true},
	} {
		tc := newContext(map[string]any{"delta": map[string]any{"hours": 1}})
		if tt.noEnd {
			tc.Run.DataIntervalEnd = nil
		}
		tc.Now = func() time.Time { return tt.now }
		poke, err := NewTimeDeltaSensor().Poke(context.Background(), tc)
		if err != nil {
			t.Fatal(err)
		}
		if done, _, err := poke(context.Background()); err != nil || done != tt.wantDone {
			t.Errorf("%s: poke = %v, %v; want %v", tt.name, done, err, tt.wantDone)
		}
	}
}

func TestDateTimeSensor(t *testing.T) {
	t.Parallel()
	target := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, arg := range []any{"2024-05-01T12:00:00+00:00", "2024-05-01 14:00:00+02:00", "2024-05-01T12:00:00Z", target} {
		tc := newContext(map[string]any{"target_time": arg})
		now := target.Add(-time.Second)
		tc.Now = func() time.Time { return now }
		poke, err := NewDateTimeSensor().Poke(context.Background(), tc)
		if err != nil {
			t.Fatalf("%v: %v", arg, err)
		}
		if done, _, _ := poke(context.Background()); done {
			t.Errorf("%v: done a second early", arg)
		}
		now = target.Add(time.Second)
		if done, _, _ := poke(context.Background()); !done {
			t.Errorf("%v: not done a second late", arg)
		}
	}
	if _, err := NewDateTimeSensor().Poke(context.Background(), newContext(map[string]any{"target_time": "next tuesday"})); err == nil {
		t.Error("bad target_time: want an error")
	}
}

func TestParseDateTime(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"2024-05-01", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"2024-05-01T10:30", time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC)},
		{"2024-05-01 10:30:15", time.Date(2024, 5, 1, 10, 30, 15, 0, time.UTC)},
		{"2024-05-01T10:30:15.250000", time.Date(2024, 5, 1, 10, 30, 15, 250e6, time.UTC)},
		{"2024-05-01T10:30:15-05:00", time.Date(2024, 5, 1, 15, 30, 15, 0, time.UTC)},
		{"2024-05-01T10:30:15+0100", time.Date(2024, 5, 1, 9, 30, 15, 0, time.UTC)},
	} {
		got, err := operator.ParseDateTime(tt.in)
		if err != nil || !got.Equal(tt.want) {
			t.Errorf("ParseDateTime(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestExternalTaskSensorPoke(t *testing.T) {
	t.Parallel()
	key := runKey("up", logical)
	type outcome int
	const (
		notYet outcome = iota
		done
		fails
		skips
	)
	for _, tt := range []struct {
		name   string
		args   map[string]any
		tasks  map[string]windsock.TaskInstanceState
		run    windsock.DagRunState
		lister bool
		want   outcome
	}{
		{name: "task success", args: map[string]any{"external_task_id": "load"},
			tasks: map[string]windsock.TaskInstanceState{"load": "success", "other": "failed"}, want: done},
		{name: "task running", args: map[string]any{"external_task_id": "load"},
			tasks: map[string]windsock.TaskInstanceState{"load": "running"}, want: notYet},
		{name: "no run yet", args: map[string]any{"external_task_id": "load"}, want: notYet},
		{name: "one of several pending", args: map[string]any{"external_task_ids": []any{"a", "b"}},
			tasks: map[string]windsock.TaskInstanceState{"a": "success", "b": "queued"}, want: notYet},
		{name: "allowed states widened", args: map[string]any{"external_task_ids": []any{"a", "b"}, "allowed_states": []any{"success", "skipped"}},
			tasks: map[string]windsock.TaskInstanceState{"a": "success", "b": "skipped"}, want: done},
		{name: "failed state fails", args: map[string]any{"external_task_id": "a", "failed_states": []any{"failed", "upstream_failed"}},
			tasks: map[string]windsock.TaskInstanceState{"a": "upstream_failed"}, want: fails},
		{name: "failed state with soft_fail skips", args: map[string]any{"external_task_id": "a", "failed_states": "failed", "soft_fail": true},
			tasks: map[string]windsock.TaskInstanceState{"a": "failed"}, want: skips},
		{name: "skipped state skips", args: map[string]any{"external_task_id": "a", "skipped_states": []any{"skipped"}},
			tasks: map[string]windsock.TaskInstanceState{"a": "skipped"}, want: skips},
		{name: "group partly done", args: map[string]any{"external_task_group_id": "g"},
			tasks: map[string]windsock.TaskInstanceState{"g.a": "success", "g.b": "running", "gx": "success"}, want: notYet},
		{name: "group done, others ignored", args: map[string]any{"external_task_group_id": "g"},
			tasks: map[string]windsock.TaskInstanceState{"g.a": "success", "g.inner.b": "success", "gx": "failed"}, want: done},
		{name: "group member missing from run per the DAG", args: map[string]any{"external_task_group_id": "g"}, lister: true,
			tasks: map[string]windsock.TaskInstanceState{"g.a": "success"}, want: notYet},
		{name: "dag run success", run: "success", want: done},
		{name: "dag run running", run: "running", want: notYet},
		{name: "dag run failed in failed_states", args: map[string]any{"failed_states": []any{"failed"}}, run: "failed", want: fails},
		{name: "no dag run", want: notYet},
		{name: "check_existence without a lister: no run is an error", args: map[string]any{"check_existence": true}, want: fails},
		{name: "check_existence with a lister: no run waits", args: map[string]any{"check_existence": true}, lister: true, want: notYet},
		{name: "check_existence: missing task", args: map[string]any{"check_existence": true, "external_task_id": "nope"}, lister: true, want: fails},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := &runs{
				runStates:  map[string]windsock.DagRunState{},
				taskStates: map[string]map[string]windsock.TaskInstanceState{},
			}
			if tt.run != "" {
				r.runStates[key] = tt.run
			}
			if tt.tasks != nil {
				r.taskStates[key] = tt.tasks
			}
			args := map[string]any{"external_dag_id": "up"}
			for k, v := range tt.args {
				args[k] = v
			}
			tc := newContext(args)
			tc.Runs = r
			if tt.lister {
				tc.Runs = listingRuns{runs: r, dags: map[string][]string{"up": {"load", "g.a", "g.b"}}}
			}
			poke, err := NewExternalTaskSensor().Poke(context.Background(), tc)
			if err != nil {
				t.Fatal(err)
			}
			ok, _, err := poke(context.Background())
			var got outcome
			switch {
			case errors.Is(err, operator.ErrSkip):
				got = skips
			case err != nil:
				got = fails
				if errors.Is(err, operator.ErrFail) {
					t.Errorf("err = %v: failed_states must leave retries to apply", err)
				}
			case ok:
				got = done
			}
			if got != tt.want {
				t.Errorf("outcome = %d (err %v), want %d", got, err, tt.want)
			}
		})
	}
}

func TestExternalTaskSensorExecutionDelta(t *testing.T) {
	t.Parallel()
	earlier := logical.Add(-90 * time.Minute)
	r := &runs{runStates: map[string]windsock.DagRunState{runKey("up", earlier): "success"}}
	tc := newContext(map[string]any{"external_dag_id": "up", "execution_delta": "1h30m", "poke_interval": 0})
	tc.Runs = r
	res, err := NewExternalTaskSensor().Execute(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	if res.RescheduleAt != nil || len(r.asked) != 1 || !r.asked[0].Equal(earlier) {
		t.Errorf("asked about %v, want only %v", r.asked, earlier)
	}
}

func TestExternalTaskSensorMissingDAG(t *testing.T) {
	t.Parallel()
	tc := newContext(map[string]any{"external_dag_id": "ghost", "check_existence": true})
	tc.Runs = listingRuns{runs: &runs{}, dags: map[string][]string{}}
	poke, err := NewExternalTaskSensor().Poke(context.Background(), tc)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := poke(context.Background()); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("err = %v, want the DAG not to exist", err)
	}
}

func TestExternalTaskSensorArgumentErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		args    map[string]any
		wantErr string
	}{
		{"both task id forms", map[string]any{"external_task_id": "a", "external_task_ids": []any{"b"}}, "only one of"},
		{"group and task", map[string]any{"external_task_id": "a", "external_task_group_id": "g"}, "only one of"},
		{"duplicate state", map[string]any{"external_task_id": "a", "failed_states": []any{"success"}}, "more than once"},
		{"task state for a dag", map[string]any{"allowed_states": []any{"upstream_failed"}}, "not valid"},
		{"callable", map[string]any{"execution_date_fn": "f"}, "not supported"},
		{"bad delta", map[string]any{"execution_delta": "soon"}, "execution_delta"},
	} {
		args := map[string]any{"external_dag_id": "up"}
		for k, v := range tt.args {
			args[k] = v
		}
		tc := newContext(args)
		tc.Runs = &runs{}
		if _, err := NewExternalTaskSensor().Poke(context.Background(), tc); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
