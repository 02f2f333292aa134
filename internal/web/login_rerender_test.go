package web

import (
	"net/http"
	"net/url"
	"testing"
)

// TestLoginFormSurvivesASecondRender is what a real browser does: it shows
// the login form, then asks for /favicon.ico (or the user opens a second
// tab) before submitting. Neither may invalidate the form already shown.
func TestLoginFormSurvivesASecondRender(t *testing.T) {
	t.Parallel()
	e := setup(t)
	token, pre := e.loginForm("/")

	if r := e.do(http.MethodGet, "/favicon.ico", "", "", nil, pre); r.status != http.StatusNoContent {
		t.Errorf("GET /favicon.ico: %d, want 204 (not a redirect to the login page)", r.status)
	}
	again := e.do(http.MethodGet, "/login", "", "", nil, pre)
	for _, c := range (&http.Response{Header: again.header}).Cookies() {
		if c.Name == loginCookieName && c.Value != pre.Value {
			t.Errorf("a second render replaced the login cookie")
		}
	}

	r := e.postForm("/login", "", url.Values{"username": {"admin"}, "password": {password},
		"csrf_token": {token}, "next": {"/"}}, pre)
	if r.status != http.StatusSeeOther {
		t.Fatalf("login with the first form's token: %d, want 303; body:\n%s", r.status, r.body)
	}

	// A made-up cookie value is not kept.
	bogus := &http.Cookie{Name: loginCookieName, Value: "short"}
	r = e.do(http.MethodGet, "/login", "", "", nil, bogus)
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == loginCookieName && c.Value == "short" {
			t.Errorf("renderLogin kept a malformed login cookie")
		}
	}
}
