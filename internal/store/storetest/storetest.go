// Package storetest is the conformance suite every metadata-store driver
// runs: the same cases, against a real database, for SQLite and PostgreSQL.
// Add a store behaviour by adding a case here.
//
// A driver runs it from its own test file:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) store.Store {
//			st, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "windsock.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return st
//		})
//	}
//
// The PostgreSQL driver runs it only when a server is available: its test
// calls PostgresURL, which skips the test unless WINDSOCK_TEST_POSTGRES_URL
// is set (e.g. postgres://windsock:windsock@localhost:5432/windsock_test),
// and its open function creates a fresh schema per test
// (CREATE SCHEMA test_<random>, dropped in t.Cleanup) and opens the store
// with search_path set to it, so that parallel tests never share tables.
package storetest

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// PostgresURLEnv names the environment variable holding the URL of the
// PostgreSQL server the PostgreSQL driver's conformance tests use.
const PostgresURLEnv = "WINDSOCK_TEST_POSTGRES_URL"

// PostgresURL returns the URL in WINDSOCK_TEST_POSTGRES_URL, or skips the
// test when it is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(PostgresURLEnv)
	if u == "" && os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: CI must run the PostgreSQL tests", PostgresURLEnv)
	}
	if u == "" {
		t.Skipf("%s is not set; skipping PostgreSQL tests", PostgresURLEnv)
	}
	return u
}

// OpenFunc returns a fresh, empty (unmigrated) store for one test. The
// suite migrates it and closes it when the test ends.
type OpenFunc func(t *testing.T) store.Store

// Run runs the conformance suite against the driver behind open. Every
// case runs in parallel on its own store.
func Run(t *testing.T, open OpenFunc) {
	t.Run("Migrate", func(t *testing.T) { t.Parallel(); testMigrate(t, open) })
	t.Run("DAG", func(t *testing.T) { t.Parallel(); testDAG(t, open) })
	t.Run("SerializedDAG", func(t *testing.T) { t.Parallel(); testSerializedDAG(t, open) })
	t.Run("DAGCode", func(t *testing.T) { t.Parallel(); testDAGCode(t, open) })
	t.Run("ImportError", func(t *testing.T) { t.Parallel(); testImportError(t, open) })
	t.Run("Variable", func(t *testing.T) { t.Parallel(); testVariable(t, open) })
	t.Run("Connection", func(t *testing.T) { t.Parallel(); testConnection(t, open) })
	t.Run("Pool", func(t *testing.T) { t.Parallel(); testPool(t, open) })
	t.Run("Job", func(t *testing.T) { t.Parallel(); testJob(t, open) })
	t.Run("JobList", func(t *testing.T) { testJobList(t, open) })
	t.Run("DBClean", func(t *testing.T) { t.Parallel(); testDBClean(t, open) })
	t.Run("DBReset", func(t *testing.T) { testDBReset(t, open) })
	t.Run("User", func(t *testing.T) { t.Parallel(); testUser(t, open) })
	t.Run("Role", func(t *testing.T) { t.Parallel(); testRole(t, open) })
	t.Run("UserAdmin", func(t *testing.T) { t.Parallel(); testUserAdmin(t, open) })
	t.Run("APIToken", func(t *testing.T) { t.Parallel(); testAPIToken(t, open) })
	t.Run("Session", func(t *testing.T) { t.Parallel(); testSession(t, open) })
	t.Run("EventLog", func(t *testing.T) { t.Parallel(); testEventLog(t, open) })
	t.Run("InTx", func(t *testing.T) { t.Parallel(); testInTx(t, open) })
	t.Run("DAGSchedule", func(t *testing.T) { t.Parallel(); testDAGSchedule(t, open) })
	t.Run("DagRun", func(t *testing.T) { t.Parallel(); testDagRun(t, open) })
	t.Run("TaskInstance", func(t *testing.T) { t.Parallel(); testTaskInstance(t, open) })
	t.Run("XCom", func(t *testing.T) { t.Parallel(); testXCom(t, open) })
	t.Run("TaskRecords", func(t *testing.T) { t.Parallel(); testTaskRecords(t, open) })
	t.Run("SlaMissNotify", func(t *testing.T) { t.Parallel(); testSlaMissNotify(t, open) })
	t.Run("DAGQueries", func(t *testing.T) { t.Parallel(); testDAGQueries(t, open) })
	t.Run("MetadataQueries", func(t *testing.T) { t.Parallel(); testMetadataQueries(t, open) })
	t.Run("RunQueries", func(t *testing.T) { t.Parallel(); testRunQueries(t, open) })
	t.Run("TaskInstanceQueryDeepPages", func(t *testing.T) { t.Parallel(); testTaskInstanceQueryDeepPages(t, open) })
	t.Run("DAGSummaryQueries", func(t *testing.T) { testDAGSummaryQueries(t, open) })
	t.Run("RunCounts", func(t *testing.T) { t.Parallel(); testRunCounts(t, open) })
	t.Run("Coordination", func(t *testing.T) { t.Parallel(); testCoordination(t, open) })
	t.Run("TaskInstanceFinishTry", func(t *testing.T) { testTaskInstanceFinishTry(t, open) })
	t.Run("ClaimRace", func(t *testing.T) { testClaimRace(t, open) })
	t.Run("ClaimNamed", func(t *testing.T) { testClaimNamed(t, open) })
	t.Run("TaskInstanceQueue", func(t *testing.T) { testTaskInstanceQueue(t, open) })
	t.Run("TaskInstanceSchedule", func(t *testing.T) { testTaskInstanceSchedule(t, open) })
	t.Run("Dataset", func(t *testing.T) { testDataset(t, open) })
	t.Run("MetadataImport", func(t *testing.T) { t.Parallel(); testMetadataImport(t, open) })
}

// setup opens a fresh store, migrates it and closes it after the test.
func setup(t *testing.T, open OpenFunc) (context.Context, store.Store) {
	t.Helper()
	st := openUnmigrated(t, open)
	ctx := t.Context()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return ctx, st
}

func openUnmigrated(t *testing.T, open OpenFunc) store.Store {
	t.Helper()
	st := open(t)
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

func mustNo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode fails unless err carries the application error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := windsock.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (err %v), want %q", got, err, code)
	}
	var e *windsock.Error
	if !errors.As(err, &e) || e.Message == "" {
		t.Fatalf("error %v carries no user-facing message", err)
	}
}
