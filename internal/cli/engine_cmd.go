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
	"github.com/windsock/windsock/internal/dagprocessor"
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
	)
	cmd := &cobra.Command{
		Use:   "scheduler",
		Short: "Run the scheduler (with a local executor unless core.executor = CeleryExecutor) and the DAG processor",
		Long: `Runs a scheduler. With PostgreSQL any number may run, on any hosts: they share
the DAGs and runs and take over from one that stops. With core.executor =
LocalExecutor it runs tasks itself and serves their logs on
logging.worker_log_server_port; with CeleryExecutor, ` + "`windsock worker`" + ` processes
run them. The DAG folder is parsed here unless scheduler.standalone_dag_processor
is True (then run ` + "`windsock dag-processor`" + `).`,
		Args: args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, logger, env, done, err := r.startService(cmd)
			if err != nil {
				return err
			}
			defer done()
			if hostname != "" {
				env.Hostname = hostname
			}
			engine, stopAll, err := startServices(ctx, env)
			if err != nil {
				return err
			}
			if engine.Executor != nil && env.Shared() && !skipLogs {
				logs, err := startLogServer(ctx, env, hostname)
				if err != nil {
					stopAll()
					return err
				}
				defer logs.Stop()
			}
			logger.Info("scheduler is running", "executor", env.Config.Core.Executor, "parallelism", env.Config.Core.Parallelism, "dags_folder", env.Config.Core.DagsFolder)
			<-ctx.Done()
			logger.Info("shutting down")
			stopAll()
			return nil
		},
	}
	cmd.Flags().StringVar(&hostname, "hostname", "", "name recorded on the task instances this scheduler runs (LocalExecutor); its log server listens on it")
	cmd.Flags().BoolVarP(&skipLogs, "skip-serve-logs", "s", false, "do not serve the logs of the tries run here")
	return cmd
}

// startServices starts the DAG processor (unless it runs on its own) and
// the engine, wired so that a parsed change reaches the scheduler at once,
// and returns the engine and their stop.
func startServices(ctx context.Context, env *app.Environment) (*app.Engine, func(), error) {
	if err := env.EnsureDagsFolder(); err != nil {
		return nil, nil, err
	}
	engine, err := env.NewEngine(app.EngineOptions{})
	if err != nil {
		return nil, nil, err
	}
	stopProc := func() {}
	if !env.Config.Scheduler.StandaloneDagProcessor {
		proc, err := env.NewDAGProcessor(func(rep *dagprocessor.Report) {
			engine.Scheduler.DAGsChanged()
			if env.Shared() {
				announceDAGs(env, rep)
			}
		})
		if err != nil {
			return nil, nil, err
		}
		if err := proc.Start(ctx); err != nil {
			return nil, nil, err
		}
		stopProc = proc.Stop
	}
	if err := engine.Start(ctx); err != nil {
		stopProc()
		return nil, nil, err
	}
	return engine, func() {
		engine.Stop()
		stopProc()
	}, nil
}

// logPrinter copies each finished try's log to w, for the foreground
// commands (dags test, backfill).
func logPrinter(env *app.Environment, w io.Writer) func(*taskrun.Try, *taskrun.Outcome) {
	var mu sync.Mutex
	return func(try *taskrun.Try, out *taskrun.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		path := tasklog.Path(env.Config.Logging.BaseLogFolder, try.TI.TaskInstanceKey, try.TI.TryNumber)
		fmt.Fprintf(w, "--- %s (try %d): %s ---\n", try.TI.TaskID, try.TI.TryNumber, stateName(out.State))
		if f, err := os.Open(path); err == nil {
			io.Copy(w, f)
			f.Close()
		}
	}
}

// runToEnd runs the given runs with a private engine until each one
// finishes, printing each try's log.
func runToEnd(ctx context.Context, env *app.Environment, refs []scheduler.RunRef, logs io.Writer) error {
	remaining := map[scheduler.RunRef]bool{}
	for _, ref := range refs {
		remaining[ref] = true
	}
	done := make(chan struct{})
	var mu sync.Mutex
	engine, err := env.NewEngine(app.EngineOptions{
		OnlyRuns:  refs,
		OnTryDone: logPrinter(env, logs),
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
		return nil
	case <-ctx.Done():
		return windsock.Errorf(windsock.EINVALID, "interrupted before the run finished")
	}
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
	var reset, rerunFailed, yes bool
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
	return cmd
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
