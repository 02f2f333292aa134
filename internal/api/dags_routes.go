package api

// dagRoutes are DAGs, tasks, DAG sources, import errors, DAG stats, clearTaskInstances and updateTaskInstancesState.
func (s *Server) dagRoutes() []route {
	return nil
}
