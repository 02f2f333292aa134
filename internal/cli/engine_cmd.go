package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

func (r *runner) schedulerCommand() *cobra.Command {
	var (
		hostname string
		skipLogs bool
		grace    time.Duration
		join     bool
	)
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run the scheduler (with a local executor unless core.executor = CeleryExecutor) and the DAG processor",
		Long: `Runs a scheduler. With PostgreSQL any number may run, on any hosts: they share
the DAGs and runs and take over from one that stops. With core.executor =
LocalExecutor it runs tasks itself and serves their logs on
logging.worker_log_server_port; with CeleryExecutor, ` + "`windsock worker`" + ` processes
run them. The DAG folder is parsed here unless scheduler.standalone_dag_processor
is True (then run ` + "`windsock dag-processor`" + `).
On SIGTERM or SIGINT it stops scheduling and starting tries, lets running tries
finish for up to --grace-period, then hands the rest back to run again as the
same try (without using up a retry) under the next scheduler; a second signal
hands them back at once.`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, logger, env, done, err := r.startService(cmd)
			if err != nil {
				return err
			}
			defer done()
			if !env.Shared() && !join {
				// One process owns a SQLite database unless told to join.
				release, err := acquireHomeLocks(env.Config, ": stop it first, or pass --join to run this scheduler beside it")
				if err != nil {
					return err
				}
				defer release()
			}
			if hostname != "" {
				env.Hostname = hostname
			}
			local := env.Config.Core.Executor != config.ExecutorCelery
			// The roles outlive ctx (the first signal): Drain stops them.
			if err := env.Start(context.WithoutCancel(ctx), app.Roles{
				DAGProcessor: !env.Config.Scheduler.StandaloneDagProcessor,
				Schedulers:   1,
				LogServer:    local && env.Shared() && !skipLogs, LogServerAddr: logServerAddr(env, hostname),
				Metrics: true,
			}); err != nil {
				return err
			}
			defer env.Drain(ctx, 0) // at once when returning early, before the locks go
			logger.Info("scheduler is running", "executor", env.Config.Core.Executor, "parallelism", env.Config.Core.Parallelism, "dags_folder", env.Config.Core.DagsFolder,
				"metrics", "http://"+env.MetricsAddr()+"/metrics")
			<-ctx.Done()
			drainGracefully(logger, grace, env.Drain)
			logger.Info("stopped")
			return nil
		},
	}
	cmd.Flags().StringVar(&hostname, "hostname", "", "name recorded on the task instances this scheduler runs (LocalExecutor); its log server listens on it")
	cmd.Flags().BoolVarP(&skipLogs, "skip-serve-logs", "s", false, "do not serve the logs of the tries run here")
	gracePeriodFlag(cmd, &grace)
	cmd.Flags().BoolVar(&join, "join", false, "on SQLite, run beside the standalone or scheduler that already uses this home")
	return cmd
}

// tryLogPrinter copies each finished try's log to w, for the foreground
// commands (dags test, backfill).
type tryLogPrinter struct {
	env *app.Environment
	w   io.Writer

	mu      sync.Mutex
	printed map[windsock.TaskInstanceKey]int // the last try printed
}

func newTryLogPrinter(env *app.Environment, w io.Writer) *tryLogPrinter {
	return &tryLogPrinter{env: env, w: w, printed: map[windsock.TaskInstanceKey]int{}}
}

// tryDone prints a try this process ran (an EngineOptions.OnTryDone).
func (p *tryLogPrinter) tryDone(try *taskrun.Try, out *taskrun.Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.print(try.TI.TaskInstanceKey, try.TI.TryNumber, stateName(out.State), "")
	p.printed[try.TI.TaskInstanceKey] = try.TI.TryNumber
	if out.State == windsock.TaskStateUpForRetry && out.TI != nil && out.TI.NextRetryAt != nil {
		// The run seems idle until then: say so, as Airflow's retry
		// period dependency does.
		fmt.Fprintf(p.w, "%s will be retried automatically: next try at %s\n", try.TI.TaskID, windsock.ISOFormat(*out.TI.NextRetryAt))
	}
}

