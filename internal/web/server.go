// Package web serves Windsock's browser UI: server-rendered pages (Go
// html/template) with one CSS file and a little vanilla JavaScript, all
// embedded in the binary. Pages only read; every change a user makes is a
// fetch() to the REST API under /api/v1 (session cookie plus the
// X-CSRF-Token header), so permissions, validation and the event log are
// the API's own.
package web

import (
	"context"
	"embed"
	"github.com/windsock/windsock/internal/operator"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

//go:embed all:templates assets
var files embed.FS

// Defaults of a Server.
const (
	// DefaultPageSize is how many rows a list page shows.
	DefaultPageSize = 25
)

// Server is the UI of one environment. Set the fields, then call Handler
// once.
type Server struct {
	Store store.Store
	// Config supplies webserver.* and api.auth_backends; nil means
	// defaults.
	Config      *config.Config
	Variables   *secrets.Variables
	Connections *secrets.Connections
	// LogFolder is logging.base_log_folder, where task logs are read.
	LogFolder string
	Clock     func() time.Time
	Logger    *slog.Logger
	Version   string
	// PageSize is the rows per list page; 0 means DefaultPageSize.
	PageSize int
	// Authenticator checks credentials and keeps sessions; nil means one
	// made from Config. Give the API server the same one, so that login
	// throttling and the bound on password checks are shared.
	Authenticator *auth.Authenticator
	// Authorizer answers permission checks; nil means one of its own.
	// Give the API server the same one, so that a role changed through
	// one half shows at once in the other (not after the cache's TTL).
	Authorizer *auth.Authorizer
	// AirflowCLI runs the commands of MWAA's /aws_mwaa/cli route; nil
	// means running this binary with the command's arguments.
	AirflowCLI AirflowCLIFunc

	cfg      *config.Config
	backends auth.Backends
	authn    *auth.Authenticator
	authz    *auth.Authorizer
	// operators tells which task arguments are templated.
	operators *operator.Catalog
	pages     *pageSet
	assets    map[string]*asset
}

// Handler returns the UI's routes: pages at "/..." and assets at
// "/static/". Templates are parsed here, once.
func (s *Server) Handler() http.Handler {
	if s.Clock == nil {
		s.Clock = time.Now
	}
	if s.Config == nil {
		s.cfg = config.Default("")
	} else {
		s.cfg = s.Config.WithDefaults()
	}
	if s.PageSize <= 0 {
		s.PageSize = DefaultPageSize
	}
	s.backends = auth.ParseBackends(s.cfg.API.AuthBackends)
	s.authn = s.Authenticator
	if s.authn == nil {
		s.authn = auth.NewAuthenticator(s.Store, s.cfg, s.Clock, s.logger())
	}
	s.authz = s.Authorizer
	if s.authz == nil {
		s.authz = &auth.Authorizer{Store: s.Store, Clock: s.Clock, Logger: s.logger()}
	}
	s.operators = operator.Builtins()
	assets, err := loadAssets(files)
	if err != nil {
		panic("web: read assets: " + err.Error())
	}
	s.assets = assets
	pages, err := parsePages(files, assets)
	if err != nil {
		// The templates are embedded: a parse error is a build defect,
		// which every test run would show.
		panic("web: parse templates: " + err.Error())
	}
	s.pages = pages

	mux := http.NewServeMux()
	mux.Handle("GET /static/", s.static())
	s.authRoutes(mux)
	s.mwaaRoutes(mux)
	s.shellRoutes(mux)
	s.dagRoutes(mux)
	s.chartRoutes(mux)
	mux.Handle("/", s.page(func(w http.ResponseWriter, r *http.Request) error {
		return windsock.Errorf(windsock.ENOTFOUND, "The page %s does not exist", r.URL.Path)
	}))
	return securityHeaders(mux)
}

// Mux sends /api/ and /health to api and everything else to web.
func Mux(api, web http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/health", api)
	mux.Handle("/metrics", api)
	mux.Handle("/", web)
	return mux
}

// securityHeaders sets the headers every UI answer carries: no framing
// (clickjacking), no MIME sniffing, no referrer leaking paths elsewhere,
// and a content security policy that allows only our own scripts and
// styles.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
			"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		next.ServeHTTP(w, r)
	})
}

