package cli

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// loadDAGGraph returns a DAG's definition and graph after parsing the DAG
// folder.
func loadDAGGraph(ctx context.Context, env *app.Environment, dagID string) (*windsock.DAG, *decide.Graph, error) {
	if _, err := syncDAGs(ctx, env); err != nil {
		return nil, nil, err
	}
	d, err := loadDAG(ctx, env.Store, dagID)
	if err != nil {
		return nil, nil, err
	}
	return d, decide.NewGraph(d), nil
}

func (r *runner) dagsTriggerCommand() *cobra.Command {
	var conf, date, runID, output, replaceMicro string
	cmd := &cobra.Command{
		Use:   "trigger DAG_ID",
		Short: "Create a manual DAG run (the scheduler runs it)",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			c, err := parseConf(conf)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				d, g, err := loadDAGGraph(ctx, env, a[0])
				if err != nil {
					return err
				}
				logical := env.Clock().UTC()
				if date != "" {
					if logical, err = parseDate(date, dagLocation(d)); err != nil {
						return err
					}
				}
				if zeroMicroseconds(replaceMicro) {
					logical = logical.Truncate(time.Second)
				}
				run, err := scheduler.CreateRun(ctx, env.Store, d, g, scheduler.NewRun{
					RunType: windsock.RunTypeManual, RunID: runID, LogicalDate: logical, Conf: c, Now: env.Clock(),
				})
				if err != nil {
					return err
				}
				app.NotifyRuns{Env: env}.RunChanged(run.DagID, run.RunID) // a running scheduler starts it at once
				return dagTriggerFields.print(r.io.Stdout, output, []*windsock.DagRun{run})
			})
		},
	}
	cmd.Flags().StringVarP(&conf, "conf", "c", "", "JSON object passed to the run as dag_run.conf")
	cmd.Flags().StringVarP(&date, "exec-date", "e", "", "logical date of the run (default: now)")
	cmd.Flags().StringVarP(&runID, "run-id", "r", "", "run id (default: manual__<logical date>)")
	cmd.Flags().StringVar(&replaceMicro, "replace-microseconds", "true", "whether microseconds of the logical date should be zeroed")
	outputFlag(cmd, &output)
	return cmd
}

// zeroMicroseconds reads dags trigger's --replace-microseconds. Airflow
// takes the text as a Python truth value, so only the empty text turns it
// off there; "false" and "0" also do here, which is what a script that
// passes them means.
func zeroMicroseconds(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "0", "no", "n", "f":
		return false
	}
	return true
}

// parseConf reads a -c/--conf JSON object.
func parseConf(s string) (map[string]any, error) {
	if s == "" {
		return nil, nil
	}
	var c map[string]any
	if err := windsock.DecodeJSON([]byte(s), &c); err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "--conf must be a JSON object: %v", err)
	}
	return c, nil
}

func (r *runner) dagsListRunsCommand() *cobra.Command {
	var dagID, state, output, start, end string
	var noBackfill bool
	cmd := &cobra.Command{
		Use:   "list-runs",
		Short: "List a DAG's runs",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			if dagID == "" {
				return usageError{fmt.Errorf("-d/--dag-id is required")}
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if _, err := env.Store.DAGGet(ctx, dagID); err != nil {
					return err
				}
				p := &store.DagRunListParams{DagID: dagID, OrderBy: "-execution_date"}
				if state != "" {
					p.States = []windsock.DagRunState{windsock.DagRunState(strings.ToLower(state))}
				}
				if noBackfill {
					p.RunTypes = []windsock.RunType{windsock.RunTypeManual, windsock.RunTypeScheduled, windsock.RunTypeDatasetTriggered}
				}
				// As Airflow's DagRun.find: both bounds are on the logical
				// (execution) date and inclusive.
				for _, b := range []struct {
					flag, text string
					dst        **time.Time
				}{{"--start-date", start, &p.LogicalDateGTE}, {"--end-date", end, &p.LogicalDateLTE}} {
					if b.text == "" {
						continue
					}
					t, err := parseDate(b.text, time.UTC)
					if err != nil {
						return usageError{fmt.Errorf("argument %s: %v", b.flag, err)}
					}
					*b.dst = &t
				}
				runs, err := env.Store.DagRunList(ctx, p)
				if err != nil {
					return err
				}
				return dagRunListFields.print(r.io.Stdout, output, runs)
			})
		},
	}
	cmd.Flags().StringVarP(&dagID, "dag-id", "d", "", "the DAG")
	cmd.Flags().StringVar(&state, "state", "", "only runs in this state (queued, running, success, failed)")
	cmd.Flags().BoolVar(&noBackfill, "no-backfill", false, "leave out the runs of backfills")
	cmd.Flags().StringVarP(&start, "start-date", "s", "", "only runs with a logical date on or after this")
	cmd.Flags().StringVarP(&end, "end-date", "e", "", "only runs with a logical date on or before this")
	outputFlag(cmd, &output)
	return cmd
}

