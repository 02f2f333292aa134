package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// loadEnv is a real server over a SQLite database with many DAGs, runs and
// task instances, for the load test and benchmark.
type loadEnv struct {
	st    store.Store
	api   *Server
	srv   *httptest.Server
	dags  int
	runs  int // per DAG
	tasks int // per DAG
	// basic is the admin's Basic credentials; bearer an API token of the
	// admin.
	basic, bearer string
}

// newLoadEnv builds dags DAGs of tasks tasks with runs runs each (so
// dags*runs*tasks task instances, most finished) in a SQLite database
// under dir, through the store in large transactions, and serves it with
// cfg. hash is the admin's password hash.
func newLoadEnv(tb testing.TB, dir string, dags, runs, tasks int, cfg *config.Config, hash string) *loadEnv {
	tb.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "windsock.db"))
	if err != nil {
		tb.Fatal(err)
	}
	return newLoadEnvOn(tb, st, dags, runs, tasks, cfg, hash)
}

// newLoadEnvOn is newLoadEnv on an open, empty store, which it closes at
// the end.
func newLoadEnvOn(tb testing.TB, st store.Store, dags, runs, tasks int, cfg *config.Config, hash string) *loadEnv {
	tb.Helper()
	ctx := context.Background()
	tb.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := auth.EnsureBuiltinRoles(ctx, st); err != nil {
		tb.Fatal(err)
	}
	if err := st.UserCreate(ctx, &windsock.User{Username: "admin", FirstName: "A", LastName: "Dmin",
		Email: "admin@example.com", Password: hash, Active: true, Roles: []string{auth.RoleAdmin}}); err != nil {
		tb.Fatal(err)
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := range dags {
		dagID := fmt.Sprintf("dag_%04d", d)
		err := st.InTx(ctx, func(q store.Queries) error {
			if err := q.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: dagID, Fileloc: "/dags/" + dagID + ".yaml",
				MaxActiveTasks: 16, MaxActiveRuns: 16, LastParsedTime: start, Tags: []string{"load"}}); err != nil {
				return err
			}
			for r := range runs {
				logical := start.Add(time.Duration(r) * time.Hour)
				end := logical.Add(time.Minute)
				state := windsock.DagRunSuccess
				if r == runs-1 {
					state = windsock.DagRunRunning
				}
				run := &windsock.DagRun{DagID: dagID, RunID: windsock.RunID(windsock.RunTypeScheduled, logical),
					LogicalDate: logical, State: state, RunType: windsock.RunTypeScheduled, StartDate: &logical}
				tis := make([]*windsock.TaskInstance, tasks)
				for t := range tis {
					ti := &windsock.TaskInstance{
						TaskInstanceKey: windsock.TaskInstanceKey{DagID: dagID, TaskID: fmt.Sprintf("task_%02d", t), RunID: run.RunID, MapIndex: -1},
						MaxTries:        1, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default", PriorityWeight: tasks - t,
						Operator: "BashOperator", State: windsock.TaskStateSuccess, TryNumber: 1,
						StartDate: &logical, EndDate: &end, Hostname: "worker-1",
					}
					if state == windsock.DagRunRunning {
						ti.State, ti.TryNumber, ti.StartDate, ti.EndDate = windsock.TaskStateNone, 0, nil, nil
					}
					tis[t] = ti
				}
				if err := q.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	api := &Server{Store: st, Config: cfg, Version: "load"}
	srv := httptest.NewServer(api.Handler())
	tb.Cleanup(srv.Close)
	e := &loadEnv{st: st, api: api, srv: srv, dags: dags, runs: runs, tasks: tasks,
		basic: "Basic " + basicCredentials("admin", password)}
	// The token is made through the API, as a user would.
	req, _ := http.NewRequest("POST", srv.URL+"/api/v1/users/admin/tokens", strings.NewReader(`{"name": "load"}`))
	req.Header.Set("Authorization", e.basic)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct{ Token string }
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.Token == "" {
		tb.Fatalf("create token: %d, %v", resp.StatusCode, err)
	}
	e.bearer = "Bearer " + tok.Token
	return e
}

func basicCredentials(user, pw string) string {
	r, _ := http.NewRequest("GET", "/", nil)
	r.SetBasicAuth(user, pw)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

// loadRequest is one request of the mixed read load.
type loadRequest struct {
	method, path, body string
}

// mixedRequest returns the i-th request of the mixed read load: half of
// it the cross-DAG task-instance list (GET and the batch POST) at offsets
// up to the last page, the rest the other lists and single reads a UI or
// script makes.
func (e *loadEnv) mixedRequest(rng *rand.Rand) loadRequest {
	total := e.dags * e.runs * e.tasks
	dag := fmt.Sprintf("dag_%04d", rng.IntN(e.dags))
	run := windsock.RunID(windsock.RunTypeScheduled, time.Date(2024, 1, 1, rng.IntN(e.runs), 0, 0, 0, time.UTC))
	switch k := rng.IntN(20); {
	case k < 7:
		return loadRequest{"GET", fmt.Sprintf("/api/v1/dags/~/dagRuns/~/taskInstances?limit=100&offset=%d", rng.IntN(total)), ""}
	case k < 9:
		return loadRequest{"POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list",
			fmt.Sprintf(`{"page_limit": 100, "page_offset": %d}`, rng.IntN(total))}
	case k < 10:
		return loadRequest{"GET", "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100&state=none", ""}
	case k < 12:
		return loadRequest{"GET", fmt.Sprintf("/api/v1/dags/~/dagRuns?limit=100&offset=%d", rng.IntN(e.dags*e.runs)), ""}
	case k < 13:
		return loadRequest{"GET", fmt.Sprintf("/api/v1/eventLogs?limit=100&offset=%d", rng.IntN(50)), ""}
	case k < 15:
		return loadRequest{"GET", fmt.Sprintf("/api/v1/dags?limit=100&offset=%d", rng.IntN(e.dags)), ""}
	case k < 17:
		return loadRequest{"GET", "/api/v1/dags/" + dag + "/dagRuns?limit=25", ""}
	case k < 19:
		return loadRequest{"GET", "/api/v1/dags/" + dag + "/dagRuns/" + run + "/taskInstances", ""}
	default:
		return loadRequest{"GET", "/api/v1/dags/" + dag, ""}
	}
}

// loadResult is what a load run measured. Latencies count from the time
// a request was due, not from when it was sent: a client that falls
// behind schedule shows as latency (no coordinated omission).
type loadResult struct {
	latencies []time.Duration
	errors    atomic.Int64 // transport errors and statuses other than 200 and 429
	shed      atomic.Int64 // 429s
	firstErr  atomic.Pointer[string]
}

func (r *loadResult) quantile(q float64) time.Duration {
	if len(r.latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.latencies)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

// runOpenLoop sends rate requests a second for d, each at its scheduled
// time whatever the answers to earlier ones (an open loop), with the
// credentials auth, and waits for every answer.
func (e *loadEnv) runOpenLoop(ctx context.Context, rate int, d time.Duration, authz string, next func(*rand.Rand) loadRequest) *loadResult {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 0}, Timeout: time.Minute}
	defer client.CloseIdleConnections()
	res := &loadResult{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return res
			}
		}
		req := next(rng)
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, err := e.send(ctx, client, req, authz)
			lat := time.Since(due)
			mu.Lock()
			res.latencies = append(res.latencies, lat)
			mu.Unlock()
			switch {
			case err == nil && status == http.StatusOK:
			case err == nil && status == http.StatusTooManyRequests:
				res.shed.Add(1)
			default:
				res.errors.Add(1)
				msg := fmt.Sprintf("%s %s: status %d, %v", req.method, req.path, status, err)
				res.firstErr.CompareAndSwap(nil, &msg)
			}
		}()
	}
	wg.Wait()
	return res
}

