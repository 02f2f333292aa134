package auth

import (
	"errors"
	"sync"
	"testing"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/windsock"
)

// TestRolePermissionsEditConcurrent: two editors save different changes
// from the same version at once; on either store exactly one is applied
// and the other is refused as stale (ECONFLICT), whatever the timing: the
// role's row is locked while a change is checked and applied.
func TestRolePermissionsEditConcurrent(t *testing.T) {
	t.Parallel()
	stores := map[string]func(t *testing.T) store.Store{
		"sqlite":   func(t *testing.T) store.Store { _, st := setup(t); return st },
		"postgres": func(t *testing.T) store.Store { return pgtest.Store(t) },
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			ctx := t.Context()
			start := []windsock.Permission{{Action: ActionRead, Resource: DAGResource("etl")}}
			if err := st.RoleCreate(ctx, &windsock.Role{Name: "team", Permissions: start}); err != nil {
				t.Fatal(err)
			}
			for round := range 10 {
				role, err := st.RoleGet(ctx, "team")
				if err != nil {
					t.Fatal(err)
				}
				v0 := RoleVersion(role.Permissions)
				errs := make([]error, 2)
				var wg sync.WaitGroup
				for i := range errs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						p := windsock.Permission{Action: ActionRead, Resource: DAGResource("dag_" + string(rune('a'+round)) + string(rune('0'+i)))}
						_, errs[i] = RolePermissionsEdit(ctx, st, "team", RolePermissionsChange{Version: v0, Grant: []windsock.Permission{p}})
					}()
				}
				wg.Wait()
				applied, stale := 0, 0
				for _, err := range errs {
					switch {
					case err == nil:
						applied++
					case windsock.ErrorCode(err) == windsock.ECONFLICT:
						stale++
					default:
						t.Fatalf("round %d: %v", round, errors.Unwrap(err))
					}
				}
				if applied != 1 || stale != 1 {
					t.Fatalf("round %d: %d applied, %d refused as stale (errors %v); want one of each", round, applied, stale, errs)
				}
			}
			role, err := st.RoleGet(ctx, "team")
			if err != nil {
				t.Fatal(err)
			}
			if len(role.Permissions) != 11 {
				t.Errorf("the role holds %d permissions after 10 rounds, want 11: %v", len(role.Permissions), role.Permissions)
			}
		})
	}
}
