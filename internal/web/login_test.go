package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
)

var formTokenRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// loginForm fetches the login form and returns its token and the
// pre-session cookie that goes with it.
func (e *env) loginForm(next string) (string, *http.Cookie) {
	e.t.Helper()
	r := e.get("/login?next="+url.QueryEscape(next), "")
	if r.status != http.StatusOK {
		e.t.Fatalf("GET /login: %d", r.status)
	}
	m := formTokenRe.FindStringSubmatch(r.body)
	if m == nil {
		e.t.Fatal("login form has no csrf_token")
	}
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == loginCookieName {
			return m[1], c
		}
	}
	e.t.Fatal("login form set no pre-session cookie")
	return "", nil
}

func sessionCookie(h http.Header) *http.Cookie {
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if strings.HasPrefix(c.Name, auth.SessionCookieName+"_") {
			return c
		}
	}
	return nil
}

func TestLogin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	body := e.page("/login", "", http.StatusOK)
	contains(t, body, `<label for="username">`, `<label for="password">`, `type="password"`)

	token, pre := e.loginForm("/variable/list?page=1")
	r := e.postForm("/login", "", url.Values{"username": {"admin"}, "password": {password},
		"csrf_token": {token}, "next": {"/variable/list?page=1"}}, pre)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/variable/list?page=1" {
		t.Fatalf("login: %d to %q", r.status, r.header.Get("Location"))
	}
	c := sessionCookie(r.header)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v", c)
	}
	// The session opens pages.
	b := e.do(http.MethodGet, "/", "", "", nil, c)
	if b.status != http.StatusOK || !strings.Contains(b.body, `data-testid="current-user">admin<`) {
		t.Fatalf("GET / with the new session: %d", b.status)
	}
	// And /login now goes straight on.
	if r := e.do(http.MethodGet, "/login?next=/pool/list", "", "", nil, c); r.status != http.StatusSeeOther || r.header.Get("Location") != "/pool/list" {
		t.Errorf("GET /login with a session: %d to %q", r.status, r.header.Get("Location"))
	}
}

func TestLoginRefusals(t *testing.T) {
	t.Parallel()
	e := setup(t)
	tests := []struct {
		name       string
		user, pass string
		withToken  bool
		withCookie bool
		status     int
		message    string
	}{
		{"wrong password", "admin", "nope", true, true, http.StatusUnauthorized, "Invalid username or password."},
		{"unknown user", "ghost", password, true, true, http.StatusUnauthorized, "Invalid username or password."},
		{"empty password", "admin", "", true, true, http.StatusUnauthorized, "Invalid username or password."},
		{"no token", "admin", password, false, true, http.StatusForbidden, "expired"},
		{"no pre-session cookie", "admin", password, true, false, http.StatusForbidden, "expired"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			token, pre := e.loginForm("/")
			form := url.Values{"username": {tc.user}, "password": {tc.pass}, "next": {"/"}}
			if tc.withToken {
				form.Set("csrf_token", token)
			}
			var cookies []*http.Cookie
			if tc.withCookie {
				cookies = append(cookies, pre)
			}
			r := e.postForm("/login", "", form, cookies...)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d", r.status, tc.status)
			}
			if sessionCookie(r.header) != nil {
				t.Error("a refused login set a session cookie")
			}
			contains(t, r.body, `id="login-error"`, tc.message, `id="login-form"`)
		})
	}
}

func TestLoginNextIsLocal(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for next, want := range map[string]string{
		"/dags/etl/grid?x=1":     "/dags/etl/grid?x=1",
		"https://evil.example/":  "/",
		"//evil.example/":        "/",
		"/\\evil.example":        "/",
		"http:/evil.example":     "/",
		"javascript:alert(1)":    "/",
		"/ok\r\nSet-Cookie: x=y": "/",
		"":                       "/",
		"/logout":                "/",
	} {
		token, pre := e.loginForm(next)
		r := e.postForm("/login", "", url.Values{"username": {"viewer"}, "password": {password},
			"csrf_token": {token}, "next": {next}}, pre)
		if r.status != http.StatusSeeOther || r.header.Get("Location") != want {
			t.Errorf("next %q: %d to %q, want %q", next, r.status, r.header.Get("Location"), want)
		}
	}
	// The redirect to the login page keeps only a local next too.
	r := e.get("//evil.example/x", "")
	if loc := r.header.Get("Location"); r.status == http.StatusSeeOther && strings.Contains(loc, "evil") && !strings.HasPrefix(loc, "/login?next=%2F") {
		t.Errorf("GET //evil.example/x: redirected to %q", loc)
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := setup(t)
	c := e.session("viewer")
	r := e.postForm("/logout", "", url.Values{}, c)
	if r.status != http.StatusForbidden {
		t.Fatalf("logout without token: %d, want 403", r.status)
	}
	r = e.postForm("/logout", "", url.Values{"csrf_token": {"wrong"}}, c)
	if r.status != http.StatusForbidden {
		t.Fatalf("logout with a wrong token: %d, want 403", r.status)
	}
	r = e.postForm("/logout", "", url.Values{"csrf_token": {e.csrf(c)}}, c)
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("logout: %d to %q", r.status, r.header.Get("Location"))
	}
	if got := sessionCookie(r.header); got == nil || got.MaxAge >= 0 {
		t.Errorf("logout did not clear the session cookie: %+v", got)
	}
}

func TestAuthOff(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.API.AuthBackends = []string{auth.BackendDefault} })
	e.addDAG("etl", false)
	b := e.page("/", "", http.StatusOK)
	contains(t, b, "/dags/etl/grid", `data-testid="current-user">anonymous<`, `id="nav-admin"`)
	lacks(t, b, `id="logout"`)
	if r := e.get("/login", ""); r.status != http.StatusSeeOther {
		t.Errorf("GET /login with auth off: %d, want a redirect", r.status)
	}
}

func TestPauseThroughAPIWithSessionNeedsCSRF(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.addDAG("etl", true)
	c := e.session("admin")
	h := http.Header{"Content-Type": {"application/json"}}
	r := e.do(http.MethodPatch, "/api/v1/dags/etl?update_mask=is_paused", "", `{"is_paused": false}`, h, c)
	if r.status != http.StatusForbidden {
		t.Fatalf("PATCH without CSRF token: %d, want 403", r.status)
	}
	h.Set("X-CSRF-Token", e.csrf(c))
	r = e.do(http.MethodPatch, "/api/v1/dags/etl?update_mask=is_paused", "", `{"is_paused": false}`, h, c)
	if r.status != http.StatusOK {
		t.Fatalf("PATCH with CSRF token: %d %s", r.status, r.body)
	}
	d, err := e.st.DAGGet(e.ctx, "etl")
	if err != nil || d.IsPaused {
		t.Fatalf("DAG after unpause: %+v %v", d, err)
	}
}
