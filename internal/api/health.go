package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

type healthInfo struct {
	Metadatabase struct {
		Status string `json:"status"`
	} `json:"metadatabase"`
	Scheduler struct {
		Status                   *string    `json:"status"`
		LatestSchedulerHeartbeat *time.Time `json:"latest_scheduler_heartbeat"`
	} `json:"scheduler"`
	Triggerer struct {
		Status                   *string    `json:"status"`
		LatestTriggererHeartbeat *time.Time `json:"latest_triggerer_heartbeat"`
	} `json:"triggerer"`
	DagProcessor struct {
		Status                      *string    `json:"status"`
		LatestDagProcessorHeartbeat *time.Time `json:"latest_dag_processor_heartbeat"`
	} `json:"dag_processor"`
	Version string `json:"version"`
}

const (
	healthy   = "healthy"
	unhealthy = "unhealthy"
)

// health reports the metadata database and each component's heartbeat,
// in Airflow's HealthInfo shape plus the version. Like Airflow it answers
// 200 whatever the state: the body says what is wrong.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	var h healthInfo
	h.Version = s.Version
	h.Metadatabase.Status = healthy
	if err := s.Store.WriteFailure(); err != nil {
		// It answers reads but the latest write failed for want of it
		// (a full disk, a read-only file or server): the environment
		// cannot make progress.
		s.logger().Warn("health: metadata database refuses writes", "error", err)
		h.Metadatabase.Status = unhealthy
	}
	if err := s.Store.Ping(ctx); err != nil {
		s.logger().Warn("health: metadata database does not answer", "error", err)
		h.Metadatabase.Status = unhealthy
	} else {
		h.Scheduler.Status, h.Scheduler.LatestSchedulerHeartbeat = s.jobHealth(ctx, windsock.JobTypeScheduler, true)
		// The DAG processor beats only while its scans succeed: bad files
		// are import errors and leave it healthy, failed scans do not.
		h.DagProcessor.Status, h.DagProcessor.LatestDagProcessorHeartbeat = s.jobHealth(ctx, windsock.JobTypeDagProcessor, true)
		h.Triggerer.Status, h.Triggerer.LatestTriggererHeartbeat = s.jobHealth(ctx, windsock.JobTypeTriggerer, false)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(h); err != nil {
		s.logger().Warn("health: write response", "error", err)
	}
}

// jobHealth returns the status of a component from its latest heartbeat.
// Components that must run are unhealthy without one; optional ones (the
// triggerer) report null, as Airflow does when none is running.
func (s *Server) jobHealth(ctx context.Context, jobType string, required bool) (*string, *time.Time) {
	j, err := s.Store.JobLatest(ctx, jobType)
	if err != nil {
		if windsock.ErrorCode(err) != windsock.ENOTFOUND {
			s.logger().Warn("health: read job heartbeat", "job_type", jobType, "error", err)
		}
		if !required {
			return nil, nil
		}
		st := unhealthy
		return &st, nil
	}
	hb := j.LatestHeartbeat.UTC()
	st := healthy
	if s.Clock().Sub(hb) > s.HealthThreshold {
		st = unhealthy
	}
	return &st, &hb
}
