package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"

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
// permission is checked with CheckPermission, here and only here: callers
// pass what they decoded. A built-in role keeps its default permissions:
// EnsureBuiltinRoles would grant them again at the next start, so revoking
// one would be an edit that silently comes undone.
func RolePermissionsSet(ctx context.Context, st store.Store, name string, perms []windsock.Permission) error {
	for _, p := range perms {
		if err := CheckPermission(p); err != nil {
			return err
		}
	}
	if err := keepsDefaults(name, missingPermissions(perms, BuiltinPermissions(name))); err != nil {
		return err
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

// keepsDefaults refuses revoking any of a built-in role's defaults.
func keepsDefaults(name string, revoked []windsock.Permission) error {
	defaults := permissionIndex(BuiltinPermissions(name))
	for _, p := range revoked {
		if defaults[p] {
			return windsock.Errorf(windsock.EINVALID,
				"%s is a built-in role: its default permission %s on %s cannot be revoked", name, p.Action, p.Resource)
		}
	}
	return nil
}

func permissionIndex(perms []windsock.Permission) map[windsock.Permission]bool {
	out := make(map[windsock.Permission]bool, len(perms))
	for _, p := range perms {
		out[p] = true
	}
	return out
}

// RoleVersion is a digest of a set of permissions, in any order. The role
// editor renders a role with its version and sends it back with its
// changes, so a change made on a page that no longer shows the role as it
// is (someone saved meanwhile) is refused instead of applied over theirs.
func RoleVersion(perms []windsock.Permission) string {
	lines := make([]string, len(perms))
	for i, p := range perms {
		lines[i] = p.Action + "\x00" + p.Resource + "\n"
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// RolePermissionsChange is an edit of a role's permissions: what to grant
// and what to revoke, against the version it was made from. Only the
// changes travel, so a role of any size can be edited within a request's
// body limit.
type RolePermissionsChange struct {
	// Version is the RoleVersion the change was made against; empty
	// applies the change to whatever the role holds.
	Version string
	Grant   []windsock.Permission
	Revoke  []windsock.Permission
}

// RolePermissionsEdited is a role after a RolePermissionsChange.
type RolePermissionsEdited struct {
	Version string
	Total   int
}

// RolePermissionsEdit applies ch to the named role in one transaction and
// returns the role's new version. ECONFLICT when the role is no longer at
// ch.Version, EINVALID for a grant CheckPermission refuses, a permission
// both granted and revoked, or a built-in role's default revoked.
// Revocations are not checked: a permission the role holds on a resource
// Windsock does not know (an imported role's) can still be revoked.
func RolePermissionsEdit(ctx context.Context, st store.Store, name string, ch RolePermissionsChange) (*RolePermissionsEdited, error) {
	for _, p := range ch.Grant {
		if err := CheckPermission(p); err != nil {
			return nil, err
		}
	}
	granted := permissionIndex(ch.Grant)
	for _, p := range ch.Revoke {
		if granted[p] {
			return nil, windsock.Errorf(windsock.EINVALID, "%s on %s is both granted and revoked", p.Action, p.Resource)
		}
	}
	if err := keepsDefaults(name, ch.Revoke); err != nil {
		return nil, err
	}
	var out RolePermissionsEdited
	err := st.InTx(ctx, func(q store.Queries) error {
		// Two editors saving from the same version are checked one after
		// the other and the second is refused, not merged unseen.
		if err := q.RoleLock(ctx, name); err != nil {
			return err
		}
		role, err := q.RoleGet(ctx, name)
		if err != nil {
			return err
		}
		if v := RoleVersion(role.Permissions); ch.Version != "" && v != ch.Version {
			return windsock.Errorf(windsock.ECONFLICT,
				"role %q was changed after this editor was opened (version %s, now %s): reload the page and make the change again",
				name, ch.Version, v)
		}
		if err := q.RolePermissionsAdd(ctx, name, missingPermissions(role.Permissions, ch.Grant)); err != nil {
			return err
		}
		if err := q.RolePermissionsRemove(ctx, name, ch.Revoke); err != nil {
			return err
		}
		after := permissionIndex(role.Permissions)
		for _, p := range ch.Grant {
			after[p] = true
		}
		for _, p := range ch.Revoke {
			delete(after, p)
		}
		out = RolePermissionsEdited{Version: RoleVersion(slices.Collect(maps.Keys(after))), Total: len(after)}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
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
