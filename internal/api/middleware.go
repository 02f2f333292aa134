package api

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/windsock"
)

// handlerFunc is the shape of every endpoint: it writes a success answer
// itself and returns an error for anything else, which wrap turns into a
// problem+json answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// route is one endpoint of the API.
type route struct {
	// pattern is "METHOD /path" below /api/v1, in http.ServeMux syntax.
	pattern string
	// operation is Airflow's operationId; a state-changing request is
	// recorded in the event log as "api.<operation>".
	operation string
	access    access
	handle    handlerFunc
}

// access is who may call a route before its handler runs. Checks that
// depend on the request (per-DAG access, "your own tokens") are made in
// the handler, which then returns forbidden().
type access struct {
	// public routes need no credentials (wrong ones are still refused).
	public bool
	// action on resource is the global permission required; both empty:
	// any authenticated user.
	action, resource string
}

// public is access without credentials.
func public() access { return access{public: true} }

// authenticated is access for any authenticated user.
func authenticated() access { return access{} }

// need is access for users with the permission (action, resource).
func need(action, resource string) access { return access{action: action, resource: resource} }

// wrap runs a route: authentication, authorization, the handler, errors
// as problems, and the event log for state-changing requests.
func (s *Server) wrap(rt route) http.Handler {
	_, path := splitPattern(rt.pattern)
	names := pathNames(path)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, err := s.authenticate(r)
		switch {
		case err != nil && windsock.ErrorCode(err) != windsock.EUNAUTH:
			// Throttled (429), shed (503), or the store failed (500): not
			// a matter of wrong credentials.
			s.writeError(w, r, err)
			return
		case err != nil:
			s.unauthenticated(w, r, windsock.ErrorMessage(err))
			return
		case user == nil && !rt.access.public:
			s.unauthenticated(w, r, "No credentials were sent; use HTTP Basic, a bearer API token or a session")
			return
		case user != nil && s.csrfRefused(r):
			s.writeProblem(w, r, http.StatusForbidden, "The request was authenticated by a session cookie but did not carry the session's CSRF token in the X-CSRF-Token header")
			return
		case rt.access.action != "" && !s.authz.Can(r.Context(), user, rt.access.action, rt.access.resource):
			s.writeError(w, r, forbidden())
			return
		}
		if info, ok := r.Context().Value(requestInfoKey{}).(*requestInfo); ok && user != nil {
			info.user = user.Username
		}
		ctx := withUser(r.Context(), user)
		changes := changesState(r.Method, rt.operation)
		var body []byte
		if changes && r.Body != nil && r.Body != http.NoBody {
			if body, err = readBody(r); err != nil {
				s.writeError(w, r, err)
				return
			}
			ctx = context.WithValue(ctx, bodyKey{}, body)
		}
		r = r.WithContext(ctx)
		rec, _ := w.(*statusRecorder)
		if err := rt.handle(w, r); err != nil {
			if rec != nil && rec.status != 0 {
				// The handler had started answering: too late for a
				// problem body.
				s.logger().Error("api: handler failed after writing", "path", r.URL.Path, "error", err)
				return
			}
			s.writeError(w, r, err)
			return
		}
		if changes {
			s.audit(r, rt.operation, names, body, user)
		}
	})
}

// authenticate returns the request's user: the anonymous Admin when
// authentication is off, nil when the request carries no credentials.
func (s *Server) authenticate(r *http.Request) (*windsock.User, error) {
	if s.backends.Disabled {
		return anonymousAdmin(), nil
	}
	return s.authn.Authenticate(r)
}

// unauthenticated answers 401 with the challenge clients expect.
func (s *Server) unauthenticated(w http.ResponseWriter, r *http.Request, detail string) {
	if s.backends.Basic {
		w.Header().Set("WWW-Authenticate", `Basic realm="Windsock"`)
	} else {
		w.Header().Set("WWW-Authenticate", `Bearer realm="Windsock"`)
	}
	s.writeProblem(w, r, http.StatusUnauthorized, detail)
}

