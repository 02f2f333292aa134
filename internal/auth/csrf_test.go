package auth

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestCSRFToken(t *testing.T) {
	t.Parallel()
	tok := CSRFToken("key", "session-value")
	if tok == "" || tok != CSRFToken("key", "session-value") {
		t.Fatalf("CSRFToken is not stable: %q", tok)
	}
	tests := []struct {
		name                string
		key, session, token string
		want                bool
	}{
		{"right", "key", "session-value", tok, true},
		{"other session", "key", "session-valuf", tok, false},
		{"other key", "key2", "session-value", tok, false},
		{"empty token", "key", "session-value", "", false},
		{"empty key", "", "session-value", CSRFToken("", "session-value"), false},
		{"empty session", "key", "", CSRFToken("key", ""), false},
		{"session MAC is not a CSRF token", "key", "session-value", string(sessionMAC("key", "session-value")), false},
	}
	for _, tc := range tests {
		if got := ValidCSRFToken(tc.key, tc.session, tc.token); got != tc.want {
			t.Errorf("%s: ValidCSRFToken = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestCheckCSRF(t *testing.T) {
	t.Parallel()
	cookie := &http.Cookie{Name: SessionCookieName, Value: "v1.sig"}
	tok := CSRFToken("key", cookie.Value)
	header := httptest.NewRequest(http.MethodPost, "/x", nil)
	header.AddCookie(cookie)
	header.Header.Set(CSRFHeader, tok)
	form := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(url.Values{CSRFField: {tok}}.Encode()))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	form.AddCookie(cookie)
	noCookie := httptest.NewRequest(http.MethodPost, "/x", nil)
	noCookie.Header.Set(CSRFHeader, tok)
	noToken := httptest.NewRequest(http.MethodPost, "/x", nil)
	noToken.AddCookie(cookie)
	for name, tc := range map[string]struct {
		r    *http.Request
		want bool
	}{
		"header": {header, true}, "form field": {form, true}, "no cookie": {noCookie, false}, "no token": {noToken, false},
	} {
		if got := CheckCSRF("key", SessionCookieName, tc.r); got != tc.want {
			t.Errorf("%s: CheckCSRF = %v, want %v", name, got, tc.want)
		}
	}
}
