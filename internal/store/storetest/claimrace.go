package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// testClaimRace hammers TaskInstanceClaim from many claimers at once: each
// queued task instance must be claimed exactly once, so no task ever has
// two running tries.
func testClaimRace(t *testing.T, open OpenFunc) {
	t.Parallel()
	ctx, st := setup(t, open)
	const tasks, claimers = 300, 12
	ids := make([]string, tasks)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%03d", i)
	}
	r := newRun("race", 1)
	tis := createRun(t, ctx, st, r, ids...)
	for i, ti := range tis {
		ti.State, ti.TryNumber = windsock.TaskStateQueued, 1
		ti.Queue = []string{"default", "gpu"}[i%2]
		_, err := st.TaskInstanceUpdate(ctx, ti)
		mustNo(t, err)
	}

	var mu sync.Mutex
	claimedBy := map[string][]int{}
	var wg sync.WaitGroup
	errs := make(chan error, claimers)
	start := make(chan struct{})
	for c := range claimers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var queues []string
			if c%3 == 0 {
				queues = []string{"gpu"} // some workers serve one queue only
			}
			for {
				got, err := st.TaskInstanceClaim(ctx, &store.TaskInstanceClaimParams{
					Queues: queues, Limit: 1 + c%4, Hostname: fmt.Sprintf("worker-%d", c), Now: zoned(),
				})
				if err != nil {
					errs <- err
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, ti := range got {
					if ti.State != windsock.TaskStateRunning || ti.Hostname != fmt.Sprintf("worker-%d", c) {
						errs <- fmt.Errorf("claimed %s came back as %s on %q", ti.TaskID, ti.State, ti.Hostname)
					}
					if queues != nil && ti.Queue != "gpu" {
						errs <- fmt.Errorf("a gpu-only claimer got %s of queue %q", ti.TaskID, ti.Queue)
					}
					claimedBy[ti.TaskID] = append(claimedBy[ti.TaskID], c)
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if len(claimedBy) != tasks {
		t.Fatalf("%d task instances claimed, want all %d", len(claimedBy), tasks)
	}
	for id, by := range claimedBy {
		if len(by) != 1 {
			t.Fatalf("%s claimed by %d claimers (%v), want exactly one", id, len(by), by)
		}
	}
	running, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{States: []windsock.TaskInstanceState{windsock.TaskStateRunning}})
	mustNo(t, err)
	if len(running) != tasks {
		t.Fatalf("%d running in the store, want %d", len(running), tasks)
	}
}

// testClaimNamed: a claim of named task instances (a local executor's)
// takes every one of them still queued, however many, and no other.
func testClaimNamed(t *testing.T, open OpenFunc) {
	t.Parallel()
	ctx, st := setup(t, open)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("t%02d", i)
	}
	tis := createRun(t, ctx, st, newRun("named", 1), ids...)
	for i, ti := range tis {
		if i == 7 {
			continue // t07 stays unqueued: named, but not claimable
		}
		ti.State, ti.TryNumber, ti.PriorityWeight = windsock.TaskStateQueued, 1, i
		_, err := st.TaskInstanceUpdate(ctx, ti)
		mustNo(t, err)
	}
	var keys []windsock.TaskInstanceKey
	for _, ti := range tis[:19] { // t19 is queued but not named
		keys = append(keys, ti.TaskInstanceKey)
	}
	got, err := st.TaskInstanceClaim(ctx, &store.TaskInstanceClaimParams{Keys: keys, Limit: len(keys), Hostname: "h", PID: 99, Now: zoned()})
	mustNo(t, err)
	if len(got) != 18 {
		t.Fatalf("claimed %d, want the 18 named and queued ones", len(got))
	}
	for i, ti := range got {
		if ti.TaskID == "t07" || ti.TaskID == "t19" || ti.State != windsock.TaskStateRunning || ti.PID == nil || *ti.PID != 99 {
			t.Fatalf("claimed %s (%s)", ti.TaskID, ti.State)
		}
		if i > 0 && got[i-1].PriorityWeight < ti.PriorityWeight {
			t.Fatalf("claims not in priority order: %s before %s", got[i-1].TaskID, ti.TaskID)
		}
	}
	again, err := st.TaskInstanceClaim(ctx, &store.TaskInstanceClaimParams{Keys: keys, Limit: len(keys), Hostname: "h", Now: zoned()})
	mustNo(t, err)
	if len(again) != 0 {
		t.Fatalf("claimed %d again, want none", len(again))
	}
	// Fewer allowed than named: the general claim chooses by priority.
	rest, err := st.TaskInstanceClaim(ctx, &store.TaskInstanceClaimParams{Keys: []windsock.TaskInstanceKey{tis[19].TaskInstanceKey, tis[7].TaskInstanceKey}, Limit: 1, Hostname: "h", Now: zoned()})
	mustNo(t, err)
	if len(rest) != 1 || rest[0].TaskID != "t19" {
		t.Fatalf("limited claim = %v, want t19", tiNames(rest))
	}
}
