package metaport_test

import (
	"testing"

	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/metaport/airflowtest"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/store/storetest"
)

// TestImportFromPostgres reads Airflow databases of several releases on
// PostgreSQL (primary-key keysets, timestamptz keys for releases keyed by
// execution_date) with batches of one row, so every keyset step is taken;
// the 2.10 one is also imported into a PostgreSQL store.
func TestImportFromPostgres(t *testing.T) {
	t.Parallel()
	base := storetest.PostgresURL(t)
	needPython(t)
	for _, v := range []string{"1.10", "2.2", "2.5", "2.9", "2.10"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			u := pgtest.SchemaURL(t, base)
			pst, err := postgres.Open(t.Context(), u)
			if err != nil {
				t.Fatal(err)
			}
			defer pst.Close()
			db := pst.DB()
			db.SetMaxOpenConns(1)
			h := airflowtest.Fill(t.Context(), airflowtest.Create(t, db, true, v))
			src, err := metaport.OpenDBSource(t.Context(), db, true, "pg-"+v)
			if err != nil {
				t.Fatal(err)
			}
			st := newStore(t)
			opts := metaport.Options{SourceKeys: keys(t, airflowtest.SourceKey), TargetKeys: keys(t, targetKey), BatchSize: 1}
			if _, err := metaport.Import(t.Context(), st, src, opts); err != nil {
				t.Fatal(err)
			}
			checkHistory(t, t.Context(), st, h)
			if v != "2.10" {
				return
			}
			// And into a PostgreSQL store: the later tables (notes by run
			// id, the try history, JSON task_map keys) on that driver too.
			pt, err := postgres.Open(t.Context(), pgtest.SchemaURL(t, base))
			if err != nil {
				t.Fatal(err)
			}
			defer pt.Close()
			if _, err := pt.Migrate(t.Context()); err != nil {
				t.Fatal(err)
			}
			for range 2 { // the second import changes nothing
				if _, err := metaport.Import(t.Context(), pt, src, opts); err != nil {
					t.Fatal(err)
				}
				checkHistory(t, t.Context(), pt, h)
			}
		})
	}
}