// ranElsewhere prints the last try of each task instance of a finished
// run that another process ran (a scheduler daemon that took a retry), from
// its log file when it is on this host.
func (p *tryLogPrinter) ranElsewhere(ctx context.Context, ref scheduler.RunRef) error {
	tis, err := p.env.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: ref.DagID, RunID: ref.RunID})
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ti := range tis {
		if ti.TryNumber == 0 || ti.Hostname == "" || p.printed[ti.TaskInstanceKey] == ti.TryNumber {
			continue // never ran, ended by the scheduler (empty, skipped), or printed
		}
		p.print(ti.TaskInstanceKey, ti.TryNumber, stateName(ti.State), ", run by another process on "+ti.Hostname)
	}
	return nil
}

func (p *tryLogPrinter) print(key windsock.TaskInstanceKey, tryNumber int, state, where string) {
	fmt.Fprintf(p.w, "--- %s (try %d%s): %s ---\n", key.TaskID, tryNumber, where, state)
	path := tasklog.Path(p.env.Config.Logging.BaseLogFolder, key, tryNumber)
	if f, err := os.Open(path); err == nil {
		io.Copy(p.w, f)
		f.Close()
	}
}

// runToEnd runs the given runs with a private engine until each one
// finishes, whoever finishes it, printing each try's log.
func runToEnd(ctx context.Context, env *app.Environment, refs []scheduler.RunRef, logs io.Writer) error {
	remaining := map[scheduler.RunRef]bool{}
	for _, ref := range refs {
		remaining[ref] = true
	}
	done := make(chan struct{})
	var mu sync.Mutex
	printer := newTryLogPrinter(env, logs)
	engine, err := env.NewEngine(app.EngineOptions{
		OnlyRuns:  refs,
		OnTryDone: printer.tryDone,
		OnRunFinished: func(run *windsock.DagRun) {
			mu.Lock()
			defer mu.Unlock()
			ref := scheduler.RunRef{DagID: run.DagID, RunID: run.RunID}
			if remaining[ref] {
				delete(remaining, ref)
				if len(remaining) == 0 {
					close(done)
				}
			}
		},
	})
	if err != nil {
		return err
	}
	if err := engine.Start(ctx); err != nil {
		return err
	}
	defer engine.Stop()
	for _, ref := range refs {
		engine.Scheduler.RunChanged(ref.DagID, ref.RunID)
	}
	select {
	case <-done:
	case <-ctx.Done():
		return windsock.Errorf(windsock.EINVALID, "interrupted before the run finished")
	}
	engine.Stop() // no try of this engine's is left to print
	for _, ref := range refs {
		if err := printer.ranElsewhere(ctx, ref); err != nil {
			return err
		}
	}
	return nil
}

func (r *runner) dagsTestCommand() *cobra.Command {
	var conf string
	cmd := &cobra.Command{
		Use:   "test DAG_ID [LOGICAL_DATE]",
		Short: "Run one DAG run in the foreground, printing task logs; exits non-zero if it fails",
		Args:  args(cobra.RangeArgs(1, 2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			c, err := parseConf(conf)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return r.withEnv(ctx, func(env *app.Environment) error {
				d, g, err := loadDAGGraph(ctx, env, a[0])
				if err != nil {
					return err
				}
				logical := env.Clock().UTC()
				if len(a) == 2 {
					if logical, err = parseDate(a[1], dagLocation(d)); err != nil {
						return err
					}
				}
				// As Airflow's dags test, replace a run at the same date.
				if err := deleteRunsAt(ctx, env.Store, d.DagID, logical, windsock.RunID(windsock.RunTypeManual, logical)); err != nil {
					return err
				}
				run, err := scheduler.CreateRun(ctx, env.Store, d, g, scheduler.NewRun{RunType: windsock.RunTypeManual, LogicalDate: logical, Conf: c, Now: env.Clock()})
				if err != nil {
					return err
				}
				ref := scheduler.RunRef{DagID: d.DagID, RunID: run.RunID}
				if err := runToEnd(ctx, env, []scheduler.RunRef{ref}, r.io.Stdout); err != nil {
					return err
				}
				return r.reportRun(ctx, env.Store, ref)
			})
		},
	}
	cmd.Flags().StringVarP(&conf, "conf", "c", "", "JSON object passed to the run as dag_run.conf")
	return cmd
}

// reportRun prints a finished run's task states and fails if the run did.
func (r *runner) reportRun(ctx context.Context, q store.Queries, ref scheduler.RunRef) error {
	run, err := q.DagRunGet(ctx, ref.DagID, ref.RunID)
	if err != nil {
		return err
	}
	fmt.Fprintln(r.io.Stdout)
	if err := printTaskStates(ctx, r.io.Stdout, formatTable, q, run); err != nil {
		return err
	}
	fmt.Fprintf(r.io.Stdout, "Dag run %s: %s\n", run.RunID, run.State)
	if run.State != windsock.DagRunSuccess {
		return windsock.Errorf(windsock.EINVALID, "dag run %s of %s ended %s", run.RunID, run.DagID, run.State)
	}
	return nil
}

// deleteRunsAt deletes a DAG's runs with the given run id or logical date.
func deleteRunsAt(ctx context.Context, st store.Store, dagID string, logical time.Time, runID string) error {
	runs, err := st.DagRunList(ctx, &store.DagRunListParams{DagID: dagID, LogicalDateGTE: &logical, LogicalDateLTE: &logical})
	if err != nil {
		return err
	}
	if r, err := st.DagRunGet(ctx, dagID, runID); err == nil {
		runs = append(runs, r)
	}
	for _, r := range runs {
		if err := st.DagRunDelete(ctx, dagID, r.RunID); err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
			return err
		}
	}
	return nil
}

