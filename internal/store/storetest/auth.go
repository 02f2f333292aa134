package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func perm(action, resource string) windsock.Permission {
	return windsock.Permission{Action: action, Resource: resource}
}

func roleNames(roles []*windsock.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.Name
	}
	return out
}

func testRole(t *testing.T, open OpenFunc) {
	t.Run("CreateGrantRevoke", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		r := &windsock.Role{Name: "team-a", Permissions: []windsock.Permission{
			perm("can_read", "DAG:etl"), perm("can_edit", "DAG:etl"), perm("can_read", "DAG:etl"),
		}}
		mustNo(t, st.RoleCreate(ctx, r))
		if r.ID == 0 {
			t.Fatal("RoleCreate did not set ID")
		}
		wantCode(t, st.RoleCreate(ctx, &windsock.Role{Name: "team-a"}), windsock.ECONFLICT)

		got, err := st.RoleGet(ctx, "team-a")
		mustNo(t, err)
		want := []windsock.Permission{perm("can_edit", "DAG:etl"), perm("can_read", "DAG:etl")}
		if got.ID != r.ID || !slices.Equal(got.Permissions, want) {
			t.Fatalf("RoleGet = %+v, want permissions %v", got, want)
		}

		// A second role shares the pair rows created for the first.
		mustNo(t, st.RoleCreate(ctx, &windsock.Role{Name: "team-b"}))
		mustNo(t, st.RolePermissionsAdd(ctx, "team-b", []windsock.Permission{perm("can_read", "DAG:etl"), perm("can_read", "DAGs")}))
		mustNo(t, st.RolePermissionsAdd(ctx, "team-b", []windsock.Permission{perm("can_read", "DAGs")}))
		mustNo(t, st.RolePermissionsRemove(ctx, "team-a", []windsock.Permission{perm("can_edit", "DAG:etl"), perm("can_delete", "Nothing")}))
		all, err := st.RolePermissionsList(ctx, nil)
		mustNo(t, err)
		if !slices.Equal(all["team-a"], []windsock.Permission{perm("can_read", "DAG:etl")}) ||
			!slices.Equal(all["team-b"], []windsock.Permission{perm("can_read", "DAG:etl"), perm("can_read", "DAGs")}) {
			t.Fatalf("RolePermissionsList = %v", all)
		}
		mustNo(t, st.RoleCreate(ctx, &windsock.Role{Name: "empty"}))
		some, err := st.RolePermissionsList(ctx, []string{"empty", "team-a"})
		mustNo(t, err)
		if len(some) != 2 || some["empty"] == nil || len(some["empty"]) != 0 {
			t.Fatalf("RolePermissionsList(empty, team-a) = %v, want both, empty with no permissions", some)
		}

		actions, total, err := st.PermissionList(ctx, 1, 1)
		mustNo(t, err)
		if total != 2 || !slices.Equal(actions, []string{"can_read"}) {
			t.Fatalf("PermissionList(1, 1) = %v, %d; want [can_read], 2", actions, total)
		}

		wantCode(t, st.RolePermissionsAdd(ctx, "missing", []windsock.Permission{perm("can_read", "DAGs")}), windsock.ENOTFOUND)
		wantCode(t, st.RolePermissionsAdd(ctx, "team-a", []windsock.Permission{perm("", "DAGs")}), windsock.EINVALID)
		_, err = st.RoleGet(ctx, "missing")
		wantCode(t, err, windsock.ENOTFOUND)
	})

	t.Run("ListRenameDelete", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		for _, name := range []string{"b", "a", "c"} {
			mustNo(t, st.RoleCreate(ctx, &windsock.Role{Name: name, Permissions: []windsock.Permission{perm("can_read", "DAG:"+name)}}))
		}
		roles, total, err := st.RoleList(ctx, nil)
		mustNo(t, err)
		if total != 3 || !slices.Equal(roleNames(roles), []string{"a", "b", "c"}) {
			t.Fatalf("RoleList = %v, %d", roleNames(roles), total)
		}
		if !slices.Equal(roles[1].Permissions, []windsock.Permission{perm("can_read", "DAG:b")}) {
			t.Fatalf("role b permissions = %v", roles[1].Permissions)
		}
		roles, total, err = st.RoleList(ctx, &store.RoleListParams{OrderBy: "-name", Limit: 2, Offset: 1})
		mustNo(t, err)
		if total != 3 || !slices.Equal(roleNames(roles), []string{"b", "a"}) {
			t.Fatalf("RoleList(-name, 2, 1) = %v, %d", roleNames(roles), total)
		}
		roles, _, err = st.RoleList(ctx, &store.RoleListParams{OrderBy: "id"})
		mustNo(t, err)
		if !slices.Equal(roleNames(roles), []string{"b", "a", "c"}) {
			t.Fatalf("RoleList(id) = %v", roleNames(roles))
		}
		_, _, err = st.RoleList(ctx, &store.RoleListParams{OrderBy: "name; DROP TABLE ab_role"})
		wantCode(t, err, windsock.EINVALID)

		mustNo(t, st.RoleRename(ctx, "a", "z"))
		wantCode(t, st.RoleRename(ctx, "b", "z"), windsock.ECONFLICT)
		wantCode(t, st.RoleRename(ctx, "a", "y"), windsock.ENOTFOUND)
		// RoleLock finds the role by name and changes nothing.
		mustNo(t, st.InTx(ctx, func(q store.Queries) error { return q.RoleLock(ctx, "z") }))
		wantCode(t, st.RoleLock(ctx, "a"), windsock.ENOTFOUND)
		got, err := st.RoleGet(ctx, "z")
		mustNo(t, err)
		if !slices.Equal(got.Permissions, []windsock.Permission{perm("can_read", "DAG:a")}) {
			t.Fatalf("renamed role permissions = %v", got.Permissions)
		}

		mustNo(t, st.UserCreate(ctx, &windsock.User{Username: "u", FirstName: "U", LastName: "V", Active: true, Roles: []string{"z", "b"}}))
		mustNo(t, st.RoleDelete(ctx, "z"))
		wantCode(t, st.RoleDelete(ctx, "z"), windsock.ENOTFOUND)
		u, err := st.UserGet(ctx, "u")
		mustNo(t, err)
		if !slices.Equal(u.Roles, []string{"b"}) {
			t.Fatalf("roles after deleting z = %v, want [b]", u.Roles)
		}
	})
}

