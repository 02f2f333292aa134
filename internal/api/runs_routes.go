package api

// runRoutes are DAG runs, task instances, their logs, tries, dependencies and XCom entries.
func (s *Server) runRoutes() []route {
	return nil
}
