package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"sort"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/pyvalue"
	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/taskrun"
	"github.com/windsock/windsock/internal/windsock"
)

// tryFor returns a try of a task for tasks test and tasks render: the task
// instance of an existing run at that date or run id, or a transient one in
// a transient manual run that is never stored. mapIndex picks one instance
// of a mapped task (-1 for an unmapped one).
func tryFor(ctx context.Context, env *app.Environment, dagID, taskID string, dateOrRunID string, mapIndex int) (*taskrun.Try, error) {
	d, g, err := loadDAGGraph(ctx, env, dagID)
	if err != nil {
		return nil, err
	}
	t := d.Task(taskID)
	if t == nil {
		return nil, windsock.Errorf(windsock.ENOTFOUND, "task %q not found in DAG %q", taskID, dagID)
	}
	if err := checkMapIndex(t, mapIndex); err != nil {
		return nil, err
	}
	if dateOrRunID != "" {
		if run, err := findRun(ctx, env.Store, d, dateOrRunID); err == nil {
			ti, err := env.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: dagID, TaskID: taskID, RunID: run.RunID, MapIndex: mapIndex})
			if err != nil {
				ti = scheduler.NewTaskInstance(d, g, t, run.RunID, env.Clock())
				ti.MapIndex = mapIndex
			}
			if ti.TryNumber == 0 {
				ti.TryNumber = 1
			}
			return &taskrun.Try{TI: ti, DAG: d, Run: run}, nil
		}
	}
	logical := env.Clock().UTC()
	if dateOrRunID != "" {
		if logical, err = parseDate(dateOrRunID, dagLocation(d)); err != nil {
			return nil, err
		}
	}
	runID := windsock.RunID(windsock.RunTypeManual, logical)
	run := &windsock.DagRun{DagID: dagID, RunID: runID, LogicalDate: logical, State: windsock.DagRunRunning, RunType: windsock.RunTypeManual, ExternalTrigger: true}
	if tt, err := schedule.New(d.Schedule, dagLocation(d)); err == nil {
		iv := tt.ManualInterval(logical)
		run.DataIntervalStart, run.DataIntervalEnd = &iv.Start, &iv.End
	}
	ti := scheduler.NewTaskInstance(d, g, t, runID, env.Clock())
	ti.TryNumber, ti.MapIndex = 1, mapIndex
	return &taskrun.Try{TI: ti, DAG: d, Run: run}, nil
}

// checkMapIndex refuses --map-index on an unmapped task, and its absence on
// a mapped one, whose instances each need their own arguments.
func checkMapIndex(t *windsock.Task, mapIndex int) error {
	switch {
	case t.Mapped() && mapIndex < 0:
		return usageError{fmt.Errorf("task %s is mapped: give --map-index", t.TaskID)}
	case !t.Mapped() && mapIndex >= 0:
		return usageError{fmt.Errorf("task %s is not mapped: --map-index must be -1", t.TaskID)}
	}
	return nil
}