func testUserAdmin(t *testing.T, open OpenFunc) {
	t.Run("ListUpdateRolesDelete", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		for _, r := range []string{"Viewer", "Op"} {
			mustNo(t, st.RoleCreate(ctx, &windsock.Role{Name: r}))
		}
		for i, name := range []string{"carol", "alice", "bob"} {
			mustNo(t, st.UserCreate(ctx, &windsock.User{Username: name, FirstName: name, LastName: "X",
				Email: name + "@example.com", Active: true, Roles: []string{"Viewer"},
				CreatedOn: zoned().Add(time.Duration(i) * time.Minute)}))
		}
		users, total, err := st.UserList(ctx, nil)
		mustNo(t, err)
		if total != 3 || len(users) != 3 || users[0].Username != "carol" || !slices.Equal(users[0].Roles, []string{"Viewer"}) {
			t.Fatalf("UserList = %d users (total %d), first %+v", len(users), total, users[0])
		}
		users, _, err = st.UserList(ctx, &store.UserListParams{OrderBy: "username", Limit: 2})
		mustNo(t, err)
		if len(users) != 2 || users[0].Username != "alice" || users[1].Username != "bob" {
			t.Fatalf("UserList(username, 2) = %v", users)
		}
		_, _, err = st.UserList(ctx, &store.UserListParams{OrderBy: "password"})
		wantCode(t, err, windsock.EINVALID)

		byID, err := st.UserGetByID(ctx, users[0].ID)
		mustNo(t, err)
		if byID.Username != "alice" || !slices.Equal(byID.Roles, []string{"Viewer"}) {
			t.Fatalf("UserGetByID = %+v", byID)
		}
		_, err = st.UserGetByID(ctx, 9999)
		wantCode(t, err, windsock.ENOTFOUND)

		newName, first, email, inactive := "alicia", "Alicia", "", false
		mustNo(t, st.UserUpdate(ctx, "alice", &store.UserUpdateParams{Username: &newName, FirstName: &first,
			Email: &email, Active: &inactive, ChangedOn: zoned()}))
		got, err := st.UserGet(ctx, "alicia")
		mustNo(t, err)
		if got.FirstName != "Alicia" || got.LastName != "X" || got.Email != "" || got.Active {
			t.Fatalf("after UserUpdate = %+v", got)
		}
		wantTime(t, "changed_on", &got.ChangedOn, zoned())
		taken := "bob"
		wantCode(t, st.UserUpdate(ctx, "alicia", &store.UserUpdateParams{Username: &taken}), windsock.ECONFLICT)
		wantCode(t, st.UserUpdate(ctx, "nobody", &store.UserUpdateParams{FirstName: &first}), windsock.ENOTFOUND)

		mustNo(t, st.UserAddRole(ctx, "bob", "Op"))
		wantCode(t, st.UserAddRole(ctx, "bob", "Op"), windsock.ECONFLICT)
		wantCode(t, st.UserAddRole(ctx, "bob", "Nope"), windsock.ENOTFOUND)
		wantCode(t, st.UserAddRole(ctx, "nobody", "Op"), windsock.ENOTFOUND)
		got, err = st.UserGet(ctx, "bob")
		mustNo(t, err)
		if !slices.Equal(got.Roles, []string{"Op", "Viewer"}) {
			t.Fatalf("bob's roles = %v", got.Roles)
		}
		mustNo(t, st.UserRemoveRole(ctx, "bob", "Viewer"))
		wantCode(t, st.UserRemoveRole(ctx, "bob", "Viewer"), windsock.ENOTFOUND)

		mustNo(t, st.UserDelete(ctx, "bob"))
		wantCode(t, st.UserDelete(ctx, "bob"), windsock.ENOTFOUND)
		_, total, err = st.UserList(ctx, nil)
		mustNo(t, err)
		if total != 2 {
			t.Fatalf("users after delete = %d, want 2", total)
		}
	})
}

