package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/windsock"
)

// adminPasswordFile is where standalone keeps the generated admin password,
// as Airflow's standalone does.
const adminPasswordFile = "standalone_admin_password.txt"

// defaultWebServerPort is webserver.web_server_port's default: a
// standalone that was given no other port moves to a free one when
// another process has it.
const defaultWebServerPort = 8080

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
	// The roles outlive ctx (the first signal): Drain stops them. A
	// second standalone on the default port goes to a free one and says
	// where; a port the user chose is theirs to change.
	if err := startWeb(ctx, env, port, portSet, app.Roles{
		DAGProcessor:      !env.Config.Scheduler.StandaloneDagProcessor,
		Schedulers:        1,
		ExecutorSlots:     slots,
		WebAnyPortIfTaken: !portSet && env.Config.Webserver.WebServerPort == defaultWebServerPort,
	}); err != nil {
		return err
	}
	defer env.Drain(ctx, 0) // at once when returning early, before the locks go
	if slotsFile != "" {
		go watchSlotsFile(ctx, slotsFile, env.SetExecutorSlots, logger)
	}
	return serveUntilSignal(ctx, env, logger, "windsock standalone is ready", func() {
		drainGracefully(logger, grace, env.Drain)
	})
}

// startWeb starts roles with the web server on webserver.web_server_host
// and the port (webserver.web_server_port unless set by --port).
func startWeb(ctx context.Context, env *app.Environment, port int, portSet bool, roles app.Roles) error {
	if !portSet {
		port = env.Config.Webserver.WebServerPort
	}
	roles.Web = true
	roles.WebAddr = net.JoinHostPort(env.Config.Webserver.WebServerHost, strconv.Itoa(port))
	err := env.Start(context.WithoutCancel(ctx), roles)
	if errors.Is(err, syscall.EADDRINUSE) {
		return listenError(roles.WebAddr, port, err)
	}
	return err
}

// serveUntilSignal says the environment is ready and waits for the first
// signal (or the web server failing), then stops it with drain (at once
// when nil).
func serveUntilSignal(ctx context.Context, env *app.Environment, logger *slog.Logger, ready string, drain func()) error {
	logger.Info(ready, "url", "http://"+env.WebAddr(), "dags_folder", env.Config.Core.DagsFolder)
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-env.Failed():
		return err
	}
	if drain != nil {
		drain()
	} else {
		env.Drain(ctx, 0)
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
			if err := startWeb(ctx, env, port, cmd.Flags().Changed("port"), app.Roles{}); err != nil {
				return err
			}
			return serveUntilSignal(ctx, env, logger, "windsock webserver is ready", nil)
		},
	}
	cmd.Flags().IntVarP(&port, "port", "p", 0, "port to listen on (default: webserver.web_server_port, 8080)")
	return cmd
}
