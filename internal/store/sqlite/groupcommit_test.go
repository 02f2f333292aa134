package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// TestGroupCommit: transactions that queue behind a busy write connection
// run as one group; each that fails rolls back alone, and only those that
// committed send their notifications.
func TestGroupCommit(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	notes, err := st.Listen(ctx, store.ChannelQueued)
	if err != nil {
		t.Fatal(err)
	}

	// Hold the write connection so that the others queue up.
	holding, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- st.InTx(ctx, func(q store.Queries) error {
			close(holding)
			<-release
			return q.PoolUpsert(ctx, &windsock.Pool{Pool: "first", Slots: 1})
		})
	}()
	<-holding
	const n = 20
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = st.InTx(ctx, func(q store.Queries) error {
				name := fmt.Sprintf("p%02d", i)
				if err := q.PoolUpsert(ctx, &windsock.Pool{Pool: name, Slots: i}); err != nil {
					return err
				}
				if err := q.Notify(ctx, store.ChannelQueued, name); err != nil {
					return err
				}
				if i%3 == 0 {
					return boom // after writing: the write must be undone
				}
				return nil
			})
		}()
	}
	// One member's context ends while it runs: its statements must not be
	// interrupted, since SQLite would roll back the others' work with them.
	wg.Add(1)
	var cancelledErr error
	go func() {
		defer wg.Done()
		cctx, cancel := context.WithCancel(ctx)
		cancelledErr = st.InTx(cctx, func(q store.Queries) error {
			cancel()
			return q.PoolUpsert(cctx, &windsock.Pool{Pool: "cancelled", Slots: 1})
		})
	}()
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()

	want := 1 // "first"
	if cancelledErr == nil {
		want++ // it ran before its turn was skipped for the cancelled context
	}
	for i := range n {
		name := fmt.Sprintf("p%02d", i)
		_, err := st.PoolGet(ctx, name)
		switch {
		case i%3 == 0:
			if !errors.Is(errs[i], boom) {
				t.Fatalf("tx %d returned %v, want its own error", i, errs[i])
			}
			if windsock.ErrorCode(err) != windsock.ENOTFOUND {
				t.Fatalf("pool %s of a failed transaction: %v, want it rolled back", name, err)
			}
		default:
			want++
			if errs[i] != nil || err != nil {
				t.Fatalf("tx %d: %v / %v, want committed", i, errs[i], err)
			}
			if p := receiveNote(t, notes); p[0] != 'p' || (p[1]-'0')*10+(p[2]-'0') > n {
				t.Fatalf("unexpected notification %q", p)
			}
		}
	}
	pools, err := st.PoolList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(pools) != want {
		t.Fatalf("%d pools, want %d", len(pools), want)
	}
	select {
	case p := <-notes:
		t.Fatalf("extra notification %q: a rolled-back transaction notified", p)
	default:
	}
}

func receiveNote(t *testing.T, ch <-chan string) string {
	t.Helper()
	p, ok := <-ch
	if !ok || len(p) < 3 {
		t.Fatalf("notification %q, %v", p, ok)
	}
	return p
}
