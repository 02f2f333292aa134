// Package pgtest gives tests outside the store a database of their own on
// the PostgreSQL server named by WINDSOCK_TEST_POSTGRES_URL: a fresh
// schema, dropped when the test ends, so that parallel tests never share
// tables.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/sqlstore"
	"github.com/windsock/windsock/internal/store/storetest"
)

// Store opens a migrated store on a fresh schema (FreshSchemaURL), closed
// when the test ends.
func Store(tb testing.TB) *sqlstore.Store {
	tb.Helper()
	st, err := postgres.Open(tb.Context(), FreshSchemaURL(tb))
	if err != nil {
		tb.Fatalf("open the test schema: %v", err)
	}
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(tb.Context()); err != nil {
		tb.Fatalf("migrate the test schema: %v", err)
	}
	return st
}

// FreshSchemaURL returns the test server's URL with its search_path set to
// a new, empty schema, dropped with everything in it when the test ends.
// It skips the test when no server is configured (see
// storetest.PostgresURL).
func FreshSchemaURL(tb testing.TB) string {
	tb.Helper()
	return SchemaURL(tb, storetest.PostgresURL(tb))
}

// SchemaURL is FreshSchemaURL on the server at base (another cluster, or
// a URL a diagnostic was given).
func SchemaURL(tb testing.TB, base string) string {
	tb.Helper()
	admin, err := postgres.Open(tb.Context(), base)
	if err != nil {
		tb.Fatalf("open the test server: %v", err)
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := admin.DB().ExecContext(tb.Context(), "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		// The test's context is already cancelled when cleanups run.
		if _, err := admin.DB().ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse the test server URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
