package web

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/config"
)

// formLogin logs user in through the login form and returns the session
// cookie.
func (e *env) formLogin(user, pw string) response {
	e.t.Helper()
	token, pre := e.loginForm("/")
	return e.postForm("/login", "", url.Values{"username": {user}, "password": {pw},
		"csrf_token": {token}, "next": {"/"}}, pre)
}

func (e *env) mustLogin(user string) *http.Cookie {
	e.t.Helper()
	r := e.formLogin(user, password)
	c := sessionCookie(r.header)
	if r.status != http.StatusSeeOther || c == nil {
		e.t.Fatalf("login of %s: %d, cookie %v", user, r.status, c)
	}
	return c
}

// signedIn reports whether the cookie still opens the API.
func (e *env) signedIn(c *http.Cookie) bool {
	e.t.Helper()
	r := e.do(http.MethodGet, "/api/v1/pools", "", "", nil, c)
	if r.status != http.StatusOK && r.status != http.StatusUnauthorized {
		e.t.Fatalf("GET /api/v1/pools: %d %s", r.status, r.body)
	}
	return r.status == http.StatusOK
}

// asAdmin sends an API request with the admin's Basic credentials.
func (e *env) asAdmin(method, path, body string) response {
	e.t.Helper()
	req, _ := http.NewRequest(method, "/", nil)
	req.SetBasicAuth("admin", password)
	h := http.Header{"Authorization": req.Header["Authorization"], "Content-Type": {"application/json"}}
	return e.do(method, path, "", body, h)
}

// TestLogoutRevokesSession: the cookie of a session that logged out is
// refused afterwards even if a client kept it.
func TestLogoutRevokesSession(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.mustLogin("viewer")
	other := e.mustLogin("viewer") // another browser of the same user
	if !e.signedIn(c) {
		t.Fatal("a fresh session is refused")
	}
	r := e.postForm("/logout", "", url.Values{"csrf_token": {e.csrf(c)}}, c)
	if r.status != http.StatusSeeOther {
		t.Fatalf("logout: %d", r.status)
	}
	if e.signedIn(c) {
		t.Error("the cookie still works after logout")
	}
	if p := e.do(http.MethodGet, "/", "", "", nil, c); p.status != http.StatusSeeOther {
		t.Errorf("a page with the logged-out cookie: %d, want a redirect to login", p.status)
	}
	if !e.signedIn(other) {
		t.Error("logout ended the user's other session too")
	}
}

// TestCredentialChangesRevokeSessions: a password change, a role change
// and deletion through the API end the user's sessions.
func TestCredentialChangesRevokeSessions(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, tc := range []struct {
		name, method, body string
	}{
		{"password change", http.MethodPatch, `{"password": "a-new-password"}`},
		{"role change", http.MethodPatch, `{"roles": [{"name": "Op"}]}`},
		{"deletion", http.MethodDelete, ""},
	} {
		c := e.mustLogin("viewer")
		bystander := e.mustLogin("op")
		if r := e.asAdmin(tc.method, "/api/v1/users/viewer", tc.body); r.status >= 300 {
			t.Fatalf("%s: %d %s", tc.name, r.status, r.body)
		}
		if e.signedIn(c) {
			t.Errorf("the session survived a %s", tc.name)
		}
		if !e.signedIn(bystander) {
			t.Errorf("another user's session was ended by a %s", tc.name)
		}
		if tc.name == "password change" {
			// Put the test password back for the next case.
			if err := e.st.UserSetPassword(e.ctx, "viewer", passwordHash()); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestLoginFormThrottled: after 5 wrong passwords in the window, the form
// answers 429 with Retry-After, even for the right password, as Airflow's
// AUTH_RATE_LIMITED login view does; failures are counted. The window is
// a day (webserver.auth_rate_limit) so that a slow machine cannot let it
// pass during the test.
func TestLoginFormThrottled(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.Webserver.AuthRateLimit = "5 per 1 day" })
	for i := range 5 {
		if r := e.formLogin("viewer", "wrong"); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i+1, r.status)
		}
	}
	r := e.formLogin("viewer", password)
	if r.status != http.StatusTooManyRequests || sessionCookie(r.header) != nil {
		t.Fatalf("6th attempt: %d, want 429 and no session", r.status)
	}
	if s, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || s < 1 || s > 86400 {
		t.Errorf("Retry-After = %q, want 1..86400 seconds", r.header.Get("Retry-After"))
	}
	contains(t, r.body, `id="login-error"`, "Too many failed logins", `id="login-form"`)
	u, err := e.st.UserGet(e.ctx, "viewer")
	if err != nil || u.FailLoginCount != 5 || u.LoginCount != 0 {
		t.Fatalf("fail_login_count=%d login_count=%d (%v), want 5, 0", u.FailLoginCount, u.LoginCount, err)
	}
	// Another user from the same address is not locked out.
	e.mustLogin("op")
}

// TestLoginRecordsStatsAndLifetime: a form login adds to login_count,
// sets last_login, resets fail_login_count, and issues a session that
// lasts webserver.session_lifetime_minutes.
func TestLoginRecordsStatsAndLifetime(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.Webserver.SessionLifetimeMinutes = 90 })
	if r := e.formLogin("user", "wrong"); r.status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", r.status)
	}
	before := time.Now().Truncate(time.Second)
	c := e.mustLogin("user")
	e.mustLogin("user")
	after := time.Now()
	u, err := e.st.UserGet(e.ctx, "user")
	if err != nil || u.LoginCount != 2 || u.FailLoginCount != 0 || u.LastLogin == nil ||
		u.LastLogin.Before(before) || u.LastLogin.After(after) {
		t.Fatalf("after two logins: login_count=%d fail_login_count=%d last_login=%v (%v)", u.LoginCount, u.FailLoginCount, u.LastLogin, err)
	}
	// Both sessions expire 90 minutes after their last use, in the store
	// (the cookie itself outlives them: the store decides).
	if n, err := e.st.SessionDeleteExpired(e.ctx, before.Add(89*time.Minute)); err != nil || n != 0 {
		t.Fatalf("sessions expired within 89 minutes: %d (%v)", n, err)
	}
	if !e.signedIn(c) {
		t.Fatal("the session is refused")
	}
	if n, err := e.st.SessionDeleteExpired(e.ctx, time.Now().Add(91*time.Minute)); err != nil || n != 2 {
		t.Fatalf("sessions left 91 minutes after their last use: deleted %d (%v), want 2", n, err)
	}
	if e.signedIn(c) {
		t.Error("the cookie of an expired session still works")
	}
}
