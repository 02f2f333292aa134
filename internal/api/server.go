// Package api serves Windsock's HTTP interface: /health and the Airflow
// REST API v1 under /api/v1, with Airflow's paths, fields, status codes
// and RFC 7807 errors, authentication (Basic, API tokens, session cookies)
// and Airflow's role-based authorization.
//
// Handlers have the shape func(w, r) error and are listed in routes.go with
// the permission they need; wrap authenticates, authorizes, records
// state-changing requests in the event log and turns a returned error into
// a problem+json answer through the one table in errors.go.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/logstore"
	"github.com/windsock/windsock/internal/metrics"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// RunNotifier is what the API tells a scheduler in the same process.
type RunNotifier interface {
	RunChanged(dagID, runID string)
}

// runChanged tells the in-process scheduler, if any, about a changed run.
func (s *Server) runChanged(dagID, runID string) {
	if s.Runs != nil {
		s.Runs.RunChanged(dagID, runID)
	}
}

// apiPrefix is where the Airflow REST API v1 is served.
const apiPrefix = "/api/v1"

// Server is the HTTP handler of one environment. Set the fields, then call
// Handler once.
type Server struct {
	Store store.Store
	// Config supplies api.* and webserver.* settings; nil means defaults.
	Config  *config.Config
	Version string
	// HealthThreshold is scheduler.scheduler_health_check_threshold: a
	// component whose heartbeat is older is unhealthy.
	HealthThreshold time.Duration
	Logger          *slog.Logger
	Clock           func() time.Time
	// Variables and Connections read and write secrets (decrypted,
	// encrypted at rest).
	Variables   *secrets.Variables
	Connections *secrets.Connections
	// LogFolder is logging.base_log_folder, where task logs are read.
	LogFolder string
	// RemoteLogs is where finished logs are copied (logging.remote_logging);
	// nil when remote logging is off. Logs found neither in LogFolder nor
	// here are fetched from the log server of the worker that ran the try,
	// on logging.worker_log_server_port with webserver.secret_key.
	RemoteLogs logstore.Store
	// Authenticator checks credentials and keeps sessions; nil means one
	// made from Config. Give the UI server the same one, so that login
	// throttling and the bound on password checks are shared.
	Authenticator *auth.Authenticator
	// Authorizer answers permission checks; nil means one of its own.
	// Give the UI server the same one, so that a role changed through
	// one half shows at once in the other (not after the cache's TTL).
	Authorizer *auth.Authorizer
	// Runs is told when a request changes a run (trigger, clear, mark), so
	// an in-process scheduler acts at once; nil when none runs here (the
	// scheduler's periodic pass picks the change up).
	Runs RunNotifier
	// Metrics serves /metrics: the metrics of the process (its event
	// counters and the environment's gauges). nil serves the
	// environment's gauges alone, read from Store.
	Metrics http.Handler

	cfg        *config.Config
	backends   auth.Backends
	authn      *auth.Authenticator
	authz      *auth.Authorizer
	gitVersion *string
	admission  *admission
}

// Handler returns the routes: /health and /api/v1/..., with request
// logging, load shedding and a deadline per request (see bounded).
func (s *Server) Handler() http.Handler {
	if s.Clock == nil {
		s.Clock = time.Now
	}
	if s.Config == nil {
		s.cfg = config.Default("")
	} else {
		s.cfg = s.Config.WithDefaults()
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
	s.gitVersion = gitVersion()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", s.health)
	// Prometheus metrics, public as /health is (scrapers carry no
	// session); they name DAGs and pools, never their contents.
	mux.Handle("GET /metrics", s.metricsHandler())
	// The routes of one mapped task instance (.../{task_id}/{map_index}/...)
	// overlap those with a literal third segment (.../{task_id}/tries/{n}):
	// ServeMux refuses such pairs, so they get a mux of their own, tried
	// when the main one has no route for a path.
	mapped := http.NewServeMux()
	for _, rt := range s.routes() {
		method, path := splitPattern(rt.pattern)
		if strings.Contains(path, "/{map_index}") {
			mapped.Handle(method+" "+apiPrefix+path, s.wrap(rt))
			continue
		}
		mux.Handle(method+" "+apiPrefix+path, s.wrap(rt))
	}
	unrouted := s.unrouted(mux)
	mux.Handle(apiPrefix+"/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := mapped.Handler(r); pattern != "" {
			mapped.ServeHTTP(w, r) // sets the path values
			return
		}
		unrouted.ServeHTTP(w, r)
	}))
	return s.logRequests(s.bounded(mux))
}

// StartupWarning is what a server should log at start: a warning when
// api.auth_backends turns authentication off, "" otherwise.
func StartupWarning(cfg *config.Config) string {
	if cfg == nil {
		return ""
	}
	return auth.StartupWarning(cfg.API.AuthBackends)
}

// anonymousAdmin is who every request acts as when authentication is off
// (Airflow's airflow.api.auth.backend.default).
func anonymousAdmin() *windsock.User {
	return &windsock.User{Username: "anonymous", Active: true, Roles: []string{auth.RoleAdmin}}
}

type userKey struct{}

// userFrom returns the authenticated user of a request; nil on public
// routes called without credentials.
func userFrom(r *http.Request) *windsock.User {
	u, _ := r.Context().Value(userKey{}).(*windsock.User)
	return u
}

func withUser(ctx context.Context, u *windsock.User) context.Context {
	return context.WithValue(ctx, userKey{}, u)
}

func forbidden() error {
	return windsock.Errorf(windsock.EFORBIDDEN, "You do not have the permission to perform this action")
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

// gitVersion returns the VCS revision the binary was built from, nil when
// unknown (Airflow's git_version is nullable).
func gitVersion() *string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	rev, dirty := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return nil
	}
	if dirty {
		rev += ".dirty"
	}
	return &rev
}

// metricsHandler is Metrics, or the environment's gauges alone.
func (s *Server) metricsHandler() http.Handler {
	if s.Metrics != nil {
		return s.Metrics
	}
	m := metrics.New()
	_ = m.Register(&metrics.Environment{Store: s.Store, Parallelism: s.cfg.Core.Parallelism, Logger: s.logger()})
	return m.Handler()
}
