package api

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"
)

// Load shedding. Past a point, admitting more requests only makes every
// one slower: they share two CPUs and a few database connections. So at
// most inFlight requests run at once; as many more may wait up to
// admissionWait for a turn; the rest are answered 429 at once with
// Retry-After, which well-behaved clients (Airflow's client, the CLI)
// honour. A request's latency is then bounded by that wait plus the time
// its share of the machine takes, instead of growing with the backlog.

// admissionWait is how long a request may wait for a turn before it is
// refused: long enough to ride out a burst of requests of a few
// milliseconds each, short enough that a request's latency stays bounded
// when the server cannot keep up (the target is a p99 of 100 ms).
const admissionWait = 250 * time.Millisecond

// shedRetryAfter is the Retry-After, in seconds, of a 429.
const shedRetryAfter = 1

// admission hands out turns to run.
type admission struct {
	turns   chan struct{}
	waiting atomic.Int64
	maxWait int64
	// shed counts refusals, for tests and logs.
	shed atomic.Int64
}

func newAdmission(inFlight int) *admission {
	if inFlight <= 0 {
		inFlight = max(16, 8*runtime.GOMAXPROCS(0))
	}
	return &admission{turns: make(chan struct{}, inFlight), maxWait: int64(inFlight)}
}

// acquire returns true with a turn, which release gives back; false when
// the request is to be refused (too many waiting, no turn within
// admissionWait, or the client gone).
func (a *admission) acquire(ctx context.Context) bool {
	select {
	case a.turns <- struct{}{}:
		return true
	default:
	}
	if a.waiting.Add(1) > a.maxWait {
		a.waiting.Add(-1)
		return false
	}
	defer a.waiting.Add(-1)
	timer := time.NewTimer(admissionWait)
	defer timer.Stop()
	select {
	case a.turns <- struct{}{}:
		return true
	case <-timer.C:
		return false
	case <-ctx.Done():
		return false
	}
}

func (a *admission) release() { <-a.turns }

// isHealth reports whether a request is a health check: never shed nor
// bounded, since a probe that fails under load would get a busy server
// restarted.
func isHealth(r *http.Request) bool {
	return r.URL.Path == "/health" || r.URL.Path == apiPrefix+"/health"
}

// bounded admits requests through the admission control and runs each
// with a deadline of webserver.web_server_worker_timeout: the store
// queries a handler makes run under the request's context, so they stop
// at the deadline, and as soon as the client goes away.
func (s *Server) bounded(next http.Handler) http.Handler {
	adm := newAdmission(s.cfg.API.MaxConcurrentRequests)
	s.admission = adm
	timeout := s.cfg.Webserver.WebServerWorkerTimeout
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isHealth(r) {
			next.ServeHTTP(w, r)
			return
		}
		if !adm.acquire(r.Context()) {
			if r.Context().Err() != nil {
				return // the client is gone: nobody to answer
			}
			adm.shed.Add(1)
			w.Header().Set("Retry-After", strconv.Itoa(shedRetryAfter))
			s.writeProblem(w, r, http.StatusTooManyRequests, "The server is busy; retry after "+strconv.Itoa(shedRetryAfter)+" second")
			return
		}
		defer adm.release()
		ctx, cancel := context.WithTimeoutCause(r.Context(), timeout, errRequestTimeout)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// errRequestTimeout is the cause of a request's context ending at its
// deadline.
var errRequestTimeout = errors.New("the request took longer than webserver.web_server_worker_timeout")
