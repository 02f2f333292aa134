package storetest

import (
	"strings"
	"sync"
	"testing"

	"github.com/windsock/windsock/internal/windsock"
)

// testSlaMissNotify: misses are claimed for notification once each, even
// by callers racing for them, and a miss recorded as notified (an
// imported one) is never claimed.
func testSlaMissNotify(t *testing.T, open OpenFunc) {
	ctx, st := setup(t, open)
	insert := func(dag, task string, d int, sent bool) {
		t.Helper()
		mustNo(t, st.SlaMissInsert(ctx, &windsock.SlaMiss{DagID: dag, TaskID: task, ExecutionDate: day(d),
			Timestamp: day(d + 1), Description: "late", NotificationSent: sent}))
	}
	insert("etl", "load", 2, false)
	insert("etl", "extract", 2, false)
	insert("etl", "extract", 1, false)
	insert("abc", "x", 3, false)
	insert("etl", "old", 1, true)

	got, err := st.SlaMissClaimUnnotified(ctx)
	mustNo(t, err)
	var keys []string
	for _, m := range got {
		if !m.NotificationSent {
			t.Errorf("%s.%s claimed but not marked sent", m.DagID, m.TaskID)
		}
		keys = append(keys, m.DagID+"."+m.TaskID+"@"+m.ExecutionDate.Format("01-02"))
	}
	want := "abc.x@01-03 etl.extract@01-01 etl.extract@01-02 etl.load@01-02"
	if g := strings.Join(keys, " "); g != want {
		t.Fatalf("claimed %s, want %s", g, want)
	}
	again, err := st.SlaMissClaimUnnotified(ctx)
	mustNo(t, err)
	if len(again) != 0 {
		t.Fatalf("claimed %d misses twice", len(again))
	}

	// Racing claimers share the new misses without overlap.
	for i := 0; i < 20; i++ {
		insert("race", "t", 10+i, false)
	}
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ms, err := st.SlaMissClaimUnnotified(ctx)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, m := range ms {
				seen[m.ExecutionDate.String()]++
			}
		}()
	}
	wg.Wait()
	if len(seen) != 20 {
		t.Errorf("claimed %d of 20 misses", len(seen))
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("miss %s claimed %d times", k, n)
		}
	}
}
