package storetest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func testCoordination(t *testing.T, open OpenFunc) {
	t.Run("NotifyOnCommitOnly", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		got, err := st.Listen(ctx, store.ChannelQueued)
		mustNo(t, err)
		other, err := st.Listen(ctx, store.ChannelTryDone)
		mustNo(t, err)

		rollback := errors.New("roll back")
		err = st.InTx(ctx, func(q store.Queries) error {
			mustNo(t, q.Notify(ctx, store.ChannelQueued, "rolled back"))
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("InTx = %v, want the rollback error", err)
		}
		mustNo(t, st.InTx(ctx, func(q store.Queries) error {
			return q.Notify(ctx, store.ChannelQueued, "committed")
		}))
		mustNo(t, st.Notify(ctx, store.ChannelQueued, "outside"))
		mustNo(t, st.Notify(ctx, store.ChannelTryDone, "elsewhere"))

		for _, want := range []string{"committed", "outside"} {
			if p := receive(t, got); p != want {
				t.Fatalf("received %q, want %q (a rolled-back notification must not be sent)", p, want)
			}
		}
		if p := receive(t, other); p != "elsewhere" {
			t.Fatalf("other channel received %q, want %q", p, "elsewhere")
		}
	})
	t.Run("ListenEndsWithContext", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		lctx, cancel := context.WithCancel(ctx)
		ch, err := st.Listen(lctx, store.ChannelQueued)
		mustNo(t, err)
		cancel()
		for range ch { // drains until closed; hangs (and times out) if never closed
		}
	})
	t.Run("TxLockExcludes", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		if err := st.TxLock(ctx, "queue"); err == nil {
			t.Fatal("TxLock outside a transaction: want an error")
		}
		var inside atomic.Int32
		var overlaps atomic.Int32
		held := make(chan struct{})
		release := make(chan struct{})
		first := make(chan error, 1)
		go func() {
			first <- st.InTx(ctx, func(q store.Queries) error {
				if err := q.TxLock(ctx, "queue"); err != nil {
					return err
				}
				inside.Add(1)
				close(held)
				<-release
				inside.Add(-1)
				return nil
			})
		}()
		<-held
		second := make(chan error, 1)
		go func() {
			second <- st.InTx(ctx, func(q store.Queries) error {
				if err := q.TxLock(ctx, "queue"); err != nil {
					return err
				}
				if inside.Load() != 0 {
					overlaps.Add(1)
				}
				return nil
			})
		}()
		close(release)
		mustNo(t, <-first)
		mustNo(t, <-second)
		if overlaps.Load() != 0 {
			t.Fatal("two transactions held the same TxLock at once")
		}
	})
	t.Run("EnvironmentID", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		// Concurrent first callers (processes starting together) all get
		// the one id that was stored.
		ids := make(chan string, 8)
		for range cap(ids) {
			go func() {
				id, err := st.EnvironmentID(ctx)
				if err != nil {
					t.Error(err)
				}
				ids <- id
			}()
		}
		first := <-ids
		for range cap(ids) - 1 {
			if id := <-ids; id != first {
				t.Fatalf("EnvironmentID = %q and %q: want one id per database", first, id)
			}
		}
		if len(first) < 16 {
			t.Fatalf("EnvironmentID = %q: want at least 16 characters", first)
		}
		_, other := setup(t, open)
		otherID, err := other.EnvironmentID(ctx)
		mustNo(t, err)
		if otherID == first {
			t.Fatalf("two databases got the same environment id %q", first)
		}
	})
	t.Run("JobListAlive", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		start := zoned()
		mk := func(jobType string, beat time.Duration, ended bool) int64 {
			j := &windsock.Job{State: windsock.JobRunning, JobType: jobType, StartDate: start, LatestHeartbeat: start.Add(beat), Hostname: "h"}
			mustNo(t, st.JobCreate(ctx, j))
			if ended {
				mustNo(t, st.JobEnd(ctx, j.ID, windsock.JobSuccess, start))
			}
			return j.ID
		}
		fresh := mk(windsock.JobTypeScheduler, 10*time.Second, false)
		mk(windsock.JobTypeScheduler, 0, false) // stale
		mk(windsock.JobTypeScheduler, 20*time.Second, true)
		mk(windsock.JobTypeDagProcessor, 20*time.Second, false)
		edge := mk(windsock.JobTypeScheduler, 5*time.Second, false)

		jobs, err := st.JobListAlive(ctx, windsock.JobTypeScheduler, start.Add(5*time.Second))
		mustNo(t, err)
		if len(jobs) != 2 || jobs[0].ID != fresh || jobs[1].ID != edge {
			var ids []int64
			for _, j := range jobs {
				ids = append(ids, j.ID)
			}
			t.Fatalf("JobListAlive = %v, want [%d %d]", ids, fresh, edge)
		}
	})
}

// receive returns the next notification, failing the test after a while.
func receive(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case p, ok := <-ch:
		if !ok {
			t.Fatal("listener closed")
		}
		return p
	case <-time.After(10 * time.Second):
		t.Fatal("no notification within 10 s")
	}
	return ""
}
