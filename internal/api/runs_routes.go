package api

import "github.com/windsock/windsock/internal/auth"

// runRoutes are DAG runs, task instances, their logs, tries, dependencies and XCom entries.
func (s *Server) runRoutes() []route {
	const (
		runs  = "/dags/{dag_id}/dagRuns"
		run   = runs + "/{dag_run_id}"
		tis   = run + "/taskInstances"
		ti    = tis + "/{task_id}"
		mti   = ti + "/{map_index}"
		xcoms = ti + "/xcomEntries"
	)
	readRuns, editRuns := need(auth.ActionRead, auth.ResourceDAGRun), need(auth.ActionEdit, auth.ResourceDAGRun)
	readTIs, editTIs := need(auth.ActionRead, auth.ResourceTaskInstance), need(auth.ActionEdit, auth.ResourceTaskInstance)
	return []route{
		{"GET " + runs, "get_dag_runs", readRuns, s.getDagRuns},
		{"POST " + runs, "post_dag_run", need(auth.ActionCreate, auth.ResourceDAGRun), s.postDagRun},
		{"POST /dags/~/dagRuns/list", "get_dag_runs_batch", readRuns, s.getDagRunsBatch},
		{"GET " + run, "get_dag_run", readRuns, s.getDagRun},
		{"PATCH " + run, "update_dag_run_state", editRuns, s.patchDagRun},
		{"DELETE " + run, "delete_dag_run", need(auth.ActionDelete, auth.ResourceDAGRun), s.deleteDagRun},
		{"POST " + run + "/clear", "clear_dag_run", editRuns, s.clearDagRun},
		{"PATCH " + run + "/setNote", "set_dag_run_note", editRuns, s.setDagRunNote},

		{"GET " + tis, "get_task_instances", readTIs, s.getTaskInstances},
		{"POST /dags/~/dagRuns/~/taskInstances/list", "get_task_instances_batch", readTIs, s.getTaskInstancesBatch},
		{"GET " + ti, "get_task_instance", readTIs, s.getTaskInstance},
		{"PATCH " + ti, "patch_task_instance", editTIs, s.patchTaskInstance},
		{"GET " + ti + "/dependencies", "get_task_instance_dependencies", readTIs, s.getTaskInstanceDependencies},
		{"GET " + ti + "/tries", "get_task_instance_tries", readTIs, s.getTaskInstanceTries},
		{"GET " + ti + "/tries/{task_try_number}", "get_task_instance_try_details", readTIs, s.getTaskInstanceTry},
		{"GET " + ti + "/logs/{task_try_number}", "get_log", need(auth.ActionRead, auth.ResourceTaskLog), s.getLog},
		{"GET " + ti + "/listMapped", "get_mapped_task_instances", readTIs, s.getMappedTaskInstances},
		// One instance of a mapped task: the same handlers, which read
		// {map_index}. (Served through Server.mappedRoutes; see there.)
		{"GET " + mti, "get_mapped_task_instance", readTIs, s.getTaskInstance},
		{"PATCH " + mti, "patch_mapped_task_instance", editTIs, s.patchTaskInstance},
		{"GET " + mti + "/dependencies", "get_mapped_task_instance_dependencies", readTIs, s.getTaskInstanceDependencies},
		{"GET " + mti + "/tries", "get_mapped_task_instance_tries", readTIs, s.getTaskInstanceTries},
		{"GET " + mti + "/tries/{task_try_number}", "get_mapped_task_instance_try_details", readTIs, s.getTaskInstanceTry},

		{"GET " + xcoms, "get_xcom_entries", need(auth.ActionRead, auth.ResourceXCom), s.getXComEntries},
		{"GET " + xcoms + "/{xcom_key}", "get_xcom_entry", need(auth.ActionRead, auth.ResourceXCom), s.getXComEntry},
	}
}
