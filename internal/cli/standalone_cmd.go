package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/web"
	"github.com/windsock/windsock/internal/windsock"
)

// adminPasswordFile is where standalone keeps the generated admin password,
// as Airflow's standalone does.
const adminPasswordFile = "standalone_admin_password.txt"

func (r *runner) standaloneCommand() *cobra.Command {
	var port int
	var grace time.Duration
	var slotsFile string
	cmd := &cobra.Command{
		Use:   "standalone",
		Short: "Run everything in one process: database, DAG processor, scheduler, executor and web server",
		Long: `Runs everything in one process: database, DAG processor, scheduler, executor
and web server. On SIGTERM or SIGINT it stops serving and scheduling, lets
running tries finish for up to --grace-period, then hands the rest back to run
again as the same try (without using up a retry) at the next start; a second
signal hands them back at once.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return r.runStandalone(cmd.Context(), port, cmd.Flags().Changed("port"), grace, slotsFile)
		},
	}
	cmd.Flags().IntVarP(&port, "port", "p", 0, "port to listen on (default: webserver.web_server_port, 8080)")
	gracePeriodFlag(cmd, &grace)
	// Set by the control plane, which scales an environment run as one
	// process by its executor's slots; not for users, so hidden.
	cmd.Flags().StringVar(&slotsFile, "executor-slots-file", "", "a file holding how many tries run at once, applied whenever it changes")
	_ = cmd.Flags().MarkHidden("executor-slots-file")
	return cmd
}

func (r *runner) runStandalone(parent context.Context, port int, portSet bool, grace time.Duration, slotsFile string) error {
	ctx, stop := signalContext(parent)
	defer stop()
	logger := slog.New(slog.NewTextHandler(r.io.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	env, err := r.openEnv(ctx, logger)
	if err != nil {
		return err
	}
	defer env.Close()
	release, err := acquireHomeLocks(env.Config, ": stop it first (one standalone per home)")
	if err != nil {
		return err
	}
	defer release()
	if err := env.EnsureDagsFolder(); err != nil {
		return err
	}
	env.PreparePythonAtStart(ctx)
	if err := r.ensureAdmin(ctx, env); err != nil {
		return err
	}

	slots := 0
	if slotsFile != "" {
		// Before the executor starts: it must not claim more than the
		// control plane allows, even for a moment.
		slots, _ = readSlotsFile(slotsFile)
	}
	svc, err := startServices(ctx, env, "", slots)
	if err != nil {
		return err
	}
	defer svc.drain(ctx, 0) // at once when returning early
	if slotsFile != "" {
		go watchSlotsFile(ctx, slotsFile, svc.engine.Executor.SetSlots, logger)
	}

	var runs api.RunNotifier = svc.engine.Scheduler
	return serveAPI(ctx, env, logger, runs, port, portSet, "windsock standalone is ready", func() {
		drainGracefully(logger, grace, svc.drain)
	})
}

// serveAPI serves the HTTP API (and /health) on webserver.web_server_host
// and the port until ctx ends, then shuts down gracefully and calls stop.
func serveAPI(ctx context.Context, env *app.Environment, logger *slog.Logger, runs api.RunNotifier, port int, portSet bool, ready string, stop func()) error {
	if !portSet {
		port = env.Config.Webserver.WebServerPort
	}
	addr := net.JoinHostPort(env.Config.Webserver.WebServerHost, strconv.Itoa(port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return listenError(addr, port, err)
	}
	remoteLogs, err := env.RemoteLogStore()
	if err != nil {
		return err
	}
	// One authenticator for the API and the UI: login throttling and the
	// bound on password checks hold for the process, not per half.
	authn := auth.NewAuthenticator(env.Store, env.Config, env.Clock, logger)
	apiHandler := (&api.Server{
		Store: env.Store, Config: env.Config, Version: Version, Logger: logger, Clock: env.Clock, Authenticator: authn,
		Variables: env.Variables, Connections: env.Connections, LogFolder: env.LogFolder(),
		Runs: runs, RemoteLogs: remoteLogs,
		HealthThreshold: env.Config.Scheduler.SchedulerHealthCheckThreshold,
	}).Handler()
	// The UI is served at / beside the API at /api/v1 and /health.
	webHandler := (&web.Server{
		Store: env.Store, Config: env.Config, Version: Version, Logger: logger, Clock: env.Clock, Authenticator: authn,
		Variables: env.Variables, Connections: env.Connections, LogFolder: env.LogFolder(),
	}).Handler()
	srv := &http.Server{
		Handler:           web.Mux(apiHandler, webHandler),
		ReadHeaderTimeout: 10 * time.Second,
	}
	if warn := api.StartupWarning(env.Config); warn != "" {
		logger.Warn(warn)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info(ready, "url", "http://"+ln.Addr().String(), "dags_folder", env.Config.Core.DagsFolder)

	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-served:
		return fmt.Errorf("web server stopped: %w", err)
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("web server did not shut down cleanly", "error", err)
	}
	if stop != nil {
		stop()
	}
	logger.Info("stopped")
	return nil
}

// ensureAdmin creates the admin user on first start with a generated
// password, written to a file only its owner can read and printed once.
func (r *runner) ensureAdmin(ctx context.Context, env *app.Environment) error {
	_, err := env.Store.UserGet(ctx, "admin")
	if err == nil {
		return nil
	}
	if windsock.ErrorCode(err) != windsock.ENOTFOUND {
		return err
	}
	pwFile := filepath.Join(env.Config.Home, adminPasswordFile)
	password := ""
	if b, err := os.ReadFile(pwFile); err == nil {
		password = strings.TrimSpace(string(b))
	}
	if password == "" {
		if password, err = auth.GeneratePassword(16); err != nil {
			return err
		}
		if err := os.WriteFile(pwFile, []byte(password+"\n"), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", pwFile, err)
		}
	}
	hash, err := auth.HashPassword(password)
	if err != nil {
		return err
	}
	now := env.Clock().UTC()
	if err := env.Store.UserCreate(ctx, &windsock.User{
		Username: "admin", FirstName: "Admin", LastName: "User", Email: "admin@example.com",
		Password: hash, Active: true, Roles: []string{"Admin"}, CreatedOn: now, ChangedOn: now,
	}); err != nil {
		return fmt.Errorf("create admin user: %w", err)
	}
	_, err = fmt.Fprintf(r.io.Stdout, "standalone | Login with username: admin  password: %s\nstandalone | (the password is also in %s)\n", password, pwFile)
	return err
}

func (r *runner) webserverCommand() *cobra.Command {
	var port int
	cmd := &cobra.Command{
		Use:   "webserver",
		Short: "Serve the web UI, the REST API and /health, without a scheduler (stateless: run as many as needed)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, logger, env, done, err := r.startService(cmd)
			if err != nil {
				return err
			}
			defer done()
			var runs api.RunNotifier
			if env.Shared() {
				runs = app.NotifyRuns{Env: env} // the schedulers run elsewhere
			}
			return serveAPI(ctx, env, logger, runs, port, cmd.Flags().Changed("port"), "windsock webserver is ready", nil)
		},
	}
	cmd.Flags().IntVarP(&port, "port", "p", 0, "port to listen on (default: webserver.web_server_port, 8080)")
	return cmd
}
