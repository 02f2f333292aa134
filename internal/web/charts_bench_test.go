package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// benchUI is a UI handler over a SQLite store and an Admin session, for
// benchmarks that call the handler directly (the figure is the server's
// own time).
type benchUI struct {
	b      *testing.B
	st     store.Store
	h      http.Handler
	cookie *http.Cookie
}

func newBenchUI(b *testing.B) *benchUI {
	b.Helper()
	ctx := b.Context()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "windsock.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := auth.EnsureBuiltinRoles(ctx, st); err != nil {
		b.Fatal(err)
	}
	admin := &windsock.User{Username: "admin", FirstName: "a", LastName: "b", Email: "a@example.com", Active: true, Roles: []string{auth.RoleAdmin}}
	if err := st.UserCreate(ctx, admin); err != nil {
		b.Fatal(err)
	}
	cfg := config.Default(b.TempDir())
	cfg.Webserver.SecretKey = "bench-secret"
	cookie, err := auth.CreateSession(ctx, st, cfg.Webserver.SecretKey, auth.NewAuthenticator(st, cfg, nil, nil).SessionCookie(), admin.ID, time.Now(), time.Hour, false)
	if err != nil {
		b.Fatal(err)
	}
	return &benchUI{b: b, st: st, h: (&Server{Store: st, Config: cfg}).Handler(), cookie: cookie}
}

// storeDAG stores a DAG of n tasks (a chain of groups of ten) with its
// definition.
func (u *benchUI) storeDAG(id string, n int) *windsock.DAG {
	u.b.Helper()
	d := &windsock.DAG{DagID: id, Fileloc: "/dags/" + id + ".yaml", Timezone: "UTC", MaxActiveRuns: 16, MaxActiveTasks: 16,
		Schedule: windsock.Schedule{Kind: windsock.ScheduleCron, Expr: "@hourly", Cron: "0 * * * *"}}
	for i := range n {
		var up []string
		if i > 0 {
			up = []string{fmt.Sprintf("task_%03d", i-1)}
		}
		d.Tasks = append(d.Tasks, dagTask(fmt.Sprintf("task_%03d", i), "", up...))
	}
	data, err := json.Marshal(d)
	if err != nil {
		u.b.Fatal(err)
	}
	ctx := u.b.Context()
	if err := u.st.DAGUpsert(ctx, &store.DAGUpsertParams{DagID: id, Fileloc: d.Fileloc, Owners: "airflow", ScheduleInterval: `"@hourly"`,
		MaxActiveTasks: 16, MaxActiveRuns: 16, LastParsedTime: time.Now()}); err != nil {
		u.b.Fatal(err)
	}
	if _, err := u.st.SerializedDAGUpsert(ctx, &windsock.SerializedDAG{DagID: id, Fileloc: d.Fileloc, FilelocHash: windsock.FilelocHash(d.Fileloc),
		Data: data, DagHash: "h", LastUpdated: time.Now()}); err != nil {
		u.b.Fatal(err)
	}
	return d
}

// addRuns stores runs of d at the given logical dates, every task
// finished (one in seven failed, one in five retried).
func (u *benchUI) addRuns(d *windsock.DAG, dates []time.Time, withTIs bool) []*windsock.DagRun {
	u.b.Helper()
	ctx := u.b.Context()
	var runs []*windsock.DagRun
	for start := 0; start < len(dates); start += 200 {
		err := u.st.InTx(ctx, func(q store.Queries) error {
			for k, ld := range dates[start:min(start+200, len(dates))] {
				i := start + k
				state := windsock.DagRunSuccess
				if i%7 == 3 {
					state = windsock.DagRunFailed
				}
				runStart, end := ld.Add(time.Hour), ld.Add(2*time.Hour)
				die := ld.Add(time.Hour)
				run := &windsock.DagRun{DagID: d.DagID, RunID: windsock.RunID(windsock.RunTypeScheduled, ld), LogicalDate: ld, State: state,
					RunType: windsock.RunTypeScheduled, StartDate: &runStart, EndDate: &end, DataIntervalStart: &ld, DataIntervalEnd: &die}
				var tis []*windsock.TaskInstance
				if withTIs {
					for j, t := range d.Tasks {
						q0 := runStart.Add(time.Duration(j) * 5 * time.Second)
						s0 := q0.Add(time.Second)
						e0 := s0.Add(time.Duration(3+(i*j)%40) * time.Second)
						dur := e0.Sub(s0).Seconds()
						ti := &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: d.DagID, TaskID: t.TaskID, RunID: run.RunID, MapIndex: -1},
							State: windsock.TaskStateSuccess, TryNumber: 1 + (j%5)/4, MaxTries: 2, StartDate: &s0, EndDate: &e0, Duration: &dur,
							QueuedDttm: &q0, Pool: windsock.DefaultPoolName, PoolSlots: 1, Queue: "default", PriorityWeight: 1, Operator: "BashOperator"}
						if (i+j)%7 == 0 {
							ti.State = windsock.TaskStateFailed
						}
						tis = append(tis, ti)
					}
				}
				if err := q.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
					return err
				}
				runs = append(runs, run)
			}
			return nil
		})
		if err != nil {
			u.b.Fatal(err)
		}
	}
	return runs
}

