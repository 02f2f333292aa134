package startstop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// HTTP is a service that serves Handler on Addr: a process's small
// listeners (the worker's task logs, the metrics of a process without a
// web server). Set the fields, then Start it.
type HTTP struct {
	// Name says what is served, in logs and errors ("task logs").
	Name    string
	Handler http.Handler
	// Addr is the address to listen on, as in net.Listen; port 0 for any
	// free port.
	Addr string
	// AnyPortIfTaken makes Start listen on a free port of Addr's host when
	// Addr's port is taken (several processes on one host): the caller
	// records ListenAddr where its readers find it.
	AnyPortIfTaken bool
	Logger         *slog.Logger
	// ShutdownGrace is how long Stop lets requests in flight finish.
	// Default 5 s.
	ShutdownGrace time.Duration

	Base
	mu   sync.Mutex
	addr string
}

// Start listens and serves in the background until Stop or until ctx
// ends.
func (h *HTTP) Start(ctx context.Context) error {
	ctx, started, stopped, err := h.StartInit(ctx)
	if err != nil {
		return fmt.Errorf("serve %s: %w", h.Name, err)
	}
	ln, moved, err := Listen(ctx, h.Addr, h.AnyPortIfTaken)
	if moved {
		h.logger().Info("the port is taken (another process on this host?): serving on a free port", "serving", h.Name, "taken", h.Addr)
	}
	if err != nil {
		stopped()
		return fmt.Errorf("serve %s: %w", h.Name, err)
	}
	h.mu.Lock()
	h.addr = ln.Addr().String()
	h.mu.Unlock()
	srv := &http.Server{Handler: h.Handler, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan struct{})
	go func() {
		defer close(served)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			h.logger().Error("server stopped", "serving", h.Name, "addr", ln.Addr().String(), "error", err)
		}
	}()
	go func() {
		defer stopped()
		<-ctx.Done()
		grace := h.ShutdownGrace
		if grace <= 0 {
			grace = 5 * time.Second
		}
		shutCtx, cancel := context.WithTimeout(context.Background(), grace)
		defer cancel()
		if err := srv.Shutdown(shutCtx); err != nil {
			_ = srv.Close()
		}
		<-served
	}()
	h.logger().Info("serving", "serving", h.Name, "addr", ln.Addr().String())
	started()
	return nil
}

// ListenAddr returns the address listened on (host:port, with the port
// chosen when Addr asked for port 0 or was taken); "" before Start.
func (h *HTTP) ListenAddr() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.addr
}

func (h *HTTP) logger() *slog.Logger {
	if h.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return h.Logger
}

// Listen listens on addr over TCP; when its port is taken and anyPort is
// set, on a free port of the same host instead, reporting that it moved
// (the caller says so in its own words).
func Listen(ctx context.Context, addr string, anyPort bool) (ln net.Listener, moved bool, err error) {
	var lc net.ListenConfig
	ln, err = lc.Listen(ctx, "tcp", addr)
	if err != nil && anyPort && errors.Is(err, syscall.EADDRINUSE) {
		host, _, _ := net.SplitHostPort(addr)
		ln, err = lc.Listen(ctx, "tcp", net.JoinHostPort(host, "0"))
		moved = err == nil
	}
	return ln, moved, err
}