// pageFunc is the shape of a page handler: it renders on success and
// returns an error otherwise, which page turns into an error page through
// the application error code (ENOTFOUND 404, EFORBIDDEN 403, EINVALID 400,
// anything else 500 "internal error", logged).
type pageFunc func(w http.ResponseWriter, r *http.Request) error

type userKey struct{}

// currentUser returns the user a page request acts for. Inside a handler
// wrapped by page it is never nil.
func currentUser(r *http.Request) *windsock.User {
	u, _ := r.Context().Value(userKey{}).(*windsock.User)
	return u
}

// page wraps a page handler: it authenticates the request (redirecting to
// /login?next=... when there is no valid session), puts the user in the
// context and renders returned errors as error pages.
func (s *Server) page(h pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := s.authenticate(r)
		if err != nil && windsock.ErrorCode(err) != windsock.EUNAUTH {
			s.renderError(w, r, err)
			return
		}
		if user == nil {
			if err != nil {
				s.clearSession(w, r) // a stale or forged cookie
			}
			http.Redirect(w, r, "/login?next="+url.QueryEscape(localNext(r.URL.RequestURI())), http.StatusSeeOther)
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), userKey{}, user))
		if err := h(w, r); err != nil {
			s.renderError(w, r, err)
		}
	})
}

// authenticate returns who a page request acts for: the anonymous Admin
// when authentication is off (as the API does), else the user of the
// session cookie (or of Basic/token credentials), nil when there is none.
func (s *Server) authenticate(r *http.Request) (*windsock.User, error) {
	if s.backends.Disabled {
		return anonymousAdmin(), nil
	}
	if s.backends.DenyAll {
		return nil, nil
	}
	if r.Header.Get("Authorization") == "" {
		c, err := r.Cookie(s.authn.SessionCookie())
		if err != nil {
			return nil, nil
		}
		// Pages accept the session cookie even when api.auth_backends
		// leaves the session backend out: logging in to the UI is what
		// the cookie is for.
		return s.authn.Session(r.Context(), c.Value)
	}
	return s.authn.Authenticate(r)
}

// anonymousAdmin is who every request acts as when authentication is off.
func anonymousAdmin() *windsock.User {
	return &windsock.User{Username: "anonymous", FirstName: "Anonymous", Active: true, Roles: []string{auth.RoleAdmin}}
}

// can reports whether the request's user has action on resource.
func (s *Server) can(r *http.Request, action, resource string) bool {
	return s.authz.Can(r.Context(), currentUser(r), action, resource)
}

// canDAG reports whether the request's user may do action (can_read,
// can_edit, can_delete) on the DAG dagID.
func (s *Server) canDAG(r *http.Request, action, dagID string) bool {
	return s.authz.CanDAG(r.Context(), currentUser(r), action, dagID)
}

// canDAGEntity reports whether the request's user may do action on
// resource ("DAG Runs", "Task Instances", ...) of the DAG dagID.
func (s *Server) canDAGEntity(r *http.Request, action, resource, dagID string) bool {
	return s.authz.CanDAGEntity(r.Context(), currentUser(r), action, resource, dagID)
}

// require returns an EFORBIDDEN error unless the request's user has
// action on resource.
func (s *Server) require(r *http.Request, action, resource string) error {
	if !s.can(r, action, resource) {
		return forbidden()
	}
	return nil
}

func forbidden() error {
	return windsock.Errorf(windsock.EFORBIDDEN, "You do not have the permission to see this page")
}

// csrfToken returns the CSRF token of the request's session, "" when the
// request has no session cookie (authentication off): then there is
// nothing a forged request could ride on.
func (s *Server) csrfToken(r *http.Request) string {
	c, err := r.Cookie(s.authn.SessionCookie())
	if err != nil || s.backends.Disabled {
		return ""
	}
	return auth.CSRFToken(s.cfg.Webserver.SecretKey, c.Value)
}

func (s *Server) now() time.Time { return s.Clock() }

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// localNext returns next when it is a path on this site, "/" otherwise,
// so that /login?next= cannot send a user elsewhere: it must start with a
// single "/" (not "//host" or "/\host", which browsers read as another
// site) and hold no control characters.
func localNext(next string) string {
	if next == "" || next[0] != '/' || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	for _, c := range next {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "/"
		}
	}
	if strings.HasPrefix(next, "/login") || strings.HasPrefix(next, "/logout") {
		return "/"
	}
	return next
}