// serve benchmarks GET path, reports the page size and the process's
// CPU time per request ("cpu-ms/op"): on a machine shared with other
// work, wall time (ns/op) measures the load more than the page. It
// returns the page's size in bytes.
func (u *benchUI) serve(path string) int {
	b := u.b
	size := 0
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		req := httptest.NewRequestWithContext(b.Context(), http.MethodGet, path, nil)
		req.AddCookie(u.cookie)
		rec := httptest.NewRecorder()
		u.h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: status %d: %.500s", path, rec.Code, rec.Body)
		}
		size = rec.Body.Len()
	}
	b.ReportMetric(float64(processCPU()-cpu0)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	b.ReportMetric(float64(size)/1024, "KiB/page")
	return size
}

// processCPU is the CPU time (user and system) the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// setup25x500 stores a 500-task DAG with 25 hourly runs, every task
// finished, one in five with a failed first try recorded.
func setup25x500(b *testing.B) (*benchUI, []*windsock.DagRun) {
	u := newBenchUI(b)
	d := u.storeDAG("big", 500)
	var dates []time.Time
	for i := range 25 {
		dates = append(dates, time.Date(2024, 3, 1, i, 0, 0, 0, time.UTC))
	}
	runs := u.addRuns(d, dates, true)
	last := runs[len(runs)-1]
	for j, t := range d.Tasks {
		if (j%5)/4 == 0 {
			continue
		}
		at := last.StartDate.Add(time.Duration(j) * 5 * time.Second)
		end, sec := at.Add(time.Second), 1
		if err := u.st.TaskFailInsert(b.Context(), &windsock.TaskFail{DagID: "big", TaskID: t.TaskID, RunID: last.RunID, MapIndex: -1,
			StartDate: &at, EndDate: &end, Duration: &sec}); err != nil {
			b.Fatal(err)
		}
	}
	return u, runs
}

// BenchmarkGanttPage25x500 is the Gantt of the newest of 25 runs of a
// 500-task DAG (100 tasks retried once). Target: under 100 ms.
func BenchmarkGanttPage25x500(b *testing.B) {
	u, runs := setup25x500(b)
	u.serve("/dags/big/gantt?run_id=" + url.QueryEscape(runs[len(runs)-1].RunID))
}

// BenchmarkDurationPage25x500 is the task duration chart over 25 runs of
// a 500-task DAG (12,500 points). Target: under 100 ms.
func BenchmarkDurationPage25x500(b *testing.B) {
	u, _ := setup25x500(b)
	u.serve("/dags/big/duration?num_runs=25")
}

// BenchmarkTriesPage25x500 is the tries chart of the same.
func BenchmarkTriesPage25x500(b *testing.B) {
	u, _ := setup25x500(b)
	u.serve("/dags/big/tries?num_runs=25")
}

// BenchmarkLandingTimesPage25x500 is the landing times chart of the same.
func BenchmarkLandingTimesPage25x500(b *testing.B) {
	u, _ := setup25x500(b)
	u.serve("/dags/big/landing-times?num_runs=25")
}

// BenchmarkGridPage25x500 is the whole grid page (store reads, grid,
// layout) of 25 runs of a 500-task DAG.
func BenchmarkGridPage25x500(b *testing.B) {
	u, _ := setup25x500(b)
	u.serve("/dags/big/grid?num_runs=25")
}

// BenchmarkCalendarPage365x24 is the calendar of a DAG with 24 runs a day
// for a year (8,760 runs). Target: under 100 ms.
func BenchmarkCalendarPage365x24(b *testing.B) {
	u := newBenchUI(b)
	d := u.storeDAG("hourly", 3)
	var dates []time.Time
	for h := range 365 * 24 {
		dates = append(dates, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(h)*time.Hour))
	}
	u.addRuns(d, dates, false)
	u.serve("/dags/hourly/calendar")
}