// clearTargets returns the DAGs tasks clear acts on: the one named, or,
// with -R/--dag-regex, every DAG whose id the expression matches (searched,
// as Airflow's re.search in DagBag filtering); none matching is an error.
func clearTargets(ctx context.Context, env *app.Environment, dagID string, asRegex bool) ([]*windsock.DAG, error) {
	if !asRegex {
		d, _, err := loadDAGGraph(ctx, env, dagID)
		if err != nil {
			return nil, err
		}
		return []*windsock.DAG{d}, nil
	}
	re, err := regexp.Compile(dagID)
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "bad DAG id regex: %v", err)
	}
	if _, err := syncDAGs(ctx, env); err != nil {
		return nil, err
	}
	models, err := env.Store.DAGList(ctx, &store.DAGListParams{OnlyActive: true})
	if err != nil {
		return nil, err
	}
	var dags []*windsock.DAG
	for _, m := range models {
		if !re.MatchString(m.DagID) {
			continue
		}
		d, err := loadDAG(ctx, env.Store, m.DagID)
		if err != nil {
			return nil, err
		}
		dags = append(dags, d)
	}
	if len(dags) == 0 {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "no DAG matches %q", dagID)
	}
	return dags, nil
}

// findRun returns a DAG's run by run id or logical date.
func findRun(ctx context.Context, q store.Queries, d *windsock.DAG, dateOrRunID string) (*windsock.DagRun, error) {
	if run, err := q.DagRunGet(ctx, d.DagID, dateOrRunID); err == nil {
		return run, nil
	}
	t, err := parseDate(dateOrRunID, dagLocation(d))
	if err != nil {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "DAG %q has no run %q (not a run id, nor a date)", d.DagID, dateOrRunID)
	}
	runs, err := q.DagRunList(ctx, &store.DagRunListParams{DagID: d.DagID, LogicalDateGTE: &t, LogicalDateLTE: &t})
	if err != nil {
		return nil, err
	}
	if len(runs) == 0 {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "DAG %q has no run at %s", d.DagID, windsock.ISOFormat(t))
	}
	return runs[0], nil
}

// withRun opens the environment and finds a DAG's run by run id or
// logical date, for the commands that act on one run.
func (r *runner) withRun(ctx context.Context, dagID, dateOrRunID string, fn func(env *app.Environment, d *windsock.DAG, run *windsock.DagRun) error) error {
	return r.withEnv(ctx, func(env *app.Environment) error {
		d, err := loadDAG(ctx, env.Store, dagID)
		if err != nil {
			return err
		}
		run, err := findRun(ctx, env.Store, d, dateOrRunID)
		if err != nil {
			return err
		}
		return fn(env, d, run)
	})
}

// withTaskInstance runs fn with the task instance that the arguments
// DAG_ID TASK_ID LOGICAL_DATE_OR_RUN_ID and mapIndex name.
func (r *runner) withTaskInstance(ctx context.Context, a []string, mapIndex int, fn func(env *app.Environment, d *windsock.DAG, ti *windsock.TaskInstance) error) error {
	return r.withRun(ctx, a[0], a[2], func(env *app.Environment, d *windsock.DAG, run *windsock.DagRun) error {
		ti, err := env.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: d.DagID, TaskID: a[1], RunID: run.RunID, MapIndex: mapIndex})
		if err != nil {
			return err
		}
		return fn(env, d, ti)
	})
}

