package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// testAddr is the client address of logins in these tests.
const testAddr = "192.0.2.1"

// quickHash hashes password at bcrypt's minimum cost, for tests that check
// many wrong passwords.
func quickHash(t testing.TB, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func createUser(t *testing.T, st store.Store, username, hash string) *windsock.User {
	t.Helper()
	u := &windsock.User{Username: username, FirstName: "F", LastName: "L", Email: username + "@example.com",
		Password: hash, Active: true, Roles: []string{RoleViewer}}
	if err := st.UserCreate(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// TestLoginSharesOneCheck: concurrent logins with the same cold
// credentials run bcrypt once, and later ones none.
func TestLoginSharesOneCheck(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	createUser(t, st, "alice", quickHash(t, "pw"))
	createUser(t, st, "bob", quickHash(t, "pw"))
	a := &Authenticator{Store: st, Backends: Backends{Basic: true}, MaxConcurrentChecks: 1}
	a.init()
	// Hold the only slot, so that every check waits until all callers
	// have started.
	a.slots <- struct{}{}
	var wg sync.WaitGroup
	for i := range 40 {
		user := []string{"alice", "bob"}[i%2]
		wg.Go(func() {
			if _, err := a.Login(ctx, user, "pw", testAddr); err != nil {
				t.Error(err)
			}
		})
	}
	// Both flights' leaders wait for the slot: one queued, the other
	// queued or about to be.
	for a.queued.Load() < 1 {
		runtime.Gosched()
	}
	a.release()
	wg.Wait()
	if got := a.PasswordChecks(); got != 2 {
		t.Errorf("40 logins of 2 users ran bcrypt %d times, want 2", got)
	}
	for range 10 {
		if _, err := a.Login(ctx, "alice", "pw", testAddr); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.PasswordChecks(); got != 2 {
		t.Errorf("cached logins ran bcrypt: %d checks, want 2", got)
	}
}

// TestLoginShedsWhenQueueFull: past MaxQueuedChecks waiting checks, or
// after MaxCheckWait, a check is refused with EUNAVAILABLE and a
// Retry-After rather than queued.
func TestLoginShedsWhenQueueFull(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	createUser(t, st, "alice", quickHash(t, "pw"))
	createUser(t, st, "bob", quickHash(t, "pw"))
	a := &Authenticator{Store: st, MaxConcurrentChecks: 1, MaxQueuedChecks: 1, MaxCheckWait: time.Hour}
	a.init()
	a.slots <- struct{}{}
	queued := make(chan error, 1)
	go func() {
		_, err := a.Login(ctx, "alice", "pw", testAddr)
		queued <- err
	}()
	for a.queued.Load() < 1 {
		runtime.Gosched()
	}
	_, err := a.Login(ctx, "bob", "pw", testAddr)
	if windsock.ErrorCode(err) != windsock.EUNAVAILABLE || windsock.RetryAfter(err) <= 0 {
		t.Fatalf("login past a full queue = %v (retry after %v), want EUNAVAILABLE with a retry delay", err, windsock.RetryAfter(err))
	}
	a.release()
	if err := <-queued; err != nil {
		t.Fatalf("queued login: %v", err)
	}
	if a.queued.Load() != 0 {
		t.Errorf("queue holds %d after all checks ended", a.queued.Load())
	}

	// A check that cannot get a slot in MaxCheckWait is shed.
	impatient := &Authenticator{Store: st, MaxConcurrentChecks: 1, MaxCheckWait: time.Millisecond}
	impatient.init()
	impatient.slots <- struct{}{}
	if _, err := impatient.Login(ctx, "bob", "pw", testAddr); windsock.ErrorCode(err) != windsock.EUNAVAILABLE {
		t.Fatalf("login that waited past MaxCheckWait = %v, want EUNAVAILABLE", err)
	}
	// A shed check is not a failure: nothing counted.
	u, err := st.UserGet(ctx, "bob")
	if err != nil || u.FailLoginCount != 0 || u.LoginCount != 0 {
		t.Fatalf("after a shed login: %+v, %v", u, err)
	}
}

// TestLoginThrottled: after 5 failures in 40 s of one user from one
// address, attempts from there are refused (even with the right
// password) without a check, until the window passes; the same user from
// another address is not locked out; failures and logins are counted in
// ab_user as FAB does.
func TestLoginThrottled(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	createUser(t, st, "alice", quickHash(t, "pw"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cfg := config.Default("")
	a := NewAuthenticator(st, cfg, func() time.Time { return now }, nil)
	if a.Limiter == nil || a.Limiter.PerUser != (config.RateLimit{Count: 5, Window: 40 * time.Second}) {
		t.Fatalf("default limiter = %+v, want 5 per 40 s", a.Limiter)
	}
	for i := range 5 {
		if _, err := a.Login(ctx, "alice", "wrong", testAddr); windsock.ErrorCode(err) != windsock.EUNAUTH {
			t.Fatalf("failure %d = %v, want EUNAUTH", i+1, err)
		}
		now = now.Add(time.Second)
	}
	checks := a.PasswordChecks()
	for _, pw := range []string{"wrong", "pw"} {
		_, err := a.Login(ctx, "alice", pw, testAddr)
		if windsock.ErrorCode(err) != windsock.ETHROTTLED || windsock.RetryAfter(err) != 35*time.Second {
			t.Fatalf("6th attempt (%s) = %v, retry after %v; want ETHROTTLED, 35s", pw, err, windsock.RetryAfter(err))
		}
	}
	if a.PasswordChecks() != checks {
		t.Error("a throttled attempt ran bcrypt")
	}
	u, err := st.UserGet(ctx, "alice")
	if err != nil || u.FailLoginCount != 5 || u.LoginCount != 0 {
		t.Fatalf("after 5 failures: fail_login_count=%d login_count=%d (%v), want 5, 0", u.FailLoginCount, u.LoginCount, err)
	}
	// The user is not locked out elsewhere.
	if _, err := a.Login(ctx, "alice", "pw", "198.51.100.7"); err != nil {
		t.Fatalf("right password from another address: %v", err)
	}
	u, _ = st.UserGet(ctx, "alice")
	if u.LoginCount != 1 || u.FailLoginCount != 0 || u.LastLogin == nil || !u.LastLogin.Equal(now) {
		t.Fatalf("after a login: login_count=%d fail_login_count=%d last_login=%v, want 1, 0, %v", u.LoginCount, u.FailLoginCount, u.LastLogin, now)
	}
	now = now.Add(35 * time.Second)
	if _, err := a.Login(ctx, "alice", "pw", testAddr); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// That login was cached: verifications count, cached checks do not.
	u, _ = st.UserGet(ctx, "alice")
	if u.LoginCount != 1 {
		t.Errorf("a cached verification counted as a login: login_count=%d", u.LoginCount)
	}

	// Spraying usernames from one address hits the address limit (4x).
	sprayer := "203.0.113.9"
	for i := range 20 {
		createUser(t, st, "user"+string(rune('a'+i)), quickHash(t, "secret"))
	}
	for i := range 20 {
		if _, err := a.Login(ctx, "user"+string(rune('a'+i)), "pw", sprayer); windsock.ErrorCode(err) != windsock.EUNAUTH {
			t.Fatalf("spray %d = %v", i, err)
		}
	}
	if _, err := a.Login(ctx, "alice", "pw", sprayer); windsock.ErrorCode(err) != windsock.ETHROTTLED {
		t.Fatalf("after 20 failures from one address = %v, want ETHROTTLED", err)
	}

	off := config.Default("")
	off.Webserver.AuthRateLimited = false
	if NewAuthenticator(st, off, nil, nil).Limiter != nil {
		t.Error("auth_rate_limited = False still limits")
	}
}

func TestLoginLimiterWindow(t *testing.T) {
	t.Parallel()
	l := NewLoginLimiter(config.RateLimit{Count: 2, Window: 10 * time.Second})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	l.Fail("u", "a", at(0))
	l.Fail("u", "a", at(4))
	if wait, ok := l.Allow("u", "a", at(5)); ok || wait != 5*time.Second {
		t.Fatalf("after 2 failures: Allow = %v, %v; want refused for 5s", wait, ok)
	}
	// Sliding: at 10 s the first failure has left the window.
	// A reserved check counts as a failure until it succeeds.
	if _, ok := l.Reserve("u", "a", at(10)); !ok {
		t.Fatal("still refused once a failure left the window")
	}
	if wait, ok := l.Allow("u", "a", at(11)); ok || wait != 3*time.Second {
		t.Fatalf("Allow = %v, %v; want refused for 3s", wait, ok)
	}
	l.Succeed("u", "a", at(10))
	if _, ok := l.Allow("u", "a", at(11)); !ok {
		t.Fatal("a success did not clear the pair's failures")
	}
	// Attempts admitted together count at once: of many concurrent ones
	// only Count get through before any has failed. A released one (its
	// check was shed) gives its place back.
	c := NewLoginLimiter(config.RateLimit{Count: 5, Window: time.Minute})
	var admitted atomic.Int32
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, ok := c.Reserve("admin", "b", t0); ok {
				admitted.Add(1)
			}
		})
	}
	wg.Wait()
	if n := admitted.Load(); n != 5 {
		t.Errorf("%d of 50 concurrent attempts admitted, want 5", n)
	}
	c.Release("admin", "b", t0)
	if _, ok := c.Reserve("admin", "b", t0); !ok {
		t.Error("a released attempt did not give its place back")
	}
	var none *LoginLimiter
	none.Fail("u", "a", t0)
	if _, ok := none.Allow("u", "a", t0); !ok {
		t.Fatal("a nil limiter refused")
	}
}

// TestSessionRevocation: a session is refused after logout, a password
// change, a role change, deactivation and deletion of its user, and after
// its lifetime without activity; other sessions stay.
func TestSessionRevocation(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &Authenticator{Store: st, Backends: Backends{Session: true}, SecretKey: "k",
		SessionLifetime: time.Hour, Clock: func() time.Time { return now }}
	bob := createUser(t, st, "bob", quickHash(t, "pw"))
	login := func(u *windsock.User) *http.Cookie {
		t.Helper()
		c, err := a.StartSession(ctx, u, false)
		if err != nil {
			t.Fatal(err)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure || !c.Expires.After(now.Add(time.Hour)) {
			t.Fatalf("cookie attributes: %+v", c)
		}
		return c
	}
	valid := func(c *http.Cookie) bool {
		t.Helper()
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.AddCookie(c)
		u, err := a.Authenticate(r)
		if err != nil && windsock.ErrorCode(err) != windsock.EUNAUTH {
			t.Fatal(err)
		}
		return u != nil
	}
	bobs := login(bob)
	for i, tc := range []struct {
		name   string
		revoke func(c *http.Cookie, username string) error
	}{
		{"logout", func(c *http.Cookie, _ string) error { return a.EndSession(ctx, c.Value) }},
		{"password change", func(_ *http.Cookie, u string) error { return st.UserSetPassword(ctx, u, quickHash(t, "pw2")) }},
		{"role change", func(_ *http.Cookie, u string) error { return st.UserAddRole(ctx, u, RoleOp) }},
		{"deactivation", func(_ *http.Cookie, u string) error {
			no := false
			return st.UserUpdate(ctx, u, &store.UserUpdateParams{Active: &no, ChangedOn: now})
		}},
		{"deletion", func(_ *http.Cookie, u string) error { return st.UserDelete(ctx, u) }},
	} {
		u := createUser(t, st, "user"+strconv.Itoa(i), quickHash(t, "pw"))
		c := login(u)
		if !valid(c) {
			t.Fatalf("a fresh session is refused (before %s)", tc.name)
		}
		if err := tc.revoke(c, u.Username); err != nil {
			t.Fatal(err)
		}
		if valid(c) {
			t.Errorf("session still accepted after %s", tc.name)
		}
		if !valid(bobs) {
			t.Fatalf("another user's session was revoked by %s", tc.name)
		}
	}

	// The lifetime is an idle timeout, as Airflow's: activity keeps a
	// session alive past it; a lifetime without activity ends it.
	for range 3 {
		now = now.Add(time.Hour - time.Second)
		if !valid(bobs) {
			t.Fatalf("an active session expired at %v", now)
		}
	}
	now = now.Add(time.Hour)
	if valid(bobs) {
		t.Fatal("session accepted after a lifetime without activity")
	}

	// A forged or altered cookie is refused before the store is asked.
	carol := createUser(t, st, "carol", "")
	good := login(carol)
	other := &Authenticator{Store: st, Backends: Backends{Session: true}, SecretKey: "other", SessionLifetime: time.Hour,
		Clock: func() time.Time { return now }}
	forged, err := other.StartSession(ctx, carol, false)
	if err != nil {
		t.Fatal(err)
	}
	for name, value := range map[string]string{
		"other key": forged.Value, "garbage": "!!!.???", "empty": "", "no signature": good.Value[:20],
	} {
		if _, err := a.Session(ctx, value); windsock.ErrorCode(err) != windsock.EUNAUTH {
			t.Errorf("%s: Session = %v, want EUNAUTH", name, err)
		}
	}
	if _, err := CreateSession(ctx, st, "", SessionCookieName, carol.ID, now, time.Hour, false); err == nil {
		t.Error("a session was signed without a key")
	}
}

// BenchmarkLoginColdBurst measures a burst of logins with cold
// credentials at the production bcrypt cost: 8 users, 25 concurrent
// requests each. Reported: checks/op (bcrypt runs per burst, ideally 8)
// and shed/op (logins refused because a check waited past MaxCheckWait).
func BenchmarkLoginColdBurst(b *testing.B) {
	ctx, st := setup(b)
	hash, err := HashPassword("pw")
	if err != nil {
		b.Fatal(err)
	}
	const users, perUser = 8, 25
	for i := range users {
		if err := st.UserCreate(ctx, &windsock.User{Username: "u" + string(rune('a'+i)), Password: hash, Active: true,
			Email: string(rune('a'+i)) + "@example.com"}); err != nil {
			b.Fatal(err)
		}
	}
	var checks int64
	var shed atomic.Int64
	for b.Loop() {
		a := &Authenticator{Store: st}
		var wg sync.WaitGroup
		for i := range users * perUser {
			wg.Go(func() {
				_, err := a.Login(ctx, "u"+string(rune('a'+i%users)), "pw", testAddr)
				switch windsock.ErrorCode(err) {
				case "":
				case windsock.EUNAVAILABLE:
					shed.Add(1) // on a loaded machine: deliberate, counted
				default:
					b.Error(err)
				}
			})
		}
		wg.Wait()
		checks += a.PasswordChecks()
	}
	b.ReportMetric(float64(checks)/float64(b.N), "checks/op")
	b.ReportMetric(float64(shed.Load())/float64(b.N), "shed/op")
}

// BenchmarkSessionLookup compares what a request with a session cookie
// costs the store now (SessionUser: the session row joined to its user)
// with what it cost before sessions were revocable (UserGetByID).
func BenchmarkSessionLookup(b *testing.B) {
	ctx, st := setup(b)
	u := &windsock.User{Username: "ui", Email: "ui@example.com", Active: true, Roles: []string{RoleViewer}}
	if err := st.UserCreate(ctx, u); err != nil {
		b.Fatal(err)
	}
	a := &Authenticator{Store: st, Backends: Backends{Session: true}, SecretKey: "k"}
	c, err := a.StartSession(ctx, u, false)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("UserGetByID-before", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.UserGetByID(ctx, u.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Session-now", func(b *testing.B) {
		for b.Loop() {
			if _, err := a.Session(ctx, c.Value); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestLoginCacheRefreshedWhileUsed: a credential in use stays cached past
// the TTL counted from its verification (no periodic bcrypt stall); an
// idle one expires; a password change voids it at once; Forget drops it.
func TestLoginCacheRefreshedWhileUsed(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	createUser(t, st, "alice", quickHash(t, "pw"))
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	a := &Authenticator{Store: st, Clock: func() time.Time { return now }}
	login := func(pw string, wantChecks int64) {
		t.Helper()
		if _, err := a.Login(ctx, "alice", pw, testAddr); err != nil {
			t.Fatalf("login at %v: %v", now, err)
		}
		if got := a.PasswordChecks(); got != wantChecks {
			t.Fatalf("at %v: %d bcrypt checks, want %d", now, got, wantChecks)
		}
	}
	login("pw", 1)
	for range 5 {
		now = now.Add(DefaultLoginCacheTTL - time.Second)
		login("pw", 1)
	}
	now = now.Add(DefaultLoginCacheTTL)
	login("pw", 2)

	if err := st.UserSetPassword(ctx, "alice", quickHash(t, "pw2")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(ctx, "alice", "pw", testAddr); windsock.ErrorCode(err) != windsock.EUNAUTH {
		t.Fatalf("the old, cached password after a change: %v, want EUNAUTH", err)
	}
	login("pw2", 4) // the refused old password ran one check, the new one another
	a.Forget("alice")
	login("pw2", 5)
}

// TestConcurrentGuessesThrottled: guesses sent at once, each with its own
// password, are checked at most as often as the limit allows; many
// requests of one right password at once are one check and all succeed.
func TestConcurrentGuessesThrottled(t *testing.T) {
	t.Parallel()
	ctx, st := setup(t)
	createUser(t, st, "alice", quickHash(t, "pw"))
	a := NewAuthenticator(st, config.Default(""), nil, nil)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() { a.Login(ctx, "alice", fmt.Sprint("guess-", i), "198.51.100.7") })
	}
	wg.Wait()
	if n := a.PasswordChecks(); n > 5 {
		t.Errorf("%d concurrent guesses ran %d password checks, want at most 5", 50, n)
	}
	before := a.PasswordChecks()
	var failed atomic.Int32
	for range 50 {
		wg.Go(func() {
			if _, err := a.Login(ctx, "alice", "pw", testAddr); err != nil {
				failed.Add(1)
			}
		})
	}
	wg.Wait()
	if n := failed.Load(); n != 0 {
		t.Errorf("%d of 50 concurrent logins with the right password failed", n)
	}
	if n := a.PasswordChecks() - before; n != 1 {
		t.Errorf("50 concurrent logins with one password ran %d checks, want 1", n)
	}
}
