// Package logserver serves the task logs a worker writes, so that the API
// on another host can show a try's log while it runs, as Airflow's
// serve_logs does on every worker: GET /log/<path under
// logging.base_log_folder>, authorized by a short-lived token signed with
// webserver.secret_key, from a byte offset so that a reader can follow a
// growing file. Fetch is the client.
package logserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/startstop"
)

// MaxChunk is the most one request returns; a reader asks again from the
// offset it reached.
const MaxChunk = 1 << 20

// Server is a worker's log server. Set the fields, then Start it.
type Server struct {
	// Folder is logging.base_log_folder: only files inside it are served.
	Folder string
	// SecretKey is webserver.secret_key, which must be the same on the
	// API's hosts; it may not be empty.
	SecretKey string
	// Addr is the address to listen on, as in net.Listen: ":8793" for
	// logging.worker_log_server_port on every interface, "127.0.0.1:0"
	// for any free port.
	Addr string
	// AnyPortIfTaken makes Start listen on a free port of Addr's host
	// when Addr's port is taken (several workers on one host): the port
	// is recorded in the worker's job row, where the API finds it.
	AnyPortIfTaken bool
	Logger         *slog.Logger
	// Clock is the time tokens are checked against; nil means time.Now.
	Clock func() time.Time

	// Base gives the server (Start, Stop) the startstop shape.
	startstop.Base
	mu   sync.Mutex
	addr string
}

// Start listens on Addr and serves in the background until Stop is called
// or ctx is done. Stop lets requests in flight finish for a few seconds.
func (s *Server) Start(ctx context.Context) error {
	if s.SecretKey == "" {
		return errors.New("start log server: webserver.secret_key is empty; set the same key on every host")
	}
	ctx, started, stopped, err := s.StartInit(ctx)
	if err != nil {
		return fmt.Errorf("start log server: %w", err)
	}
	srv := &startstop.HTTP{Name: "task logs", Handler: s.Handler(), Addr: s.Addr, AnyPortIfTaken: s.AnyPortIfTaken, Logger: s.Logger}
	if err := srv.Start(ctx); err != nil {
		stopped()
		return fmt.Errorf("start log server: %w", err)
	}
	s.mu.Lock()
	s.addr = srv.ListenAddr()
	s.mu.Unlock()
	go func() {
		defer stopped()
		<-srv.Stopped()
	}()
	s.logger().Info("serving task logs", "addr", srv.ListenAddr(), "folder", s.Folder)
	started()
	return nil
}

// ListenAddr returns the address the server listens on (host:port, with
// the port chosen when Addr asked for port 0); "" before Start.
func (s *Server) ListenAddr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Handler returns the log server's routes, for tests and for serving them
// from another server.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /log/{path...}", s.serveLog)
	return mux
}

func (s *Server) logger() *slog.Logger {
	if s.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return s.Logger
}

func (s *Server) now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

// serveLog answers one file from an offset: ?offset=N answers 200 with
// what lies past N (nothing when the file has not grown); Range:
// bytes=N- answers 206, or 416 past the end, as HTTP has it.
func (s *Server) serveLog(w http.ResponseWriter, r *http.Request) {
	rel := r.PathValue("path")
	token := strings.TrimSpace(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
	if err := verifyToken(s.SecretKey, token, rel, s.now()); err != nil {
		s.logger().Warn("log request refused", "path", rel, "remote", r.RemoteAddr, "error", err)
		http.Error(w, "Forbidden", http.StatusForbidden)
		return
	}
	// A clean local path, opened through os.Root, cannot leave the folder:
	// neither by "..", nor by an absolute path, nor by a symbolic link.
	if !filepath.IsLocal(rel) || filepath.Clean(rel) != rel {
		http.Error(w, "bad log path", http.StatusBadRequest)
		return
	}
	offset, limit, ranged, err := requestOffset(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f, err := s.open(rel)
	if errors.Is(err, fs.ErrNotExist) {
		http.Error(w, "no such log", http.StatusNotFound)
		return
	}
	if err != nil {
		s.logger().Warn("log request refused", "path", rel, "remote", r.RemoteAddr, "error", err)
		http.Error(w, "cannot read this log", http.StatusForbidden)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		http.Error(w, "no such log", http.StatusNotFound)
		return
	}
	size := st.Size()
	n := max(0, min(size-offset, limit))
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	status := http.StatusOK
	if ranged {
		if n == 0 {
			h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
			h.Del("Content-Length")
			http.Error(w, "offset past the end of the log", http.StatusRequestedRangeNotSatisfiable)
			return
		}
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", offset, offset+n-1, size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if _, err := io.Copy(w, io.NewSectionReader(f, offset, n)); err != nil {
		s.logger().Debug("log request cut short", "path", rel, "error", err)
	}
}

func (s *Server) open(rel string) (*os.File, error) {
	root, err := os.OpenRoot(s.Folder)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	return root.Open(rel)
}

// requestOffset reads ?offset=N or Range: bytes=N- or bytes=N-M, and the
// most bytes to answer (MaxChunk, or less for a bounded range). ranged
// reports a Range header.
func requestOffset(r *http.Request) (offset, limit int64, ranged bool, err error) {
	if v := r.URL.Query().Get("offset"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, 0, false, fmt.Errorf("offset must be a byte offset, got %q", v)
		}
		return n, MaxChunk, false, nil
	}
	spec, ok := strings.CutPrefix(r.Header.Get("Range"), "bytes=")
	if !ok {
		return 0, MaxChunk, false, nil
	}
	first, last, ok := strings.Cut(spec, "-")
	start, err1 := strconv.ParseInt(first, 10, 64)
	end, err2 := strconv.ParseInt(last, 10, 64)
	switch {
	case !ok || err1 != nil || start < 0:
		// RFC 9110: a range the server does not understand (a suffix, a
		// list) is ignored.
		return 0, MaxChunk, false, nil
	case last == "":
		return start, MaxChunk, true, nil
	case err2 != nil || end < start:
		return 0, MaxChunk, false, nil
	}
	return start, min(end-start+1, MaxChunk), true, nil
}
