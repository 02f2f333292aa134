package api

import (
	"net/http"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/auth"
)

func TestCSRFOnSessionRequests(t *testing.T) {
	t.Parallel()
	e := setup(t)
	admin, err := e.st.UserGet(e.ctx, "admin")
	if err != nil {
		t.Fatal(err)
	}
	cookie, err := auth.CreateSession(e.ctx, e.st, e.cfg.Webserver.SecretKey, auth.NewAuthenticator(e.st, e.cfg, nil, nil).SessionCookie(), admin.ID, time.Now(), time.Hour, false)
	if err != nil {
		t.Fatal(err)
	}
	token := auth.CSRFToken(e.cfg.Webserver.SecretKey, cookie.Value)
	pool := func(name string) map[string]any { return map[string]any{"name": name, "slots": 2} }
	withSession := func(csrf string) func(*http.Request) {
		return func(r *http.Request) {
			r.AddCookie(cookie)
			if csrf != "" {
				r.Header.Set("X-CSRF-Token", csrf)
			}
		}
	}

	e.problem(e.doWith("POST", "/api/v1/pools", pool("a"), withSession("")), http.StatusForbidden, "CSRF")
	e.problem(e.doWith("POST", "/api/v1/pools", pool("a"), withSession("not-the-token")), http.StatusForbidden, "CSRF")
	// Another session's token does not fit this one.
	other := auth.CSRFToken(e.cfg.Webserver.SecretKey, cookie.Value+"x")
	e.problem(e.doWith("POST", "/api/v1/pools", pool("a"), withSession(other)), http.StatusForbidden, "CSRF")
	if _, err := e.st.PoolGet(e.ctx, "a"); err == nil {
		t.Fatal("a refused request created the pool")
	}
	e.problem(e.doWith("DELETE", "/api/v1/pools/default_pool", nil, withSession("")), http.StatusForbidden, "CSRF")

	e.ok(e.doWith("POST", "/api/v1/pools", pool("b"), withSession(token)), http.StatusOK, nil)
	// Reads need no token.
	e.ok(e.doWith("GET", "/api/v1/pools/b", nil, withSession("")), http.StatusOK, nil)
	// Basic credentials need none, even with a cookie beside them.
	e.ok(e.doWith("POST", "/api/v1/pools", pool("c"), func(r *http.Request) {
		r.SetBasicAuth("admin", password)
		r.AddCookie(cookie)
	}), http.StatusOK, nil)
}
