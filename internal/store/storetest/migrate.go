package storetest

import (
	"sync"
	"testing"
)

func testMigrate(t *testing.T, open OpenFunc) {
	t.Run("FreshThenIdempotent", func(t *testing.T) {
		t.Parallel()
		st := openUnmigrated(t, open)
		ctx := t.Context()
		mustNo(t, st.Ping(ctx))

		current, latest, err := st.MigrationStatus(ctx)
		mustNo(t, err)
		if current != 0 || latest < 1 {
			t.Fatalf("status of empty database = (%d, %d), want (0, >=1)", current, latest)
		}
		n, err := st.Migrate(ctx)
		mustNo(t, err)
		// Versions may have gaps (numbers handed out to parallel
		// branches), so the count is at most the latest version.
		if n < 1 || n > latest {
			t.Fatalf("first Migrate ran %d migrations, want 1 to %d", n, latest)
		}
		current, latest2, err := st.MigrationStatus(ctx)
		mustNo(t, err)
		if current != latest || latest2 != latest {
			t.Fatalf("status after Migrate = (%d, %d), want (%d, %d)", current, latest2, latest, latest)
		}
		n, err = st.Migrate(ctx)
		mustNo(t, err)
		if n != 0 {
			t.Fatalf("second Migrate ran %d migrations, want 0", n)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		t.Parallel()
		st := openUnmigrated(t, open)
		ctx := t.Context()
		// How many migrations there are: what one Migrate runs alone.
		want, err := openUnmigrated(t, open).Migrate(ctx)
		mustNo(t, err)
		_, latest, err := st.MigrationStatus(ctx)
		mustNo(t, err)

		const callers = 4
		var wg sync.WaitGroup
		ran := make([]int, callers)
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() { ran[i], errs[i] = st.Migrate(ctx) })
		}
		wg.Wait()
		total := 0
		for i := range callers {
			mustNo(t, errs[i])
			total += ran[i]
		}
		if total != want {
			t.Fatalf("concurrent Migrate calls ran %d migrations in all, want %d", total, want)
		}
		current, _, err := st.MigrationStatus(ctx)
		mustNo(t, err)
		if current != latest {
			t.Fatalf("version after concurrent Migrate = %d, want %d", current, latest)
		}
	})
}
