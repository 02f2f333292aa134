package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/storetest"
	"github.com/windsock/windsock/internal/windsock"
)

// sameDAG is the DAG every environment of the tests below runs, with the
// same id and logical date.
const sameDAG = `
same:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: first, operator: bash, bash_command: 'echo "first of $AIRFLOW_CTX_DAG_RUN_ID"'}
    - {task_id: second, operator: bash, bash_command: 'echo second', dependencies: [first]}
`

// postgresEnvs opens n environments in one process, each in its own schema
// of the test database, all connecting with application_name tag (so the
// test can count their connections). With connLimit above 0 they connect
// as a role of their own, tag, made for the test with that CONNECTION
// LIMIT, which the server enforces (the test's own connections are not
// counted), when the test's role has CREATEROLE (.ci/run grants it);
// without it, as the test's role.
func postgresEnvs(t *testing.T, n int, tag string, connLimit int) []*Environment {
	t.Helper()
	base := storetest.PostgresURL(t)
	admin, err := postgres.Open(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	owner := ""
	var user *url.Userinfo
	if connLimit > 0 {
		if user = limitedRole(t, admin.DB(), tag, connLimit); user != nil {
			owner = " AUTHORIZATION " + tag
		}
	}
	envs := make([]*Environment, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 4) // opening migrates: a few at a time
	for i := range n {
		schema := fmt.Sprintf("%s_%d", tag, i)
		if _, err := admin.DB().ExecContext(t.Context(), "CREATE SCHEMA "+schema+owner); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if _, err := admin.DB().ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				t.Errorf("drop schema %s: %v", schema, err)
			}
		})
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", schema)
		q.Set("application_name", tag)
		u.RawQuery = q.Encode()
		if user != nil {
			u.User = user
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			envs[i] = benchEnv(t, map[string]string{"same.yaml": sameDAG}, "WINDSOCK__DATABASE__SQL_ALCHEMY_CONN="+u.String())
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	return envs
}

// limitedRole makes a login role named tag with CONNECTION LIMIT limit,
// that the test's role may act as (to make and drop its schemas), and
// drops it when the test ends; nil when the test's role cannot make
// roles.
func limitedRole(t *testing.T, db *sql.DB, tag string, limit int) *url.Userinfo {
	t.Helper()
	var may bool
	if err := db.QueryRowContext(t.Context(), "SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&may); err != nil {
		t.Fatal(err)
	}
	if !may {
		t.Logf("the test's PostgreSQL role cannot make a role with a connection limit (ALTER ROLE ... CREATEROLE, as .ci/run does): the environments connect as it")
		return nil
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	password := hex.EncodeToString(b[:])
	// tag and limit are the test's own: no input reaches this statement.
	if _, err := db.ExecContext(t.Context(), fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s' CONNECTION LIMIT %d", tag, password, limit)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP ROLE "+tag); err != nil {
			t.Errorf("drop role %s: %v", tag, err)
		}
	})
	if _, err := db.ExecContext(t.Context(), "GRANT "+tag+" TO current_user"); err != nil {
		t.Fatal(err)
	}
	return url.UserPassword(tag, password)
}

// connectionsOf counts the server's connections named tag.
func connectionsOf(ctx context.Context, env *Environment, tag string) (int, error) {
	var n int
	db := env.Store.(interface{ DB() *sql.DB }).DB()
	err := db.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", tag).Scan(&n)
	return n, err
}

// peakConnections counts the server's connections named tag again and
// again (through env, whose own are among them) until the returned
// function is called, which returns the most counted at once. It measures
// while the environments work: how many they hold at the end says little.
func peakConnections(t *testing.T, env *Environment, tag string) (stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	go func() {
		peak := 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			n, err := connectionsOf(ctx, env, tag)
			if err != nil && ctx.Err() == nil {
				t.Errorf("count connections: %v", err)
			}
			peak = max(peak, n)
			select {
			case <-tick.C:
			case <-ctx.Done():
				done <- peak
				return
			}
		}
	}()
	return func() int {
		cancel()
		return <-done
	}
}

