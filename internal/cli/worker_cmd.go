package cli

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/dagprocessor"
	"github.com/windsock/windsock/internal/logserver"
	"github.com/windsock/windsock/internal/store"
)

func (r *runner) workerCommand() *cobra.Command {
	var (
		concurrency int
		queues      string
		hostname    string
		grace       time.Duration
		skipLogs    bool
	)
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run tasks that schedulers queued (core.executor = CeleryExecutor), on any host sharing the PostgreSQL database",
		Long: `Claims queued task instances from the metadata database and runs them, up to
--concurrency at once (celery.worker_concurrency), only those of --queues when
given. It serves the logs of its tries on logging.worker_log_server_port (on a
free port when another worker of the host has it; the port is recorded with
the worker, where the webservers find it).
On SIGTERM or SIGINT it stops claiming, lets running tries finish for up to
--grace-period, then hands the rest back to run again as the same try (without
using up a retry); a second signal hands them back at once.
A try that ends while the database is away keeps its outcome in
$WINDSOCK_HOME/journal until the database has it: it is recorded when the
database is back, or when the worker next starts in the same home.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, logger, env, done, err := r.startService(cmd)
			if err != nil {
				return err
			}
			defer done()
			if !env.Shared() {
				return usageError{fmt.Errorf("worker: the metadata database is SQLite, which one process owns; set database.sql_alchemy_conn to a postgresql:// URL (or run `windsock scheduler` with core.executor = LocalExecutor)")}
			}
			if hostname != "" {
				env.Hostname = hostname
			}
			var qs []string
			for _, q := range strings.Split(queues, ",") {
				if q = strings.TrimSpace(q); q != "" {
					qs = append(qs, q)
				}
			}
			var logs *logserver.Server
			if !skipLogs {
				if logs, err = startLogServer(ctx, env, hostname); err != nil {
					return err
				}
				defer logs.Stop()
			}
			opts := app.WorkerOptions{Concurrency: concurrency, Queues: qs}
			if logs != nil {
				opts.LogServer = env.LogServerAddress(logs)
			}
			w, err := env.NewWorker(opts)
			if err != nil {
				return err
			}
			// The worker outlives the signal: Drain stops it.
			if err := w.Start(context.WithoutCancel(ctx)); err != nil {
				return err
			}
			logger.Info("worker is running", "hostname", env.Hostname, "concurrency", concurrencyOf(concurrency, env), "queues", qs)
			<-ctx.Done()
			drainGracefully(logger, grace, w.Drain)
			logger.Info("stopped")
			return nil
		},
	}
	cmd.Flags().IntVarP(&concurrency, "concurrency", "c", 0, "tries run at once (default: celery.worker_concurrency, 16)")
	cmd.Flags().StringVarP(&queues, "queues", "q", "", "comma-separated queues to take tasks from (default: all)")
	cmd.Flags().StringVar(&hostname, "hostname", "", "name recorded on the task instances, where the webserver fetches their logs; the log server listens on it (default: this host's name, all interfaces)")
	gracePeriodFlag(cmd, &grace)
	cmd.Flags().BoolVarP(&skipLogs, "skip-serve-logs", "s", false, "do not serve the logs of this worker's tries")
	return cmd
}

func concurrencyOf(flag int, env *app.Environment) int {
	if flag > 0 {
		return flag
	}
	return env.Config.Celery.WorkerConcurrency
}

// startLogServer serves this process's task logs to the webservers, on
// hostname (all interfaces when empty) and logging.worker_log_server_port,
// or a free port when that one is taken.
func startLogServer(ctx context.Context, env *app.Environment, hostname string) (*logserver.Server, error) {
	ls := env.NewLogServer()
	ls.Addr = net.JoinHostPort(hostname, strconv.Itoa(env.Config.Logging.WorkerLogServerPort))
	if err := ls.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, fmt.Errorf("serve task logs on %s: %w", ls.Addr, err)
	}
	return ls, nil
}

func (r *runner) dagProcessorCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "dag-processor",
		Short: "Parse the DAG folder into the metadata database (with scheduler.standalone_dag_processor = True)",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, logger, env, done, err := r.startService(cmd)
			if err != nil {
				return err
			}
			defer done()
			if err := env.EnsureDagsFolder(); err != nil {
				return err
			}
			proc, err := env.NewDAGProcessor(func(rep *dagprocessor.Report) { announceDAGs(env, rep) })
			if err != nil {
				return err
			}
			if err := proc.Start(ctx); err != nil {
				return err
			}
			logger.Info("dag processor is running", "dags_folder", env.Config.Core.DagsFolder)
			<-ctx.Done()
			logger.Info("shutting down")
			proc.Stop()
			return nil
		},
	}
}

// announceDAGs tells the schedulers sharing the store that definitions
// changed.
func announceDAGs(env *app.Environment, rep *dagprocessor.Report) {
	if rep.Written == 0 && rep.Removed == 0 {
		return
	}
	if err := env.Store.Notify(context.Background(), store.ChannelDAGsChanged, ""); err != nil {
		env.Logger.Warn("could not announce changed DAGs", "error", err)
	}
}
