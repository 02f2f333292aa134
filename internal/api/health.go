package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/pyenv"
	"github.com/windsock/windsock/internal/windsock"
)

// HealthInfo is /health's answer: Airflow's HealthInfo plus Windsock's
// additions (the version, the Python environment).
type HealthInfo struct {
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
	// PythonEnvironment is not in Airflow: the environment's Python
	// (requirements.txt installed with pip, plugins.zip unpacked).
	PythonEnvironment PythonHealth `json:"python_environment"`
	Version           string       `json:"version"`
}

// PythonHealth is the python_environment component of /health: unhealthy
// when the latest pip install or plugins.zip unpack failed, error saying
// why (pip's message), while the previous environment stays in use.
type PythonHealth struct {
	Status string `json:"status"`
	// Python is the interpreter in use; null before the environment first
	// prepared its Python.
	Python *string `json:"python"`
	Venv   *string `json:"venv"`
	// LatestInstall is when pip last ran on a changed requirements file.
	LatestInstall *time.Time `json:"latest_install"`
	// RequirementsPending: requirements.txt changed since; the next
	// start installs it.
	RequirementsPending bool    `json:"requirements_pending"`
	Error               *string `json:"error"`
}

const (
	healthy   = "healthy"
	unhealthy = "unhealthy"
)

// health serves /health. Like Airflow it answers 200 whatever the state:
// the body says what is wrong.
func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	h := s.Health(r.Context())
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err := json.NewEncoder(w).Encode(h); err != nil {
		s.logger().Warn("health: write response", "error", err)
	}
}

// Health reports the metadata database, each component's heartbeat and
// the Python environment, as /health does. It may be called on a Server
// whose Handler was never built (`windsock health`).
func (s *Server) Health(ctx context.Context) HealthInfo {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if s.cfg == nil {
		s.cfg = config.Default("")
		if s.Config != nil {
			s.cfg = s.Config.WithDefaults()
		}
	}
	if s.Clock == nil {
		s.Clock = time.Now
	}
	var h HealthInfo
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
	h.PythonEnvironment = s.pythonHealth()
	return h
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

// pythonHealth reads the status the environment's latest pyenv.Prepare
// recorded in the home.
func (s *Server) pythonHealth() PythonHealth {
	h := PythonHealth{Status: healthy}
	st, err := pyenv.ReadStatus(pyenv.FromConfig(s.cfg, nil))
	if err != nil {
		s.logger().Warn("health: read python environment status", "error", err)
		msg := "the status of the Python environment cannot be read"
		h.Status, h.Error = unhealthy, &msg
		return h
	}
	if problems := st.Problems(); len(problems) > 0 {
		msg := strings.Join(problems, "\n")
		h.Status, h.Error = unhealthy, &msg
	}
	if st.Python != "" {
		h.Python = &st.Python
	}
	if st.Venv != "" {
		h.Venv = &st.Venv
	}
	if st.LastInstall != nil {
		at := st.LastInstall.At
		h.LatestInstall = &at
	}
	h.RequirementsPending = st.Pending
	return h
}
