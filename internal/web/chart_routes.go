package web

import "net/http"

// chartRoutes registers the DAG views drawn as charts (Gantt, task
// duration, tries, landing times, calendar) and the cluster activity
// page, with Airflow 2.10's paths.
func (s *Server) chartRoutes(mux *http.ServeMux) {
	mux.Handle("GET /dags/{dag_id}/gantt", s.page(s.dagGantt))
	mux.Handle("GET /dags/{dag_id}/duration", s.page(s.dagDuration))
	mux.Handle("GET /dags/{dag_id}/tries", s.page(s.dagTries))
	mux.Handle("GET /dags/{dag_id}/landing-times", s.page(s.dagLandingTimes))
	mux.Handle("GET /dags/{dag_id}/calendar", s.page(s.dagCalendar))
	mux.Handle("GET /cluster_activity", s.page(s.clusterActivity))
}
