package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/windsock/windsock/internal/store"

	"github.com/windsock/windsock/internal/windsock"
)

// problemTypeBase is where Airflow 2.10's problem types point: its REST API
// reference, one section per kind of error.
const problemTypeBase = "https://airflow.apache.org/docs/apache-airflow/2.10.0/stable-rest-api-ref.html#section/Errors/"

// unavailableRetryAfter is the Retry-After, in seconds, of a 503 for an
// unavailable database: long enough not to hammer it, short enough that a
// mended disk is noticed soon.
const unavailableRetryAfter = 10

// problemContentType is the media type of RFC 7807 error bodies.
const problemContentType = "application/problem+json"

// Problem is an RFC 7807 error body, as Airflow's API sends it.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// httpError is a failure that has no application code but an HTTP status
// of its own (405, 413, 406), with the headers that go with it.
type httpError struct {
	status int
	detail string
	header http.Header
}

func (e *httpError) Error() string { return e.detail }

// statusOf is the one table from application error codes to HTTP
// statuses. Codes it does not know, and errors without a code, are 500.
func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	if errors.Is(err, store.ErrUnavailable) {
		// The database is full, read-only or unreachable: the request may
		// well succeed later, unlike a 500's.
		return http.StatusServiceUnavailable
	}
	switch windsock.ErrorCode(err) {
	case windsock.EINVALID:
		return http.StatusBadRequest
	case windsock.EUNAUTH:
		return http.StatusUnauthorized
	case windsock.EFORBIDDEN:
		return http.StatusForbidden
	case windsock.ENOTFOUND:
		return http.StatusNotFound
	case windsock.ECONFLICT:
		return http.StatusConflict
	case windsock.ETHROTTLED:
		return http.StatusTooManyRequests
	case windsock.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// problemKind returns Airflow's problem type and title for a status.
// Statuses Airflow gives no type (413, 406) use "about:blank", RFC 7807's
// default.
func problemKind(status int) (typ, title string) {
	switch status {
	case http.StatusBadRequest:
		return problemTypeBase + "BadRequest", "Bad Request"
	case http.StatusUnauthorized:
		return problemTypeBase + "Unauthenticated", "Unauthorized"
	case http.StatusForbidden:
		return problemTypeBase + "PermissionDenied", "Forbidden"
	case http.StatusNotFound:
		return problemTypeBase + "NotFound", "Not Found"
	case http.StatusMethodNotAllowed:
		return problemTypeBase + "MethodNotAllowed", "Method Not Allowed"
	case http.StatusConflict:
		return problemTypeBase + "AlreadyExists", "Conflict"
	case http.StatusInternalServerError:
		return problemTypeBase + "Unknown", "Internal Server Error"
	}
	return "about:blank", http.StatusText(status)
}

// writeError answers with the problem for err. Errors without an
// application code are logged in full and shown as "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	// Whatever a driver makes of a cancelled statement, a request whose
	// context ended failed because of that.
	switch ctxErr := r.Context().Err(); {
	case errors.Is(ctxErr, context.Canceled):
		s.logger().Debug("api: client went away", "method", r.Method, "path", r.URL.Path, "error", err)
		return // nobody is there to read an answer
	case errors.Is(ctxErr, context.DeadlineExceeded):
		err = &httpError{status: http.StatusServiceUnavailable,
			detail: fmt.Sprintf("The request took longer than %s (webserver.web_server_worker_timeout) and was stopped", s.cfg.Webserver.WebServerWorkerTimeout),
			header: http.Header{"Retry-After": {strconv.Itoa(unavailableRetryAfter)}}}
		s.logger().Warn("api: request timed out", "method", r.Method, "path", r.URL.Path)
	}
	status := statusOf(err)
	detail := windsock.ErrorMessage(err)
	var he *httpError
	if errors.As(err, &he) {
		detail = he.detail
		for k, vs := range he.header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
	}
	if secs := windsock.RetryAfterSeconds(err); secs > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	switch status {
	case http.StatusInternalServerError:
		s.logger().Error("api: request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	case http.StatusServiceUnavailable:
		if errors.Is(err, store.ErrUnavailable) {
			s.logger().Error("api: metadata database unavailable", "method", r.Method, "path", r.URL.Path, "error", err)
			detail = "The metadata database cannot serve the request now (full, read-only or unreachable); try again later"
			w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
		}
	}
	s.writeProblem(w, r, status, detail)
}

func (s *Server) writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	typ, title := problemKind(status)
	p := Problem{Type: typ, Title: title, Status: status, Detail: detail, Instance: r.URL.Path}
	if err := writeJSONAs(w, problemContentType, status, p); err != nil {
		s.logger().Warn("api: write error response", "error", err)
	}
}
