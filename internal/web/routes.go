package web

import "net/http"

// shellRoutes registers the DAGs list, Browse and Admin pages. The DAG and
// task-instance pages are registered by dagRoutes (dag_routes.go).
func (s *Server) shellRoutes(mux *http.ServeMux) {
	mux.Handle("GET /{$}", s.page(s.dagsPage))
	mux.Handle("GET /home", s.page(s.dagsPage))
	// Browsers ask for /favicon.ico on every site; there is none, and
	// without this route the request would be sent to the login page.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})

	mux.Handle("GET /dagrun/list", s.page(s.dagRunList))
	mux.Handle("GET /taskinstance/list", s.page(s.taskInstanceList))
	mux.Handle("GET /log/list", s.page(s.eventLogList))
	mux.Handle("GET /slamiss/list", s.page(s.slaMissList))
	mux.Handle("GET /datasets", s.page(s.datasetsPage))

	mux.Handle("GET /variable/list", s.page(s.variableList))
	mux.Handle("GET /connection/list", s.page(s.connectionList))
	mux.Handle("GET /pool/list", s.page(s.poolList))
	mux.Handle("GET /users/list", s.page(s.userList))
	mux.Handle("GET /roles/list", s.page(s.roleList))
	mux.Handle("GET /roles/edit/{name}", s.page(s.roleEdit))
}
