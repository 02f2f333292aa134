package api

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/logserver"
	"github.com/windsock/windsock/internal/logstore"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// tryLogReader reads a try's log wherever it was found.
type tryLogReader struct {
	read func(ctx context.Context, offset int64) ([]byte, int64, error)
	// first is the chunk read while looking for the log, answered without
	// reading again.
	first               []byte
	firstAt, firstAfter int64
	firstUsed           bool
}

// Read returns up to one chunk from offset on, and the offset after it.
func (l *tryLogReader) Read(ctx context.Context, offset int64) ([]byte, int64, error) {
	if !l.firstUsed && offset == l.firstAt {
		l.firstUsed = true
		return l.first, l.firstAfter, nil
	}
	return l.read(ctx, offset)
}

// openTryLog finds the log of try n of ti, as Airflow's file task handler
// does: this server's log folder first; then, for a try that may still
// write, the log server of the worker running it (ti.Hostname) before the
// remote copy; for a finished try, the remote copy before the worker.
// The chunk at offset is read on the way. When no place has the log, the
// error (a 404) says where the log was written and why each place failed.
func (s *Server) openTryLog(ctx context.Context, ti *windsock.TaskInstance, n int, offset int64) (*tryLogReader, error) {
	rel := filepath.ToSlash(tasklog.Path("", ti.TaskInstanceKey, n))
	// A local file that vanishes between two reads (delete_local_logs
	// after its upload) is looked for elsewhere.
	r, err := s.probe(ctx, offset, func(ctx context.Context, off int64) ([]byte, int64, error) {
		return tasklog.Read(s.LogFolder, ti.TaskInstanceKey, n, off)
	})
	if windsock.ErrorCode(err) != windsock.ENOTFOUND {
		return r, err
	}

	type place struct {
		read     func(ctx context.Context, off int64) ([]byte, int64, error)
		describe func(err error) string
	}
	var worker, remote *place
	if ti.Hostname != "" {
		base := "http://" + s.logServerOf(ctx, ti, n)
		// The environment's own log servers only: another environment's
		// on this port refuses the token (logserver.EnvironmentKey).
		envID, err := s.Store.EnvironmentID(ctx)
		if err != nil {
			return nil, fmt.Errorf("read the environment id: %w", err)
		}
		key := logserver.EnvironmentKey(s.cfg.Webserver.SecretKey, envID)
		timeout := s.cfg.Logging.LogFetchTimeoutSec
		worker = &place{
			read: func(ctx context.Context, off int64) ([]byte, int64, error) {
				ctx, cancel := context.WithTimeout(ctx, timeout)
				defer cancel()
				return logserver.Fetch(ctx, base, key, rel, off)
			},
			describe: func(err error) string { return err.Error() },
		}
	}
	if s.RemoteLogs != nil {
		loc := s.RemoteLogs.Location(rel)
		remote = &place{
			read: func(ctx context.Context, off int64) ([]byte, int64, error) {
				return s.RemoteLogs.Read(ctx, rel, off)
			},
			describe: func(err error) string {
				if errors.Is(err, logstore.ErrNotFound) {
					return "no copy at " + loc
				}
				return "reading the copy at " + loc + " failed: " + err.Error()
			},
		}
	}
	order := []*place{remote, worker}
	if n == ti.TryNumber && tryActive(ti.State) {
		order = []*place{worker, remote}
	}

	msg := []string{fmt.Sprintf("Log of try %d of task %q not found", n, ti.TaskID)}
	switch {
	case ti.Hostname != "" && n == ti.TryNumber:
		msg = append(msg, "it was written on host "+ti.Hostname)
	case ti.Hostname != "":
		msg = append(msg, "the task instance last ran on host "+ti.Hostname+" (this try may have run elsewhere)")
	}
	msg = append(msg, "looked for "+rel+" in the task log folder")
	for _, p := range order {
		if p == nil {
			continue
		}
		r, err := s.probe(ctx, offset, p.read)
		if err == nil {
			return r, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		msg = append(msg, p.describe(err))
	}
	if s.RemoteLogs == nil && ti.Hostname != "" {
		msg = append(msg, "no remote copy (logging.remote_logging is off)")
	}
	return nil, windsock.Errorf(windsock.ENOTFOUND, "%s: %s", msg[0], strings.Join(msg[1:], "; "))
}

// probe reads the chunk at offset, keeping it for the first Read.
func (s *Server) probe(ctx context.Context, offset int64, read func(context.Context, int64) ([]byte, int64, error)) (*tryLogReader, error) {
	data, next, err := read(ctx, offset)
	if err != nil {
		return nil, err
	}
	return &tryLogReader{read: read, first: data, firstAt: offset, firstAfter: next}, nil
}

// logServerOf is host:port of the log server holding try n of ti: for the
// latest try, the one its executor recorded in its job row (several
// workers on one host listen on ports of their own); otherwise, or when
// none was recorded, the task instance's host on
// logging.worker_log_server_port, as in Airflow.
func (s *Server) logServerOf(ctx context.Context, ti *windsock.TaskInstance, n int) string {
	if n == ti.TryNumber && ti.JobID != nil {
		if job, err := s.Store.JobGet(ctx, *ti.JobID); err == nil && job.LogServer != "" {
			return job.LogServer
		}
	}
	return net.JoinHostPort(ti.Hostname, strconv.Itoa(s.cfg.Logging.WorkerLogServerPort))
}