func (r *runner) tasksTestCommand() *cobra.Command {
	var taskParams, envVars string
	var dryRun bool
	mapIndex := -1
	cmd := &cobra.Command{
		Use:   "test DAG_ID TASK_ID [LOGICAL_DATE_OR_RUN_ID]",
		Short: "Run one task in the foreground, ignoring dependencies and recording nothing",
		Args:  args(cobra.RangeArgs(2, 3)),
		RunE: func(cmd *cobra.Command, a []string) error {
			var extraParams map[string]any
			var envs map[string]string
			// As Airflow's task_test: -t/--task-params is a JSON object put
			// over the task's params; --env-vars a JSON object of
			// environment variables set for the run.
			if taskParams != "" {
				if err := windsock.DecodeJSON([]byte(taskParams), &extraParams); err != nil {
					return usageError{fmt.Errorf("argument -t/--task-params: must be a JSON object: %v", err)}
				}
			}
			if envVars != "" {
				if err := json.Unmarshal([]byte(envVars), &envs); err != nil {
					return usageError{fmt.Errorf("argument --env-vars: must be a JSON object of strings: %v", err)}
				}
			}
			ctx, stop := signalContext(cmd.Context())
			defer stop()
			return r.withEnv(ctx, func(env *app.Environment) error {
				when := ""
				if len(a) == 3 {
					when = a[2]
				}
				try, err := tryFor(ctx, env, a[0], a[1], when, mapIndex)
				if err != nil {
					return err
				}
				if extraParams != nil {
					t := try.DAG.Task(a[1])
					p := map[string]any{}
					if tp, ok := t.Args["params"].(map[string]any); ok {
						maps.Copy(p, tp)
					}
					maps.Copy(p, extraParams)
					args := maps.Clone(t.Args)
					if args == nil {
						args = map[string]any{}
					}
					args["params"] = p
					t.Args = args
				}
				if dryRun {
					// Airflow's ti.dry_run(): render the templates, run nothing.
					return r.printRendered(ctx, env, try)
				}
				now := env.Clock().UTC()
				try.TI.StartDate = &now
				runner := env.NewTaskRunner()
				if len(envs) > 0 {
					base := runner.Environ
					if base == nil {
						base = os.Environ()
					}
					base = slices.Clone(base)
					for k, v := range envs { // later entries win in exec
						base = append(base, k+"="+v)
					}
					runner.Environ = base
				}
				out := runner.Test(ctx, try, r.io.Stdout)
				fmt.Fprintf(r.io.Stdout, "Task %s: %s\n", a[1], stateName(out.State))
				if out.State == windsock.TaskStateFailed {
					return windsock.Errorf(windsock.EINVALID, "task %s failed: %v", a[1], out.Err)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&taskParams, "task-params", "t", "", "JSON object of params put over the task's params")
	f.StringVar(&envVars, "env-vars", "", "JSON object of environment variables set for the run")
	f.BoolVarP(&dryRun, "dry-run", "n", false, "render the templated fields and print them, without running the task")
	f.IntVar(&mapIndex, "map-index", -1, "the map index of one instance of a mapped task")
	return cmd
}

func (r *runner) tasksRenderCommand() *cobra.Command {
	mapIndex := -1
	cmd := &cobra.Command{
		Use:   "render DAG_ID TASK_ID LOGICAL_DATE_OR_RUN_ID",
		Short: "Print a task's templated fields rendered for a run",
		Args:  args(cobra.ExactArgs(3)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				try, err := tryFor(ctx, env, a[0], a[1], a[2], mapIndex)
				if err != nil {
					return err
				}
				return r.printRendered(ctx, env, try)
			})
		},
	}
	cmd.Flags().IntVar(&mapIndex, "map-index", -1, "the map index of one instance of a mapped task")
	return cmd
}

func (r *runner) tasksRunCommand() *cobra.Command {
	var force bool
	mapIndex := -1
	return func() *cobra.Command {
		cmd := &cobra.Command{
			Use:   "run DAG_ID TASK_ID LOGICAL_DATE_OR_RUN_ID",
			Short: "Run one task instance of an existing run and record its try, as an executor does",
			Args:  args(cobra.ExactArgs(3)),
			RunE: func(cmd *cobra.Command, a []string) error {
				ctx, stop := signalContext(cmd.Context())
				defer stop()
				return r.withRun(ctx, a[0], a[2], func(env *app.Environment, d *windsock.DAG, run *windsock.DagRun) error {
					if t := d.Task(a[1]); t != nil {
						if err := checkMapIndex(t, mapIndex); err != nil {
							return err
						}
					}
					ti, err := env.Store.TaskInstanceGet(ctx, windsock.TaskInstanceKey{DagID: d.DagID, TaskID: a[1], RunID: run.RunID, MapIndex: mapIndex})
					if err != nil {
						return err
					}
					ti, err = startTry(ctx, env, d, ti, force)
					if err != nil {
						return err
					}
					out, err := env.NewTaskRunner().Run(ctx, &taskrun.Try{TI: ti, DAG: d, Run: run})
					if err != nil {
						return err
					}
					fmt.Fprintf(r.io.Stdout, "Task %s try %d: %s\n", ti.TaskID, ti.TryNumber, stateName(out.State))
					if out.State == windsock.TaskStateFailed || out.State == windsock.TaskStateUpForRetry {
						return windsock.Errorf(windsock.EINVALID, "task %s failed: %v", ti.TaskID, out.Err)
					}
					return nil
				})
			},
		}
		cmd.Flags().BoolVarP(&force, "force", "f", false, "run even if the task instance already finished")
		cmd.Flags().IntVar(&mapIndex, "map-index", -1, "the map index of one instance of a mapped task")
		return cmd
	}()
}

// startTry moves a task instance to running for a try of this process.
func startTry(ctx context.Context, env *app.Environment, d *windsock.DAG, ti *windsock.TaskInstance, force bool) (*windsock.TaskInstance, error) {
	from := ti.State
	switch {
	case from == windsock.TaskStateRunning:
		return nil, windsock.Errorf(windsock.ECONFLICT, "task instance %s of run %s is already running", ti.TaskID, ti.RunID)
	case from.Finished() && !force:
		return nil, windsock.Errorf(windsock.ECONFLICT, "task instance %s of run %s already finished (%s); use --force to run it again", ti.TaskID, ti.RunID, from)
	}
	now := env.Clock().UTC()
	if from != windsock.TaskStateQueued && from != windsock.TaskStateUpForReschedule {
		ti.TryNumber++
	}
	if ti.TryNumber > ti.MaxTries+1 {
		if t := d.Task(ti.TaskID); t != nil {
			ti.MaxTries = ti.TryNumber - 1 + t.Retries
		}
	}
	host, _ := os.Hostname()
	pid := os.Getpid()
	ti.State, ti.StartDate, ti.EndDate, ti.Duration = windsock.TaskStateRunning, &now, nil, nil
	ti.Hostname, ti.PID, ti.LastHeartbeatAt, ti.NextRetryAt = host, &pid, &now, nil
	ok, err := env.Store.TaskInstanceUpdate(ctx, ti, from)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, windsock.Errorf(windsock.ECONFLICT, "task instance %s of run %s changed while starting; try again", ti.TaskID, ti.RunID)
	}
	return ti, nil
}

// printRendered prints a task's templated fields rendered for a try, as
// Airflow's tasks render prints them.
func (r *runner) printRendered(ctx context.Context, env *app.Environment, try *taskrun.Try) error {
	fields, err := env.NewTaskRunner().Render(ctx, try)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		// As Airflow prints it: str(value).
		fmt.Fprintf(r.io.Stdout, "\n# ----------------------------------------------------------\n# property: %s\n# ----------------------------------------------------------\n%s\n", n, pyvalue.Str(fields[n]))
	}
	return nil
}
