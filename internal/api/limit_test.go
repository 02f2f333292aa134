package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/config"
)

// TestShedding: with every turn taken and the waiting line full, a request
// is answered 429 with Retry-After at once; one that waits for a turn and
// gets none within the admission wait is 429 too; /health is answered
// whatever the load; a freed turn serves requests again.
func TestShedding(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.API.MaxConcurrentRequests = 1 })
	adm := e.api.admission
	if !adm.acquire(e.ctx) { // the one turn, held by "another request"
		t.Fatal("no turn on an idle server")
	}
	// The waiting line holds one request; it is refused after the wait.
	waited := make(chan response, 1)
	go func() { waited <- e.doRaw("GET", "/api/v1/dags", "admin", nil) }()
	// In line, or already refused after its wait on a very busy machine:
	// either way the next request finds no turn and is refused too.
	waitFor(t, func() bool { return adm.waiting.Load() == 1 || adm.shed.Load() == 1 })
	r := e.doRaw("GET", "/api/v1/dags", "admin", nil)
	e.problem(r, http.StatusTooManyRequests, "busy")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q", r.header.Get("Retry-After"))
	}
	e.ok(e.doRaw("GET", "/health", "", nil), http.StatusOK, nil)
	e.ok(e.doRaw("GET", "/api/v1/health", "", nil), http.StatusOK, nil)
	e.problem(<-waited, http.StatusTooManyRequests, "busy")

	adm.release()
	e.ok(e.doRaw("GET", "/api/v1/dags", "admin", nil), http.StatusOK, nil)
	if n := adm.shed.Load(); n != 2 {
		t.Errorf("shed %d requests, want 2", n)
	}
}

// TestRequestTimeout: a request still running at
// webserver.web_server_worker_timeout has its database work cancelled and
// is answered 503. A deadline of a nanosecond has passed before the first
// query, so every request meets it.
func TestRequestTimeout(t *testing.T) {
	t.Parallel()
	e := setup(t, func(c *config.Config) { c.Webserver.WebServerWorkerTimeout = time.Nanosecond })
	e.problem(e.doRaw("GET", "/api/v1/dags", "admin", nil), http.StatusServiceUnavailable, "web_server_worker_timeout")
	e.ok(e.doRaw("GET", "/health", "", nil), http.StatusOK, nil)
}

// waitFor polls cond until it holds (a condition, not a fixed sleep),
// failing after a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached within a minute")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestCrossDAGListUnderLoad: many clients at once paging deep into the
// cross-DAG task-instance list (GET and the batch POST) on a real server
// over 6,000 task instances. With 4 requests admitted at a time, every
// answer is a correct page or a 429, none an error or a timeout, and no
// request takes longer than a generous bound (the machine is shared and
// the race detector slows everything; without shedding, latency grows
// with the backlog instead). The clients start while every turn is held,
// so that shedding is certain rather than a matter of timing.
func TestCrossDAGListUnderLoad(t *testing.T) {
	t.Parallel()
	cfg := config.Default(t.TempDir())
	cfg.API.MaxConcurrentRequests = 4
	e := newLoadEnv(t, t.TempDir(), 60, 10, 10, cfg, passwordHash())
	total := e.dags * e.runs * e.tasks
	adm := e.api.admission
	for range cap(adm.turns) {
		adm.acquire(t.Context())
	}
	const clients, perClient = 32, 4
	const bound = 30 * time.Second
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 2 * time.Minute}
	var ok, shed atomic.Int64
	var mu sync.Mutex
	var failures []string
	var slowest time.Duration
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range perClient {
				offset := (c*perClient + i) * 97 % (total - 100)
				lr := loadRequest{"GET", fmt.Sprintf("/api/v1/dags/~/dagRuns/~/taskInstances?limit=100&offset=%d", offset), ""}
				if i%2 == 1 {
					lr = loadRequest{"POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list",
						fmt.Sprintf(`{"page_limit": 100, "page_offset": %d}`, offset)}
				}
				start := time.Now()
				status, body, err := e.send(t.Context(), client, lr, e.bearer)
				took := time.Since(start)
				mu.Lock()
				slowest = max(slowest, took)
				mu.Unlock()
				switch {
				case err == nil && status == http.StatusOK:
					var page struct {
						TaskInstances []json.RawMessage `json:"task_instances"`
						Total         int               `json:"total_entries"`
					}
					if err := json.Unmarshal(body, &page); err != nil || len(page.TaskInstances) != 100 || page.Total != total {
						mu.Lock()
						failures = append(failures, fmt.Sprintf("%s: %d rows, total %d, %v", lr.path, len(page.TaskInstances), page.Total, err))
						mu.Unlock()
					}
					ok.Add(1)
				case err == nil && status == http.StatusTooManyRequests:
					shed.Add(1)
				default:
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%s %s: %d %v %s", lr.method, lr.path, status, err, body))
					mu.Unlock()
				}
			}
		})
	}
	// Every turn is held: the waiting line fills and the rest are shed.
	waitFor(t, func() bool { return adm.shed.Load() > 0 })
	for range cap(adm.turns) {
		adm.release()
	}
	wg.Wait()
	if len(failures) > 0 {
		t.Fatalf("%d failed requests, e.g. %s", len(failures), failures[0])
	}
	if ok.Load() == 0 || shed.Load() == 0 {
		t.Fatalf("%d served, %d shed; want both", ok.Load(), shed.Load())
	}
	if slowest > bound {
		t.Fatalf("slowest request took %v, over %v", slowest, bound)
	}
	t.Logf("%d served, %d shed (429), slowest %v", ok.Load(), shed.Load(), slowest)
}