// runEverywhere starts every environment's engine, triggers the same run
// of the same DAG in each, and fails the test unless every run succeeds.
func runEverywhere(t *testing.T, envs []*Environment) ([]*engineRun, []*windsock.DagRun) {
	t.Helper()
	ers := make([]*engineRun, len(envs))
	runs := make([]*windsock.DagRun, len(envs))
	for i, env := range envs {
		ers[i] = startEngine(t, env, nil)
		runs[i] = ers[i].start(t, "same", day)
	}
	for i, er := range ers {
		if got := er.wait(t, runs[i].RunID); got.State != windsock.DagRunSuccess {
			t.Fatalf("environment %d: run %s, want success", i, got.State)
		}
	}
	return ers, runs
}

// Forty environments in one process against one PostgreSQL server, each in
// its own schema, run the same DAG id with the same logical date: every
// try succeeds, as a role the server allows 100 connections (Airflow's
// default server has max_connections = 100), so a connection over that
// would be refused and fail the run; while they run, they never hold more
// connections than the process's budget for the server and the one
// listening connection they share (forty pools of their own could hold
// 40 x 16); clearing the run in one environment runs it again there and
// touches no other environment.
func TestFortyEnvironmentsShareOnePostgresServer(t *testing.T) {
	t.Parallel()
	const n = 40
	var b [4]byte
	_, _ = rand.Read(b[:])
	tag := "wsiso_" + hex.EncodeToString(b[:])
	envs := postgresEnvs(t, n, tag, 100)
	peak := peakConnections(t, envs[0], tag)
	ers, runs := runEverywhere(t, envs)
	conns := peak()
	// The process's budget for the server and the listening connection,
	// and a few backends that may still be listed while they exit after
	// their client closed them (the budget trims idle connections).
	bound := postgres.ServerConnLimit + 1 + 8
	t.Logf("%d environments: at most %d connections to the server while they ran", n, conns)
	if conns > bound {
		t.Errorf("%d environments held %d connections at once, want at most %d: they no longer share the process's connections", n, conns, bound)
	}

	// Clear the run of the first environment: it runs again there only.
	ctx := t.Context()
	d, err := ers[0].engine.Scheduler.DAG(ctx, "same")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scheduler.ClearTaskInstances(ctx, envs[0].Store, d, scheduler.ClearParams{RunIDs: []string{runs[0].RunID}, Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	NotifyRuns{Env: envs[0]}.RunChanged("same", runs[0].RunID)
	if got := ers[0].wait(t, runs[0].RunID); got.State != windsock.DagRunSuccess {
		t.Fatalf("the cleared run ended %s, want success", got.State)
	}
	if ti := states(t, envs[0], runs[0])["second"]; ti.TryNumber != 2 {
		t.Errorf("the cleared environment's task ran as try %d, want 2", ti.TryNumber)
	}
	for i := 1; i < n; i++ {
		if ti := states(t, envs[i], runs[i])["second"]; ti.TryNumber != 1 || ti.State != windsock.TaskStateSuccess {
			t.Errorf("environment %d: task is %s try %d after another environment's clear, want success try 1", i, ti.State, ti.TryNumber)
		}
	}
}

// Two environments in one process (SQLite each) run the same DAG id with
// the same logical date: both succeed, with distinct environment ids.
func TestTwoEnvironmentsInOneProcess(t *testing.T) {
	t.Parallel()
	envs := []*Environment{benchEnv(t, map[string]string{"same.yaml": sameDAG}), benchEnv(t, map[string]string{"same.yaml": sameDAG})}
	if envs[0].ID == envs[1].ID {
		t.Fatalf("both environments have id %q", envs[0].ID)
	}
	runEverywhere(t, envs)
}
