package api

import "github.com/windsock/windsock/internal/auth"

// metadataRoutes are variables, connections, pools and event logs, and the
// OpenAPI document of the whole API.
func (s *Server) metadataRoutes() []route {
	return []route{
		{"GET /variables", "get_variables", need(auth.ActionRead, auth.ResourceVariable), s.getVariables},
		{"POST /variables", "post_variables", need(auth.ActionCreate, auth.ResourceVariable), s.postVariable},
		// Variable keys may hold '/', as Airflow's path-formatted
		// variable_key allows.
		{"GET /variables/{variable_key...}", "get_variable", need(auth.ActionRead, auth.ResourceVariable), s.getVariable},
		{"PATCH /variables/{variable_key...}", "patch_variable", need(auth.ActionEdit, auth.ResourceVariable), s.patchVariable},
		{"DELETE /variables/{variable_key...}", "delete_variable", need(auth.ActionDelete, auth.ResourceVariable), s.deleteVariable},

		{"GET /connections", "get_connections", need(auth.ActionRead, auth.ResourceConnection), s.getConnections},
		{"POST /connections", "post_connection", need(auth.ActionCreate, auth.ResourceConnection), s.postConnection},
		{"POST /connections/test", "test_connection", need(auth.ActionCreate, auth.ResourceConnection), s.testConnection},
		{"GET /connections/{connection_id}", "get_connection", need(auth.ActionRead, auth.ResourceConnection), s.getConnection},
		{"PATCH /connections/{connection_id}", "patch_connection", need(auth.ActionEdit, auth.ResourceConnection), s.patchConnection},
		{"DELETE /connections/{connection_id}", "delete_connection", need(auth.ActionDelete, auth.ResourceConnection), s.deleteConnection},

		{"GET /pools", "get_pools", need(auth.ActionRead, auth.ResourcePool), s.getPools},
		{"POST /pools", "post_pool", need(auth.ActionCreate, auth.ResourcePool), s.postPool},
		{"GET /pools/{pool_name}", "get_pool", need(auth.ActionRead, auth.ResourcePool), s.getPool},
		{"PATCH /pools/{pool_name}", "patch_pool", need(auth.ActionEdit, auth.ResourcePool), s.patchPool},
		{"DELETE /pools/{pool_name}", "delete_pool", need(auth.ActionDelete, auth.ResourcePool), s.deletePool},

		{"GET /eventLogs", "get_event_logs", need(auth.ActionRead, auth.ResourceAuditLog), s.getEventLogs},
		{"GET /eventLogs/{event_log_id}", "get_event_log", need(auth.ActionRead, auth.ResourceAuditLog), s.getEventLog},

		// Airflow serves its document without authentication too.
		{"GET /openapi.yaml", "get_openapi", public(), s.getOpenAPI},
	}
}
