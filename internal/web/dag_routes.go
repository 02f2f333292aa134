package web

import "net/http"

// dagRoutes registers the DAG pages (grid, graph, runs, code, details) and
// the task-instance page, with the small fragments their scripts poll.
func (s *Server) dagRoutes(mux *http.ServeMux) {
	mux.Handle("GET /dags/{dag_id}", s.page(s.dagIndex))
	mux.Handle("GET /dags/{dag_id}/{$}", s.page(s.dagIndex))
	mux.Handle("GET /dags/{dag_id}/grid", s.page(s.dagGrid))
	mux.Handle("GET /dags/{dag_id}/grid/live", s.page(s.dagGridLive))
	mux.Handle("GET /dags/{dag_id}/grid/{run_id}/{task_id}", s.page(s.taskInstancePage))
	mux.Handle("GET /dags/{dag_id}/graph", s.page(s.dagGraph))
	mux.Handle("GET /dags/{dag_id}/graph/states", s.page(s.dagGraphStates))
	mux.Handle("GET /dags/{dag_id}/runs", s.page(s.dagRuns))
	mux.Handle("GET /dags/{dag_id}/code", s.page(s.dagCode))
	mux.Handle("GET /dags/{dag_id}/details", s.page(s.dagDetails))
}
