package api

import (
	"net/http"
)

// getHealth serves /api/v1/health, the same answer as /health.
func (s *Server) getHealth(w http.ResponseWriter, r *http.Request) error {
	s.health(w, r)
	return nil
}

type versionInfo struct {
	Version    string  `json:"version"`
	GitVersion *string `json:"git_version"`
}

// getVersion is Airflow's get_version.
func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, versionInfo{Version: s.Version, GitVersion: s.gitVersion})
}
