package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// BenchmarkListTaskInstances1000 lists the task instances of a 1,000-task
// run in one page (the target: under 50 ms a request).
func BenchmarkListTaskInstances1000(b *testing.B) {
	ctx := b.Context()
	st := benchStore(b)
	d := &windsock.DAG{DagID: "wide", Schedule: windsock.Schedule{Kind: windsock.ScheduleNone}, Timezone: "UTC",
		MaxActiveRuns: 1, MaxActiveTasks: 16}
	for i := range 1000 {
		d.Tasks = append(d.Tasks, task(fmt.Sprintf("t%04d", i)))
	}
	run, err := scheduler.CreateRun(ctx, st, d, decide.NewGraph(d), scheduler.NewRun{LogicalDate: runsDay, Now: time.Now()})
	if err != nil {
		b.Fatal(err)
	}
	// Half of them ran: they have dates, a host and rendered fields.
	tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: "wide", RunID: run.RunID})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	for _, ti := range tis[:500] {
		ti.State, ti.TryNumber, ti.StartDate, ti.EndDate, ti.Hostname = windsock.TaskStateSuccess, 1, &now, &now, "worker"
		if _, err := st.TaskInstanceUpdate(ctx, ti); err != nil {
			b.Fatal(err)
		}
		if err := st.RenderedFieldsSet(ctx, ti.TaskInstanceKey, []byte(`{"bash_command":"echo `+ti.TaskID+`"}`)); err != nil {
			b.Fatal(err)
		}
	}
	cfg := config.Default(b.TempDir())
	cfg.API.MaximumPageLimit = 1000
	srv := httptest.NewServer((&Server{Store: st, Config: cfg, Version: "1"}).Handler())
	defer srv.Close()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/v1/dags/wide/dagRuns/"+run.RunID+"/taskInstances?limit=1000", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.SetBasicAuth("admin", password)
	get := func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			TaskInstances []json.RawMessage `json:"task_instances"`
			Total         int               `json:"total_entries"`
		}
		if resp.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(resp.Body)
			b.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.TaskInstances) != 1000 || out.Total != 1000 {
			b.Fatalf("got %d task instances (total %d), %v", len(out.TaskInstances), out.Total, err)
		}
	}
	get() // pays bcrypt once
	b.ResetTimer()
	for b.Loop() {
		get()
	}
}
