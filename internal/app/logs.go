package app

import (
	"net"
	"strconv"

	"github.com/windsock/windsock/internal/logserver"
	"github.com/windsock/windsock/internal/logstore"
)

// RemoteLogStore returns where finished task logs are copied
// (logging.remote_base_log_folder, with logging.remote_log_conn_id), or
// nil when logging.remote_logging is off. It does no I/O: the connection
// is looked up on first use.
func (e *Environment) RemoteLogStore() (logstore.Store, error) {
	lc := e.Config.Logging
	if !lc.RemoteLogging {
		return nil, nil
	}
	return logstore.New(logstore.Config{Folder: lc.RemoteBaseLogFolder, ConnID: lc.RemoteLogConnID,
		Connections: e.Connections, Environ: e.Environ})
}

// NewLogServer returns the log server a worker runs next to its tries:
// logging.base_log_folder, on logging.worker_log_server_port of every
// interface (a free port when another process of the host has it),
// tokens checked with webserver.secret_key bound to the environment
// (logserver.EnvironmentKey). Start it with the worker and Stop it after
// the worker's tries are done.
func (e *Environment) NewLogServer() *logserver.Server {
	return &logserver.Server{
		Folder:         e.Config.Logging.BaseLogFolder,
		SecretKey:      logserver.EnvironmentKey(e.Config.Webserver.SecretKey, e.ID),
		Addr:           net.JoinHostPort("", strconv.Itoa(e.Config.Logging.WorkerLogServerPort)),
		AnyPortIfTaken: true,
		Logger:         e.Logger,
		Clock:          e.Clock,
	}
}

// LogServerAddress is where the web servers reach a started log server:
// this environment's host name (what its tries record) and the port the
// server listens on, recorded in the executor's job row.
func (e *Environment) LogServerAddress(ls *logserver.Server) string {
	_, port, err := net.SplitHostPort(ls.ListenAddr())
	if err != nil {
		return ""
	}
	return net.JoinHostPort(e.Hostname, port)
}
