package web

import "net/http"

// chartRoutes registers the DAG views drawn as charts (Gantt, task
// duration, tries, landing times, calendar) and the cluster activity
// page, the DAG's audit log, and Browse > XComs and Admin >
// Configuration, Providers and Plugins, with Airflow 2.10's paths.
func (s *Server) chartRoutes(mux *http.ServeMux) {
	mux.Handle("GET /dags/{dag_id}/gantt", s.page(s.dagGantt))
	mux.Handle("GET /dags/{dag_id}/duration", s.page(s.dagDuration))
	mux.Handle("GET /dags/{dag_id}/tries", s.page(s.dagTries))
	mux.Handle("GET /dags/{dag_id}/landing-times", s.page(s.dagLandingTimes))
	mux.Handle("GET /dags/{dag_id}/calendar", s.page(s.dagCalendar))
	mux.Handle("GET /cluster_activity", s.page(s.clusterActivity))
	mux.Handle("GET /dags/{dag_id}/audit_log", s.page(s.dagAuditLog))
	mux.Handle("GET /xcom/list", s.page(s.xcomList))
	mux.Handle("GET /configuration", s.page(s.configPage))
	mux.Handle("GET /provider/list", s.page(s.providerList))
	mux.Handle("GET /plugin/list", s.page(s.pluginList))
	mux.Handle("GET /datasets/detail", s.page(s.datasetDetail))
	mux.Handle("GET /dag-dependencies", s.page(s.dagDependencies))
}