// changesState reports whether a request changes something and so goes
// to the event log: POST, PUT, PATCH and DELETE, except Airflow's batch
// reads (get_dag_runs_batch, get_task_instances_batch), which are POSTs.
func changesState(method, operation string) bool {
	switch method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return !strings.HasPrefix(operation, "get_")
	}
	return false
}

// audit records a state-changing request in the event log: event
// "api.<operation>", the user as owner, and as extra the path and the
// request's parameters (path, query and top-level body fields) with their
// secrets masked as task logs mask them (secrets.RedactAudit: sensitive
// names at any depth, a sensitive variable's value, secrets inside JSON
// text such as a connection's extra). The unmasked values are never
// written. A failure is logged: the change has been made.
func (s *Server) audit(r *http.Request, operation string, names []string, body []byte, user *windsock.User) {
	params := map[string]any{}
	for k, vs := range r.URL.Query() {
		if len(vs) == 1 {
			params[k] = vs[0]
		} else {
			params[k] = vs
		}
	}
	var fields map[string]any
	if json.Unmarshal(body, &fields) == nil {
		for k, v := range fields {
			params[k] = v
		}
	}
	e := &windsock.EventLog{Dttm: s.Clock().UTC(), Event: "api." + operation}
	for _, n := range names {
		v := r.PathValue(n)
		params[n] = v
		switch n {
		case "dag_id":
			e.DagID = v
		case "dag_run_id":
			e.RunID = v
		case "task_id":
			e.TaskID = v
		case "map_index":
			if i, err := strconv.Atoi(v); err == nil {
				e.MapIndex = &i
			}
		}
	}
	params = secrets.RedactAudit(params)
	if user != nil {
		e.Owner = user.Username
	}
	extra, err := json.Marshal(map[string]any{"method": r.Method, "path": r.URL.Path, "params": params})
	if err == nil {
		e.Extra = string(extra)
	}
	// The change is made: record it even if the client has gone or the
	// request's deadline has just passed.
	if err := s.Store.EventLogInsert(context.WithoutCancel(r.Context()), e); err != nil {
		s.logger().Error("api: record event", "event", e.Event, "error", err)
	}
}

// unrouted answers requests under /api/v1 that match no route: 405 with
// Allow when the path exists for other methods, 404 otherwise.
func (s *Server) unrouted(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
			probe := r.Clone(r.Context())
			probe.Method = m
			if _, pattern := mux.Handler(probe); pattern != "" && pattern != apiPrefix+"/" {
				allowed = append(allowed, m)
			}
		}
		if len(allowed) > 0 {
			s.writeError(w, r, &httpError{status: http.StatusMethodNotAllowed,
				detail: "The method is not allowed for the requested URL; allowed: " + strings.Join(allowed, ", "),
				header: http.Header{"Allow": {strings.Join(allowed, ", ")}}})
			return
		}
		s.writeProblem(w, r, http.StatusNotFound, "The requested URL was not found on the server")
	})
}

// splitPattern splits "GET /path" into its method and path.
func splitPattern(pattern string) (method, path string) {
	method, path, _ = strings.Cut(pattern, " ")
	return method, path
}

// pathNames returns the wildcard names of a ServeMux path pattern.
func pathNames(path string) []string {
	var names []string
	for _, seg := range strings.Split(path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name = strings.TrimSuffix(strings.TrimSuffix(name, "}"), "...")
			names = append(names, name)
		}
	}
	return names
}

type requestInfoKey struct{}

// requestInfo carries what the request log reports but only inner layers
// know.
type requestInfo struct{ user string }

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// logRequests logs every request with its status, duration and user;
// health checks at debug level, since probes call them constantly.
func (s *Server) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		info := &requestInfo{}
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), requestInfoKey{}, info)))
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		level := slog.LevelInfo
		if strings.HasSuffix(r.URL.Path, "/health") {
			level = slog.LevelDebug
		}
		s.logger().Log(r.Context(), level, "http request", "method", r.Method, "path", r.URL.Path,
			"status", status, "bytes", rec.bytes, "duration", time.Since(start), "user", info.user,
			"remote", r.RemoteAddr)
	})
}
