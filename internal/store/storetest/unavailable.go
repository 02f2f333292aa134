package storetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// WriteFault makes a driver's database refuse writes the way a real fault
// does (a full database, a read-only server) and mends it again. Making
// that happen is the driver's business; what the store then reports is
// the same for every driver.
type WriteFault struct {
	// Break makes the next writes of st fail for want of the database.
	Break func(t *testing.T, st store.Store)
	// Mend lets st write again.
	Mend func(t *testing.T, st store.Store)
}

// RunUnavailable checks that writes refused by the database are
// store.ErrUnavailable, that WriteFailure reports them until a write
// succeeds again, and that an error that is the caller's fault (a clashing
// key) is neither.
func RunUnavailable(t *testing.T, open OpenFunc, fault WriteFault) {
	ctx, st := setup(t, open)
	big := strings.Repeat("x", 256<<10) // needs new pages whatever the free space

	mustNo(t, st.VariableSet(ctx, &windsock.Variable{Key: "before", Val: "v"}))
	mustNo(t, st.WriteFailure())
	mustNo(t, st.ConnectionInsert(ctx, &windsock.Connection{ConnID: "c", ConnType: "http"}))
	err := st.ConnectionInsert(ctx, &windsock.Connection{ConnID: "c", ConnType: "http"})
	if windsock.ErrorCode(err) != windsock.ECONFLICT || errors.Is(err, store.ErrUnavailable) || st.WriteFailure() != nil {
		t.Fatalf("duplicate insert = %v (WriteFailure %v), want a conflict that is not unavailability", err, st.WriteFailure())
	}

	fault.Break(t, st)
	err = st.VariableSet(ctx, &windsock.Variable{Key: "big", Val: big})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write to a database that refuses writes = %v, want ErrUnavailable", err)
	}
	if !errors.Is(st.WriteFailure(), store.ErrUnavailable) {
		t.Fatalf("WriteFailure after a refused write = %v", st.WriteFailure())
	}
	err = st.InTx(ctx, func(q store.Queries) error {
		return q.VariableSet(ctx, &windsock.Variable{Key: "big2", Val: big})
	})
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write in a transaction = %v, want ErrUnavailable", err)
	}
	// Reads go on.
	if v, err := st.VariableGet(ctx, "before"); err != nil || v.Val != "v" {
		t.Fatalf("read while writes fail = %+v, %v", v, err)
	}
	mustNo(t, st.Ping(ctx))

	fault.Mend(t, st)
	mustNo(t, st.VariableSet(ctx, &windsock.Variable{Key: "big", Val: big}))
	if err := st.WriteFailure(); err != nil {
		t.Fatalf("WriteFailure after a write succeeded again = %v", err)
	}
}
