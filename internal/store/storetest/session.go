package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

func testSession(t *testing.T, open OpenFunc) {
	// newSession creates a session of user that expires an hour after now.
	newSession := func(t *testing.T, st store.Store, userID int64, now time.Time) string {
		t.Helper()
		hash := fmt.Sprintf("%064x", now.UnixNano()+userID*7919)
		mustNo(t, st.SessionCreate(t.Context(), &windsock.Session{IDHash: hash, UserID: userID,
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}))
		return hash
	}
	alive := func(t *testing.T, st store.Store, hash string, now time.Time) bool {
		t.Helper()
		_, _, err := st.SessionUser(t.Context(), hash, now)
		if err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
			t.Fatal(err)
		}
		return err == nil
	}
	setupUsers := func(t *testing.T) (store.Store, *windsock.User, *windsock.User) {
		ctx, st := setup(t, open)
		mustNo(t, st.RoleCreate(ctx, &windsock.Role{Name: "Ops"}))
		mustNo(t, st.RoleCreate(ctx, &windsock.Role{Name: "Admin"}))
		alice := &windsock.User{Username: "alice", Active: true, Roles: []string{"Viewer", "Ops"}, Email: "a@example.com"}
		bob := &windsock.User{Username: "bob", Active: true, Roles: []string{"Viewer"}, Email: "b@example.com"}
		mustNo(t, st.UserCreate(ctx, alice))
		mustNo(t, st.UserCreate(ctx, bob))
		return st, alice, bob
	}

	t.Run("LookupExpiryLogout", func(t *testing.T) {
		t.Parallel()
		st, alice, _ := setupUsers(t)
		ctx := t.Context()
		now := zoned()
		s1 := newSession(t, st, alice.ID, now)
		s2 := newSession(t, st, alice.ID, now.Add(time.Second))
		sess, u, err := st.SessionUser(ctx, s1, now.Add(time.Minute))
		mustNo(t, err)
		if u.ID != alice.ID || u.Username != "alice" || u.Email != "a@example.com" || !u.Active ||
			!slices.Equal(u.Roles, []string{"Ops", "Viewer"}) {
			t.Fatalf("SessionUser = %+v, want alice with roles [Ops Viewer]", u)
		}
		if sess.IDHash != s1 || sess.UserID != alice.ID {
			t.Fatalf("SessionUser session = %+v", sess)
		}
		wantTime(t, "created_at", &sess.CreatedAt, now)
		wantTime(t, "expires_at", &sess.ExpiresAt, now.Add(time.Hour))
		// Expired at exactly expires_at.
		_, _, err = st.SessionUser(ctx, s1, now.Add(time.Hour))
		wantCode(t, err, windsock.ENOTFOUND)
		_, _, err = st.SessionUser(ctx, "nope", now)
		wantCode(t, err, windsock.ENOTFOUND)

		// Extending moves the expiry, both ways.
		mustNo(t, st.SessionExtend(ctx, s1, now.Add(2*time.Hour)))
		if !alive(t, st, s1, now.Add(90*time.Minute)) {
			t.Fatal("an extended session expired at its old time")
		}
		mustNo(t, st.SessionExtend(ctx, s1, now.Add(time.Hour)))
		mustNo(t, st.SessionExtend(ctx, "nope", now))

		// Logout removes that session only.
		mustNo(t, st.SessionDelete(ctx, s1))
		mustNo(t, st.SessionDelete(ctx, s1))
		if alive(t, st, s1, now) || !alive(t, st, s2, now) {
			t.Fatal("SessionDelete did not remove exactly the one session")
		}
		wantCode(t, st.SessionCreate(ctx, &windsock.Session{IDHash: "x", UserID: alice.ID + 100,
			CreatedAt: now, ExpiresAt: now.Add(time.Hour)}), windsock.ENOTFOUND)

		n, err := st.SessionDeleteExpired(ctx, now.Add(time.Hour))
		mustNo(t, err)
		if n != 0 {
			t.Fatalf("SessionDeleteExpired at s2's creation + 1h - 1s removed %d, want 0", n)
		}
		n, err = st.SessionDeleteExpired(ctx, now.Add(time.Hour+time.Second))
		mustNo(t, err)
		if n != 1 {
			t.Fatalf("SessionDeleteExpired removed %d, want 1", n)
		}
	})

	t.Run("RevokedByCredentialAndRoleChanges", func(t *testing.T) {
		t.Parallel()
		st, alice, bob := setupUsers(t)
		ctx := t.Context()
		now := zoned()
		for _, tc := range []struct {
			name   string
			change func() error
		}{
			{"password", func() error { return st.UserSetPassword(ctx, "alice", "$2a$10$new") }},
			{"add role", func() error { return st.UserAddRole(ctx, "alice", "Admin") }},
			{"remove role", func() error { return st.UserRemoveRole(ctx, "alice", "Admin") }},
			{"deactivate", func() error {
				no := false
				return st.UserUpdate(ctx, "alice", &store.UserUpdateParams{Active: &no, ChangedOn: now})
			}},
			{"delete role", func() error { return st.RoleDelete(ctx, "Ops") }},
			{"delete user", func() error { return st.UserDelete(ctx, "alice") }},
		} {
			now = now.Add(time.Second)
			mine := newSession(t, st, alice.ID, now)
			other := newSession(t, st, bob.ID, now)
			mustNo(t, tc.change())
			if alive(t, st, mine, now) {
				t.Fatalf("alice's session survived a %s", tc.name)
			}
			if !alive(t, st, other, now) {
				t.Fatalf("bob's session was revoked by alice's %s", tc.name)
			}
		}

		// A change that grants nothing keeps sessions.
		mine := newSession(t, st, bob.ID, now.Add(time.Minute))
		name := "Bob"
		mustNo(t, st.UserUpdate(ctx, "bob", &store.UserUpdateParams{FirstName: &name, ChangedOn: now}))
		if !alive(t, st, mine, now) {
			t.Fatal("a first-name change revoked the session")
		}
	})

	t.Run("RecordLogin", func(t *testing.T) {
		t.Parallel()
		st, alice, _ := setupUsers(t)
		ctx := t.Context()
		at := zoned().Add(time.Hour)
		mustNo(t, st.UserRecordLogin(ctx, alice.ID, false, at))
		mustNo(t, st.UserRecordLogin(ctx, alice.ID, false, at))
		u, err := st.UserGet(ctx, "alice")
		mustNo(t, err)
		if u.FailLoginCount != 2 || u.LoginCount != 0 || u.LastLogin != nil {
			t.Fatalf("after two failures: fail=%d login=%d last=%v, want 2, 0, nil", u.FailLoginCount, u.LoginCount, u.LastLogin)
		}
		mustNo(t, st.UserRecordLogin(ctx, alice.ID, true, at))
		mustNo(t, st.UserRecordLogin(ctx, alice.ID, true, at.Add(time.Minute)))
		u, err = st.UserGet(ctx, "alice")
		mustNo(t, err)
		if u.FailLoginCount != 0 || u.LoginCount != 2 {
			t.Fatalf("after two successes: fail=%d login=%d, want 0, 2", u.FailLoginCount, u.LoginCount)
		}
		wantTime(t, "last_login", u.LastLogin, at.Add(time.Minute))
		wantCode(t, st.UserRecordLogin(ctx, alice.ID+100, true, at), windsock.ENOTFOUND)
	})
}
