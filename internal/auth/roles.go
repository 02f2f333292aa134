package auth

import (
	"context"
	"fmt"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// EnsureBuiltinRoles creates Airflow's default roles and grants each the
// permissions of its default set that it lacks. Permissions an operator
// added stay, as Airflow's role sync leaves them. It reads once and writes
// only what is missing, so it is cheap to call at every start.
func EnsureBuiltinRoles(ctx context.Context, st store.Store) error {
	have, err := st.RolePermissionsList(ctx, nil)
	if err != nil {
		return fmt.Errorf("ensure built-in roles: %w", err)
	}
	for _, role := range BuiltinRoles() {
		existing, ok := have[role.Name]
		missing := missingPermissions(existing, role.Permissions)
		switch {
		case !ok:
			err = st.RoleCreate(ctx, &windsock.Role{Name: role.Name, Permissions: missing})
			if windsock.ErrorCode(err) == windsock.ECONFLICT {
				// Another process created it meanwhile: grant instead.
				err = st.RolePermissionsAdd(ctx, role.Name, missing)
			}
		case len(missing) > 0:
			err = st.RolePermissionsAdd(ctx, role.Name, missing)
		}
		if err != nil {
			return fmt.Errorf("ensure built-in role %s: %w", role.Name, err)
		}
	}
	return nil
}

func missingPermissions(have, want []windsock.Permission) []windsock.Permission {
	set := make(map[windsock.Permission]bool, len(have))
	for _, p := range have {
		set[p] = true
	}
	var out []windsock.Permission
	for _, p := range want {
		if !set[p] {
			out = append(out, p)
			set[p] = true
		}
	}
	return out
}
