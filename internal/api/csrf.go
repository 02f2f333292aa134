package api

import (
	"net/http"

	"github.com/windsock/windsock/internal/auth"
)

// csrfRefused reports whether r must be refused for lack of a CSRF token:
// an unsafe method (POST, PUT, PATCH, DELETE) authenticated by the UI's
// session cookie must carry the session's token in X-CSRF-Token, since a
// browser sends the cookie along with requests another site makes. Basic
// and bearer credentials are never sent by a browser on their own, so
// requests carrying them are unaffected.
func (s *Server) csrfRefused(r *http.Request) bool {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	if s.backends.Disabled || r.Header.Get("Authorization") != "" {
		return false
	}
	c, err := r.Cookie(s.authn.SessionCookie())
	if err != nil || !s.backends.Session {
		return false
	}
	return !auth.ValidCSRFToken(s.cfg.Webserver.SecretKey, c.Value, r.Header.Get(auth.CSRFHeader))
}
