package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

func TestHealth(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "windsock.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	srv := httptest.NewServer((&Server{
		Store: st, Version: "9.9.9", HealthThreshold: 30 * time.Second,
		Clock: func() time.Time { return now },
	}).Handler())
	defer srv.Close()

	type health struct {
		Metadatabase struct{ Status string }
		Scheduler    struct {
			Status    *string
			Heartbeat *time.Time `json:"latest_scheduler_heartbeat"`
		}
		Triggerer    struct{ Status *string }
		DagProcessor struct {
			Status    *string
			Heartbeat *time.Time `json:"latest_dag_processor_heartbeat"`
		} `json:"dag_processor"`
		Version string
	}
	get := func(path string) health {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var h health
		if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}

	h := get("/health")
	if h.Metadatabase.Status != "healthy" || h.Version != "9.9.9" {
		t.Errorf("health = %+v", h)
	}
	if h.DagProcessor.Status == nil || *h.DagProcessor.Status != "unhealthy" || h.DagProcessor.Heartbeat != nil {
		t.Errorf("without a DAG processor job: %+v", h.DagProcessor)
	}
	if h.Triggerer.Status != nil {
		t.Errorf("triggerer status = %v, want null", *h.Triggerer.Status)
	}

	fresh := &windsock.Job{State: windsock.JobRunning, JobType: windsock.JobTypeDagProcessor, StartDate: now, LatestHeartbeat: now.Add(-10 * time.Second)}
	if err := st.JobCreate(ctx, fresh); err != nil {
		t.Fatal(err)
	}
	h = get("/api/v1/health")
	if h.DagProcessor.Status == nil || *h.DagProcessor.Status != "healthy" || h.DagProcessor.Heartbeat == nil || !h.DagProcessor.Heartbeat.Equal(now.Add(-10*time.Second)) {
		t.Errorf("with a fresh heartbeat: %+v", h.DagProcessor)
	}
	stale := &windsock.Job{State: windsock.JobRunning, JobType: windsock.JobTypeScheduler, StartDate: now, LatestHeartbeat: now.Add(-time.Minute)}
	if err := st.JobCreate(ctx, stale); err != nil {
		t.Fatal(err)
	}
	h = get("/health")
	if h.Scheduler.Status == nil || *h.Scheduler.Status != "unhealthy" || h.Scheduler.Heartbeat == nil {
		t.Errorf("with a stale scheduler heartbeat: %+v", h.Scheduler)
	}

	st.Close()
	if h := get("/health"); h.Metadatabase.Status != "unhealthy" {
		t.Errorf("closed database reported %q", h.Metadatabase.Status)
	}
}