// send sends lr with the credentials authz and returns the status and
// the body.
func (e *loadEnv) send(ctx context.Context, client *http.Client, lr loadRequest, authz string) (int, []byte, error) {
	var body io.Reader
	if lr.body != "" {
		body = strings.NewReader(lr.body)
	}
	req, err := http.NewRequestWithContext(ctx, lr.method, e.srv.URL+lr.path, body)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Authorization", authz)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, data, err
}

// TestLoadFixtureCosts prints what each request of the mixed load costs
// on its own, on the benchmark's database: a diagnostic, run with
// WINDSOCK_LOAD_COSTS=1 go test -run TestLoadFixtureCosts -v
// (WINDSOCK_LOAD_KEEP=dir keeps the SQLite database there;
// WINDSOCK_LOAD_POSTGRES_URL=postgres://... measures on PostgreSQL instead,
// in a schema of its own).
func TestLoadFixtureCosts(t *testing.T) {
	if os.Getenv("WINDSOCK_LOAD_COSTS") == "" {
		t.Skip("a diagnostic that builds a large database; set WINDSOCK_LOAD_COSTS=1")
	}
	t0 := time.Now()
	var e *loadEnv
	if u := os.Getenv("WINDSOCK_LOAD_POSTGRES_URL"); u != "" {
		// A fresh schema on that server, dropped at the end.
		st, err := postgres.Open(t.Context(), pgtest.SchemaURL(t, u))
		if err != nil {
			t.Fatal(err)
		}
		e = newLoadEnvOn(t, st, 500, 10, 10, config.Default(t.TempDir()), passwordHash())
	} else {
		dir := t.TempDir()
		if keep := os.Getenv("WINDSOCK_LOAD_KEEP"); keep != "" {
			dir = keep
		}
		e = newLoadEnv(t, dir, 500, 10, 10, config.Default(t.TempDir()), passwordHash())
	}
	t.Logf("built in %v", time.Since(t0))
	client := &http.Client{}
	for _, lr := range []loadRequest{
		{"GET", "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100", ""},
		{"GET", "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100&offset=49900", ""},
		{"POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", `{"page_limit": 100, "page_offset": 49900}`},
		{"GET", "/api/v1/dags/~/dagRuns/~/taskInstances?limit=100&state=success&offset=40000", ""},
		{"GET", "/api/v1/dags/~/dagRuns?limit=100&offset=4900", ""},
		{"GET", "/api/v1/eventLogs?limit=100", ""},
		{"GET", "/api/v1/dags?limit=100&offset=400", ""},
		{"GET", "/api/v1/dags/dag_0042/dagRuns?limit=25", ""},
		{"GET", "/api/v1/dags/dag_0042/dagRuns/scheduled__2024-01-01T05:00:00+00:00/taskInstances", ""},
		{"GET", "/api/v1/dags/dag_0042", ""},
	} {
		for _, authz := range []string{e.basic, e.bearer} {
			var best time.Duration
			for i := range 5 {
				t1 := time.Now()
				status, _, err := e.send(t.Context(), client, lr, authz)
				if err != nil || status != 200 {
					t.Fatalf("%s %s: %d %v", lr.method, lr.path, status, err)
				}
				if d := time.Since(t1); i == 1 || d < best {
					best = d
				}
			}
			t.Logf("%-6v %s %s (%s)", best.Round(10*time.Microsecond), lr.method, lr.path, strings.Fields(authz)[0])
		}
	}
}