func (r *runner) dagsStateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "state DAG_ID LOGICAL_DATE_OR_RUN_ID",
		Short: "Print the state of a DAG run",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				d, _, err := loadDAGGraph(ctx, env, a[0])
				if err != nil {
					return err
				}
				// As Airflow's dag_state: "None" when there is no such run
				// (scripts poll before the run exists), the conf as
				// json.dumps writes it after the state.
				out := "None"
				run, err := findRun(ctx, env.Store, d, a[1])
				switch {
				case err == nil:
					out = string(run.State)
					if len(run.Conf) > 0 {
						out += ", " + pyvalue.Dumps(map[string]any(run.Conf))
					}
				case windsock.ErrorCode(err) != windsock.ENOTFOUND:
					return err
				default:
					if _, perr := parseDate(a[1], dagLocation(d)); perr != nil {
						return err // neither a run id nor a date: say so
					}
				}
				_, err = fmt.Fprintln(r.io.Stdout, out)
				return err
			})
		},
	}
}

func (r *runner) tasksStateCommand() *cobra.Command {
	var mapIndex int
	cmd := &cobra.Command{
		Use:   "state DAG_ID TASK_ID LOGICAL_DATE_OR_RUN_ID",
		Short: "Print the state of a task instance",
		Args:  args(cobra.ExactArgs(3)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withTaskInstance(ctx, a, mapIndex, func(_ *app.Environment, _ *windsock.DAG, ti *windsock.TaskInstance) error {
				st := string(ti.State)
				if st == "" {
					st = "None"
				}
				_, err := fmt.Fprintln(r.io.Stdout, st)
				return err
			})
		},
	}
	cmd.Flags().IntVar(&mapIndex, "map-index", -1, "the map index of a mapped task instance")
	return cmd
}

func (r *runner) tasksStatesForDagRunCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "states-for-dag-run DAG_ID RUN_ID",
		Short: "List the task states of a DAG run",
		Args:  args(cobra.ExactArgs(2)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			return r.withRun(ctx, a[0], a[1], func(env *app.Environment, _ *windsock.DAG, run *windsock.DagRun) error {
				return printTaskStates(ctx, r.io.Stdout, output, env.Store, run)
			})
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

// printTaskStates prints the task instances of a run as Airflow's tasks
// states-for-dag-run does.
func printTaskStates(ctx context.Context, w io.Writer, format string, q store.Queries, run *windsock.DagRun) error {
	tis, err := q.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: run.DagID, RunID: run.RunID})
	if err != nil {
		return err
	}
	rows := make([]taskStateRow, len(tis))
	fs := taskStatesFields
	for i, ti := range tis {
		rows[i] = taskStateRow{TaskInstance: ti, logicalDate: run.LogicalDate}
		if ti.MapIndex >= 0 && len(fs) == len(taskStatesFields) {
			fs = append(slices.Clone(fs), taskStatesMapIndex)
		}
	}
	return fs.print(w, format, rows)
}

