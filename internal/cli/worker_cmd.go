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
			// The worker outlives the signal: Drain stops it.
			if err := env.Start(context.WithoutCancel(ctx), app.Roles{
				Worker:    &app.WorkerOptions{Concurrency: concurrency, Queues: qs},
				LogServer: !skipLogs, LogServerAddr: logServerAddr(env, hostname),
				Metrics: true,
			}); err != nil {
				return err
			}
			logger.Info("worker is running", "hostname", env.Hostname, "concurrency", concurrencyOf(concurrency, env), "queues", qs,
				"metrics", "http://"+env.MetricsAddr()+"/metrics")
			<-ctx.Done()
			drainGracefully(logger, grace, env.Drain)
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

// logServerAddr is where a log server listens: on hostname (every
// interface when empty), at logging.worker_log_server_port.
func logServerAddr(env *app.Environment, hostname string) string {
	return net.JoinHostPort(hostname, strconv.Itoa(env.Config.Logging.WorkerLogServerPort))
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
			if err := env.Start(ctx, app.Roles{DAGProcessor: true, Metrics: true}); err != nil {
				return err
			}
			logger.Info("dag processor is running", "dags_folder", env.Config.Core.DagsFolder, "metrics", "http://"+env.MetricsAddr()+"/metrics")
			<-ctx.Done()
			logger.Info("shutting down")
			env.Drain(ctx, 0)
			return nil
		},
	}
}