func (r *runner) dagsBackfillCommand() *cobra.Command {
	var start, end, conf string
	var reset, rerunFailed, yes, dryRun bool
	cmd := &cobra.Command{
		Use:   "backfill DAG_ID -s START -e END",
		Short: "Run a DAG for every schedule interval between two dates, in the foreground",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if start == "" || end == "" {
				return usageError{fmt.Errorf("-s/--start-date and -e/--end-date are required")}
			}
			c, err := parseConf(conf)
			if err != nil {
				return err
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return r.withEnv(ctx, func(env *app.Environment) error {
				d, g, err := loadDAGGraph(ctx, env, a[0])
				if err != nil {
					return err
				}
				from, err := parseDate(start, dagLocation(d))
				if err != nil {
					return err
				}
				to, err := parseDate(end, dagLocation(d))
				if err != nil {
					return err
				}
				if to.Before(from) {
					return windsock.Errorf(windsock.EINVALID, "--end-date %s is before --start-date %s", end, start)
				}
				if dryRun {
					return r.backfillDryRun(ctx, env, d, g, from, to, c)
				}
				refs, err := prepareBackfill(ctx, env, d, g, from, to, c, reset, rerunFailed)
				if err != nil {
					return err
				}
				if len(refs) == 0 {
					_, err := fmt.Fprintln(r.io.Stdout, "No runs to backfill in that range")
					return err
				}
				fmt.Fprintf(r.io.Stdout, "Backfilling %d run(s) of %s\n", len(refs), d.DagID)
				if err := runToEnd(ctx, env, refs, r.io.Stdout); err != nil {
					return err
				}
				failed := 0
				for _, ref := range refs {
					run, err := env.Store.DagRunGet(ctx, ref.DagID, ref.RunID)
					if err != nil {
						return err
					}
					fmt.Fprintf(r.io.Stdout, "%s: %s\n", run.RunID, run.State)
					if run.State != windsock.DagRunSuccess {
						failed++
					}
				}
				if failed > 0 {
					return windsock.Errorf(windsock.EINVALID, "%d of %d backfill run(s) failed", failed, len(refs))
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&start, "start-date", "s", "", "first logical date (inclusive)")
	f.StringVarP(&end, "end-date", "e", "", "last logical date (inclusive)")
	f.StringVarP(&conf, "conf", "c", "", "JSON object passed to each run as dag_run.conf")
	f.BoolVar(&reset, "reset-dagruns", false, "delete existing runs in the range and run them again")
	f.BoolVar(&rerunFailed, "rerun-failed-tasks", false, "clear the failed tasks of existing runs and run them again")
	f.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation (accepted for compatibility)")
	// Airflow's switches for how a backfill job runs its tasks; a Windsock
	// backfill already runs them in this process and never pickles DAGs.
	f.BoolVarP(&dryRun, "dry-run", "n", false, "render every task of every interval and print it, without creating runs or running anything")
	f.BoolP("local", "l", false, "accepted for compatibility: the backfill always runs its tasks in this process")
	f.BoolP("donot-pickle", "x", false, "accepted for compatibility: DAGs are never pickled")
	return cmd
}

// backfillDryRun is Airflow's backfill --dry-run: for each interval in the
// range, each task is named and its templated fields rendered (as
// TaskInstance.dry_run does), and nothing is written.
func (r *runner) backfillDryRun(ctx context.Context, env *app.Environment, d *windsock.DAG, g *decide.Graph, from, to time.Time, conf map[string]any) error {
	tt, err := schedule.New(d.Schedule, dagLocation(d))
	if err != nil {
		return err
	}
	fmt.Fprintf(r.io.Stdout, "Dry run of DAG %s on %s\n", d.DagID, from.Format("2006-01-02 15:04:05-07:00"))
	for _, info := range schedule.Between(tt, from, to) {
		iv := info.DataInterval
		runID := windsock.RunID(windsock.RunTypeBackfill, iv.Start)
		run := &windsock.DagRun{DagID: d.DagID, RunID: runID, LogicalDate: iv.Start, DataIntervalStart: &iv.Start, DataIntervalEnd: &iv.End,
			State: windsock.DagRunRunning, RunType: windsock.RunTypeBackfill, Conf: conf}
		for _, t := range d.Tasks {
			fmt.Fprintf(r.io.Stdout, "Task %s located in DAG %s (run %s)\n", t.TaskID, d.DagID, runID)
			ti := scheduler.NewTaskInstance(d, g, t, runID, env.Clock())
			ti.TryNumber = 1
			if err := r.printRendered(ctx, env, &taskrun.Try{TI: ti, DAG: d, Run: run}); err != nil {
				return err
			}
		}
	}
	return nil
}

// prepareBackfill creates (or resets) the runs of a backfill and returns
// those to run.
func prepareBackfill(ctx context.Context, env *app.Environment, d *windsock.DAG, g *decide.Graph, from, to time.Time, conf map[string]any, reset, rerunFailed bool) ([]scheduler.RunRef, error) {
	loc := dagLocation(d)
	tt, err := schedule.New(d.Schedule, loc)
	if err != nil {
		return nil, err
	}
	infos := schedule.Between(tt, from, to)
	if len(infos) == 0 && d.Schedule.Kind == windsock.ScheduleNone {
		return nil, windsock.Errorf(windsock.EINVALID, "DAG %s has no schedule (schedule: null), so there are no intervals to backfill", d.DagID)
	}
	var refs []scheduler.RunRef
	now := env.Clock().UTC()
	for _, info := range infos {
		logical := info.DataInterval.Start
		existing, err := env.Store.DagRunList(ctx, &store.DagRunListParams{DagID: d.DagID, LogicalDateGTE: &logical, LogicalDateLTE: &logical})
		if err != nil {
			return nil, err
		}
		if len(existing) > 0 && !reset {
			run := existing[0]
			switch {
			case rerunFailed && run.State == windsock.DagRunFailed:
				if _, err := scheduler.ClearTaskInstances(ctx, env.Store, d, scheduler.ClearParams{RunIDs: []string{run.RunID}, OnlyFailed: true, Now: now}); err != nil {
					return nil, err
				}
			case run.State == windsock.DagRunSuccess || run.State == windsock.DagRunFailed:
				continue
			}
			refs = append(refs, scheduler.RunRef{DagID: d.DagID, RunID: run.RunID})
			continue
		}
		for _, run := range existing {
			if err := env.Store.DagRunDelete(ctx, d.DagID, run.RunID); err != nil {
				return nil, err
			}
		}
		iv := info.DataInterval
		run, err := scheduler.CreateRun(ctx, env.Store, d, g, scheduler.NewRun{RunType: windsock.RunTypeBackfill, LogicalDate: logical, Interval: &iv, Conf: conf, Now: now})
		if err != nil {
			return nil, err
		}
		refs = append(refs, scheduler.RunRef{DagID: d.DagID, RunID: run.RunID})
	}
	return refs, nil
}