func (r *runner) tasksClearCommand() *cobra.Command {
	var taskRegex, start, end string
	var down, up, onlyFailed, onlyRunning, yes, dagRegex bool
	cmd := &cobra.Command{
		Use:   "clear DAG_ID",
		Short: "Clear task instances so that they run again",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				dags, err := clearTargets(ctx, env, a[0], dagRegex)
				if err != nil {
					return err
				}
				// One ClearParams per DAG: the task regex and the dates are
				// read against each DAG (its tasks, its time zone).
				params := make([]scheduler.ClearParams, 0, len(dags))
				for _, d := range dags {
					p := scheduler.ClearParams{Downstream: down, Upstream: up, OnlyFailed: onlyFailed, OnlyRunning: onlyRunning, Now: env.Clock().UTC()}
					if taskRegex != "" {
						re, err := regexp.Compile(taskRegex)
						if err != nil {
							return windsock.Errorf(windsock.EINVALID, "--task-regex: %v", err)
						}
						for _, t := range d.Tasks {
							if re.MatchString(t.TaskID) {
								p.TaskIDs = append(p.TaskIDs, t.TaskID)
							}
						}
						if len(p.TaskIDs) == 0 {
							if dagRegex {
								params = append(params, scheduler.ClearParams{}) // nothing of this DAG
								continue
							}
							return windsock.Errorf(windsock.ENOTFOUND, "no task of %s matches %q", d.DagID, taskRegex)
						}
					}
					for _, b := range []struct {
						s   string
						dst **time.Time
					}{{start, &p.StartDate}, {end, &p.EndDate}} {
						if b.s == "" {
							continue
						}
						t, err := parseDate(b.s, dagLocation(d))
						if err != nil {
							return err
						}
						*b.dst = &t
					}
					params = append(params, p)
				}
				skip := func(p scheduler.ClearParams) bool { return taskRegex != "" && len(p.TaskIDs) == 0 }
				if !yes {
					var preview []*windsock.TaskInstance
					for i, d := range dags {
						if skip(params[i]) {
							continue
						}
						p := params[i]
						p.DryRun = true
						tis, err := scheduler.ClearTaskInstances(ctx, env.Store, d, p)
						if err != nil {
							return err
						}
						preview = append(preview, tis...)
					}
					if len(preview) == 0 {
						_, err := fmt.Fprintln(r.io.Stdout, "No task instances to clear")
						return err
					}
					for _, ti := range preview {
						fmt.Fprintf(r.io.Stdout, "<TaskInstance: %s.%s %s [%s]>\n", ti.DagID, ti.TaskID, ti.RunID, stateName(ti.State))
					}
					fmt.Fprint(r.io.Stdout, "You are about to delete these task instances. Are you sure? [y/n] ")
					var answer string
					fmt.Fscanln(r.io.Stdin, &answer)
					if !strings.EqualFold(strings.TrimSpace(answer), "y") && !strings.EqualFold(strings.TrimSpace(answer), "yes") {
						_, err := fmt.Fprintln(r.io.Stdout, "\nCancelled, nothing was cleared")
						return err
					}
				}
				total := 0
				for i, d := range dags {
					if skip(params[i]) {
						continue
					}
					cleared, err := scheduler.ClearTaskInstances(ctx, env.Store, d, params[i])
					if err != nil {
						return err
					}
					total += len(cleared)
					announced := map[string]bool{}
					for _, ti := range cleared {
						if !announced[ti.RunID] {
							announced[ti.RunID] = true
							app.NotifyRuns{Env: env}.RunChanged(ti.DagID, ti.RunID)
						}
					}
				}
				_, err = fmt.Fprintf(r.io.Stdout, "%d task instance(s) cleared\n", total)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&taskRegex, "task-regex", "t", "", "only tasks whose id matches this regular expression")
	f.StringVarP(&start, "start-date", "s", "", "only runs with a logical date on or after this")
	f.StringVarP(&end, "end-date", "e", "", "only runs with a logical date on or before this")
	f.BoolVarP(&down, "downstream", "d", false, "also clear the tasks downstream")
	f.BoolVarP(&up, "upstream", "u", false, "also clear the tasks upstream")
	f.BoolVarP(&onlyFailed, "only-failed", "f", false, "only failed task instances")
	f.BoolVarP(&onlyRunning, "only-running", "r", false, "only running task instances")
	f.BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	f.BoolVarP(&dagRegex, "dag-regex", "R", false, "treat DAG_ID as a regular expression and clear every DAG it matches")
	// Airflow 2.10's subDAG switches: Windsock has no subDAGs, so there is
	// nothing to exclude and the flags change nothing, as in Airflow for a
	// DAG without subDAGs.
	f.BoolP("exclude-subdags", "x", false, "accepted for compatibility: Windsock has no subDAGs")
	f.BoolP("exclude-parentdag", "X", false, "accepted for compatibility: Windsock has no subDAGs")
	return cmd
}

func stateName(s windsock.TaskInstanceState) string {
	if s == windsock.TaskStateNone {
		return "None"
	}
	return string(s)
}
