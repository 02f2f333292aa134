package api

// metadataRoutes are variables, connections, pools and event logs.
func (s *Server) metadataRoutes() []route {
	return nil
}
