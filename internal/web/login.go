package web

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/windsock"
)

// loginCookieName holds the random value the login form's CSRF token is
// derived from: there is no session yet to bind the token to.
const loginCookieName = "windsock_login"

// loginCookieTTL is how long a login form may stay open.
const loginCookieTTL = 2 * time.Hour

// authRoutes registers login and logout.
func (s *Server) authRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /login", s.loginForm)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.logout)
}

type loginData struct {
	Next      string
	Username  string
	Message   string
	FormToken string
}

// loginForm shows the login form, or goes straight to next when the
// request already has a session (or authentication is off).
func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	next := localNext(r.URL.Query().Get("next"))
	if u, err := s.authenticate(r); err == nil && u != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	s.renderLogin(w, r, http.StatusOK, loginData{Next: next})
}

// login checks the form's CSRF token and the credentials, then issues a
// session and redirects to next. Wrong credentials get the form again with
// one message for every cause, so that it does not tell which usernames
// exist.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if s.backends.Disabled {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.renderLogin(w, r, http.StatusBadRequest, loginData{Next: "/", Message: "The form could not be read; try again."})
		return
	}
	d := loginData{Next: localNext(r.PostForm.Get("next")), Username: r.PostForm.Get("username")}
	c, err := r.Cookie(loginCookieName)
	if err != nil || !auth.ValidCSRFToken(s.cfg.Webserver.SecretKey, "login:"+c.Value, r.PostForm.Get(auth.CSRFField)) {
		d.Message = "The login form has expired or was not sent from this site; please try again."
		s.renderLogin(w, r, http.StatusForbidden, d)
		return
	}
	password := r.PostForm.Get("password")
	var user *windsock.User
	if !s.backends.DenyAll && d.Username != "" && password != "" {
		user, err = s.authn.SignIn(r.Context(), d.Username, password, auth.ClientAddress(r))
		switch windsock.ErrorCode(err) {
		case "", windsock.EUNAUTH:
		case windsock.ETHROTTLED, windsock.EUNAVAILABLE:
			// Airflow's login form answers 429 once its rate limit is
			// reached; a server too busy to check answers 503.
			status := http.StatusTooManyRequests
			if windsock.ErrorCode(err) == windsock.EUNAVAILABLE {
				status = http.StatusServiceUnavailable
			}
			setRetryAfter(w, err)
			d.Message = windsock.ErrorMessage(err)
			s.renderLogin(w, r, status, d)
			return
		default:
			s.renderError(w, r, err)
			return
		}
	}
	if user == nil {
		d.Message = "Invalid username or password."
		s.renderLogin(w, r, http.StatusUnauthorized, d)
		return
	}
	session, err := s.authn.StartSession(r.Context(), user, r.TLS != nil)
	if err != nil {
		s.renderError(w, r, err)
		return
	}
	http.SetCookie(w, session)
	http.SetCookie(w, &http.Cookie{Name: loginCookieName, Value: "", Path: "/login", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	s.event(r, "login", user.Username)
	http.Redirect(w, r, d.Next, http.StatusSeeOther)
}

// logout ends the session (on every web server: its row goes) and clears
// the cookie; it needs the session's CSRF token so that another site
// cannot log a user out.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if s.backends.Disabled {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	if !auth.CheckCSRF(s.cfg.Webserver.SecretKey, s.authn.SessionCookie(), r) {
		s.renderError(w, r, windsock.Errorf(windsock.EFORBIDDEN, "The logout request did not carry this session's CSRF token"))
		return
	}
	if u, err := s.authenticate(r); err == nil && u != nil {
		s.event(r, "logout", u.Username)
	}
	if c, err := r.Cookie(s.authn.SessionCookie()); err == nil {
		if err := s.authn.EndSession(r.Context(), c.Value); err != nil {
			s.renderError(w, r, err)
			return
		}
	}
	s.clearSession(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// renderLogin renders the login form with a fresh pre-session CSRF token.
func (s *Server) renderLogin(w http.ResponseWriter, r *http.Request, status int, d loginData) {
	// Keep the value of a login cookie the browser already has: a second
	// render (another tab, or the browser's own /favicon.ico request being
	// sent to the login page) must not invalidate the form already shown.
	var v string
	if c, err := r.Cookie(loginCookieName); err == nil && validLoginCookie(c.Value) {
		v = c.Value
	} else {
		value := make([]byte, 32)
		_, _ = rand.Read(value) // crypto/rand.Read never fails (Go 1.24+)
		v = base64.RawURLEncoding.EncodeToString(value)
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookieName, Value: v, Path: "/login", MaxAge: int(loginCookieTTL / time.Second),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	d.FormToken = auth.CSRFToken(s.cfg.Webserver.SecretKey, "login:"+v)
	if err := s.render(w, r, status, "login", Page{Title: "Log in", Data: d}); err != nil {
		s.logger().Error("web: render login", "error", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// validLoginCookie reports whether v looks like a value renderLogin made:
// 32 random bytes, base64url without padding.
func validLoginCookie(v string) bool {
	b, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil && len(b) == 32
}

// setRetryAfter sets Retry-After when err asks the caller to wait.
func setRetryAfter(w http.ResponseWriter, err error) {
	if secs := windsock.RetryAfterSeconds(err); secs > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
}

// clearSession removes the session cookie.
func (s *Server) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: s.authn.SessionCookie(), Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
}

// event records a UI event (login, logout) in the event log; a failure is
// logged, the action has happened.
func (s *Server) event(r *http.Request, name, owner string) {
	e := &windsock.EventLog{Dttm: s.now().UTC(), Event: name, Owner: owner}
	if err := s.Store.EventLogInsert(r.Context(), e); err != nil {
		s.logger().Error("web: record event", "event", name, "error", err)
	}
}
