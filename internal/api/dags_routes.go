package api

import "github.com/windsock/windsock/internal/auth"

// dagRoutes are DAGs, tasks, DAG sources, import errors, DAG stats, clearTaskInstances and updateTaskInstancesState.
//
// The DAG routes are open to any authenticated user because access is per
// DAG (a custom role may hold only "DAG:<dag_id>" permissions): their
// handlers check it, and lists show only the DAGs the user may read.
func (s *Server) dagRoutes() []route {
	return []route{
		{"GET /dags", "get_dags", authenticated(), s.getDags},
		{"PATCH /dags", "patch_dags", authenticated(), s.patchDags},
		{"GET /dags/{dag_id}", "get_dag", authenticated(), s.getDag},
		{"PATCH /dags/{dag_id}", "patch_dag", authenticated(), s.patchDag},
		{"DELETE /dags/{dag_id}", "delete_dag", authenticated(), s.deleteDag},
		{"GET /dags/{dag_id}/details", "get_dag_details", authenticated(), s.getDagDetails},
		{"GET /dags/{dag_id}/tasks", "get_tasks", need(auth.ActionRead, auth.ResourceTaskInstance), s.getTasks},
		{"GET /dags/{dag_id}/tasks/{task_id}", "get_task", need(auth.ActionRead, auth.ResourceTaskInstance), s.getTask},
		{"GET /dagSources/{file_token}", "get_dag_source", need(auth.ActionRead, auth.ResourceDAGCode), s.getDagSource},

		{"GET /importErrors", "get_import_errors", need(auth.ActionRead, auth.ResourceImportError), s.getImportErrors},
		{"GET /importErrors/{import_error_id}", "get_import_error", need(auth.ActionRead, auth.ResourceImportError), s.getImportError},
		{"GET /dagWarnings", "get_dag_warnings", need(auth.ActionRead, auth.ResourceDAGWarning), s.getDagWarnings},
		{"GET /dagStats", "get_dag_stats", need(auth.ActionRead, auth.ResourceDAGRun), s.getDagStats},

		{"POST /dags/{dag_id}/clearTaskInstances", "post_clear_task_instances",
			need(auth.ActionEdit, auth.ResourceTaskInstance), s.postClearTaskInstances},
		{"POST /dags/{dag_id}/updateTaskInstancesState", "post_set_task_instances_state",
			need(auth.ActionEdit, auth.ResourceTaskInstance), s.postSetTaskInstancesState},
	}
}
