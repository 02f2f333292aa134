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

// RolePermissionsSet makes perms the whole set of the role's permissions:
// what is missing is granted, what is not listed is revoked, as Airflow's
// role edit page does (the REST API's PATCH only ever grants). Each
// permission is checked with CheckPermission. A built-in role keeps its
// default permissions: EnsureBuiltinRoles would grant them again at the
// next start, so revoking one would be an edit that silently comes undone.
func RolePermissionsSet(ctx context.Context, st store.Store, name string, perms []windsock.Permission) error {
	for _, p := range perms {
		if err := CheckPermission(p); err != nil {
			return err
		}
	}
	if defaults := BuiltinPermissions(name); defaults != nil {
		if lost := missingPermissions(perms, defaults); len(lost) > 0 {
			return windsock.Errorf(windsock.EINVALID,
				"%s is a built-in role: its default permission %s on %s cannot be revoked", name, lost[0].Action, lost[0].Resource)
		}
	}
	return st.InTx(ctx, func(q store.Queries) error {
		role, err := q.RoleGet(ctx, name)
		if err != nil {
			return err
		}
		if err := q.RolePermissionsAdd(ctx, name, missingPermissions(role.Permissions, perms)); err != nil {
			return err
		}
		return q.RolePermissionsRemove(ctx, name, missingPermissions(perms, role.Permissions))
	})
}

// BuiltinPermissions returns the default permissions of a built-in role,
// nil for any other role (Public's are empty, not nil).
func BuiltinPermissions(name string) []windsock.Permission {
	for _, r := range BuiltinRoles() {
		if r.Name == name {
			return r.Permissions
		}
	}
	return nil
}

// IsBuiltinRole reports whether name is one of Airflow's default roles.
func IsBuiltinRole(name string) bool {
	return BuiltinPermissions(name) != nil
}