func testAPIToken(t *testing.T, open OpenFunc) {
	t.Run("CreateUseDelete", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		u := &windsock.User{Username: "ci", FirstName: "C", LastName: "I", Active: true}
		mustNo(t, st.UserCreate(ctx, u))
		exp := zoned().Add(time.Hour)
		tok := &windsock.APIToken{UserID: u.ID, Name: "deploy", TokenHash: "h1", CreatedAt: zoned(), ExpiresAt: &exp}
		mustNo(t, st.APITokenCreate(ctx, tok))
		if tok.ID == 0 {
			t.Fatal("APITokenCreate did not set ID")
		}
		wantCode(t, st.APITokenCreate(ctx, &windsock.APIToken{UserID: u.ID, Name: "deploy", TokenHash: "h2", CreatedAt: zoned()}), windsock.ECONFLICT)
		wantCode(t, st.APITokenCreate(ctx, &windsock.APIToken{UserID: 9999, Name: "x", TokenHash: "h3", CreatedAt: zoned()}), windsock.ENOTFOUND)
		mustNo(t, st.APITokenCreate(ctx, &windsock.APIToken{UserID: u.ID, Name: "second", TokenHash: "h4", CreatedAt: zoned().Add(time.Second)}))

		got, err := st.APITokenGetByHash(ctx, "h1")
		mustNo(t, err)
		if got.ID != tok.ID || got.Username != "ci" || got.Name != "deploy" || got.LastUsedAt != nil {
			t.Fatalf("APITokenGetByHash = %+v", got)
		}
		wantTime(t, "expires_at", got.ExpiresAt, exp)
		_, err = st.APITokenGetByHash(ctx, "nope")
		wantCode(t, err, windsock.ENOTFOUND)

		used := zoned().Add(time.Minute)
		mustNo(t, st.APITokenTouch(ctx, tok.ID, used))
		list, err := st.APITokenList(ctx, u.ID)
		mustNo(t, err)
		if len(list) != 2 || list[0].Name != "deploy" || list[1].Name != "second" {
			t.Fatalf("APITokenList = %v", list)
		}
		wantTime(t, "last_used_at", list[0].LastUsedAt, used)

		other := &windsock.User{Username: "other", FirstName: "O", LastName: "T", Active: true}
		mustNo(t, st.UserCreate(ctx, other))
		wantCode(t, st.APITokenDelete(ctx, other.ID, tok.ID), windsock.ENOTFOUND)
		mustNo(t, st.APITokenDelete(ctx, u.ID, tok.ID))
		wantCode(t, st.APITokenDelete(ctx, u.ID, tok.ID), windsock.ENOTFOUND)

		// Tokens go with their user.
		mustNo(t, st.UserDelete(ctx, "ci"))
		_, err = st.APITokenGetByHash(ctx, "h4")
		wantCode(t, err, windsock.ENOTFOUND)
	})
}
