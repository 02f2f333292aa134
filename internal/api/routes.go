package api

import "github.com/windsock/windsock/internal/auth"

// routes lists every endpoint under /api/v1 with Airflow's operationId and
// the permission Airflow requires for it. To add an endpoint:
//
//  1. Add a line here: pattern and operationId from Airflow's spec, and
//     need(action, resource) with the permission Airflow checks (public()
//     or authenticated() when the handler decides).
//  2. Write the handler, func(w, r) error, in a file per family: read path
//     values with r.PathValue, paging with s.pageParams(r, sortable),
//     dates with queryTime, bodies with decodeJSON(r, &in) into a struct of
//     pointer fields; check per-DAG access with s.authz.CanDAG /
//     CanDAGEntity (return forbidden()) and filter lists with
//     s.authz.ReadableDAGs; call the store or a service; answer with
//     writeJSON(w, 200, v), collection(name, items, total) for lists, or
//     noContent(w) for deletes.
//  3. Return errors, never write them: windsock.Errorf(code, ...) with
//     Airflow's wording picks the status through errors.go; anything
//     without a code is logged and answered 500 "internal error".
//
// Authentication, the permission check, the 1 MiB body limit and the event
// log entry ("api.<operationId>", for POST/PUT/PATCH/DELETE) are done by
// wrap; load shedding (429) and the per-request deadline, under which the
// handler's store calls run through r.Context(), by bounded (limit.go).
func (s *Server) routes() []route {
	var all []route
	for _, family := range [][]route{s.coreRoutes(), s.dagRoutes(), s.runRoutes(), s.metadataRoutes(), s.datasetRoutes()} {
		all = append(all, family...)
	}
	return all
}

// coreRoutes are monitoring, config, roles, users and tokens.
func (s *Server) coreRoutes() []route {
	return []route{
		{"GET /health", "get_health", public(), s.getHealth},
		{"GET /version", "get_version", public(), s.getVersion},

		{"GET /config", "get_config", need(auth.ActionRead, auth.ResourceConfig), s.getConfig},
		{"GET /config/section/{section}/option/{option}", "get_value", need(auth.ActionRead, auth.ResourceConfig), s.getConfigValue},

		{"GET /roles", "get_roles", need(auth.ActionRead, auth.ResourceRole), s.getRoles},
		{"POST /roles", "post_role", need(auth.ActionCreate, auth.ResourceRole), s.postRole},
		{"GET /roles/{role_name}", "get_role", need(auth.ActionRead, auth.ResourceRole), s.getRole},
		{"PATCH /roles/{role_name}", "patch_role", need(auth.ActionEdit, auth.ResourceRole), s.patchRole},
		{"DELETE /roles/{role_name}", "delete_role", need(auth.ActionDelete, auth.ResourceRole), s.deleteRole},
		// Windsock's own: a role's permissions replaced, for the UI's
		// role editor (Airflow's PATCH only grants).
		{"PUT /roles/{role_name}/permissions", "put_role_permissions", need(auth.ActionEdit, auth.ResourceRole), s.putRolePermissions},
		// Windsock's own: grants and revocations against a version, so the
		// editor sends only its changes (a large role's whole set would pass
		// the body limit).
		{"PATCH /roles/{role_name}/permissions", "patch_role_permissions", need(auth.ActionEdit, auth.ResourceRole), s.patchRolePermissions},
		{"GET /permissions", "get_permissions", need(auth.ActionRead, auth.ResourceAction), s.getPermissions},

		{"GET /users", "get_users", need(auth.ActionRead, auth.ResourceUser), s.getUsers},
		{"POST /users", "post_user", need(auth.ActionCreate, auth.ResourceUser), s.postUser},
		{"GET /users/{username}", "get_user", need(auth.ActionRead, auth.ResourceUser), s.getUser},
		{"PATCH /users/{username}", "patch_user", need(auth.ActionEdit, auth.ResourceUser), s.patchUser},
		{"DELETE /users/{username}", "delete_user", need(auth.ActionDelete, auth.ResourceUser), s.deleteUser},

		// Windsock's own: API tokens, managed by their owner or by whoever
		// may edit users.
		{"GET /users/{username}/tokens", "get_user_tokens", authenticated(), s.getTokens},
		{"POST /users/{username}/tokens", "post_user_token", authenticated(), s.postToken},
		{"DELETE /users/{username}/tokens/{token_id}", "delete_user_token", authenticated(), s.deleteToken},
	}
}
