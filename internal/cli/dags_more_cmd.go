package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagsDeleteCommand is Airflow's `dags delete`: every record of a DAG
// goes (its file, if still there, brings the DAG back on the next parse).
func (r *runner) dagsDeleteCommand() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "delete DAG_ID",
		Short: "Delete all DB records related to the specified DAG",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if !yes && !r.confirm("This will drop all existing records related to the specified DAG. Proceed? (y/n)", "y", true) {
				_, err := fmt.Fprintln(r.io.Stdout, "Cancelled")
				return err
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if _, err := env.Store.DAGGet(ctx, a[0]); err != nil {
					if windsock.ErrorCode(err) == windsock.ENOTFOUND {
						return windsock.Errorf(windsock.ENOTFOUND, "Dag id %s not found", a[0])
					}
					return err
				}
				runs, err := env.Store.DagRunList(ctx, &store.DagRunListParams{DagID: a[0]})
				if err != nil {
					return err
				}
				tis, err := env.Store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: a[0]})
				if err != nil {
					return err
				}
				if err := env.Store.DAGDelete(ctx, a[0]); err != nil {
					return err
				}
				// The dag row, its runs and their task instances.
				_, err = fmt.Fprintf(r.io.Stdout, "Removed %d record(s)\n", 1+len(runs)+len(tis))
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not prompt to confirm")
	return cmd
}

// dagsNextExecutionCommand is Airflow's `dags next-execution`: the logical
// date of the DAG's next scheduled run, and with -n of the ones after it.
func (r *runner) dagsNextExecutionCommand() *cobra.Command {
	var n int
	cmd := &cobra.Command{
		Use:   "next-execution DAG_ID",
		Short: "Get the next logical datetimes of a DAG",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if n < 1 {
				return usageError{windsock.Errorf(windsock.EINVALID, "-n/--num-executions: invalid positive int value: '%d'", n)}
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				d, _, err := loadDAGGraph(ctx, env, a[0])
				if err != nil {
					return err
				}
				m, err := env.Store.DAGGet(ctx, a[0])
				if err != nil {
					return err
				}
				if m.IsPaused {
					fmt.Fprintln(r.io.Stderr, "[INFO] Please be reminded this DAG is PAUSED now.")
				}
				tt, err := schedule.New(d.Schedule, dagLocation(d))
				if err != nil {
					return err
				}
				iv, err := nextInterval(ctx, env.Store, d, m, tt, env.Clock())
				if err != nil {
					return err
				}
				for i := 0; i < n; i++ {
					if i > 0 && iv != nil {
						// Unrestricted, as Airflow's next_dagrun_info(restricted=False).
						info, ok := tt.NextRun(iv, schedule.Restriction{Catchup: true}, env.Clock())
						iv = nil
						if ok {
							iv = &info.DataInterval
						}
					}
					if iv == nil {
						fmt.Fprintln(r.io.Stderr, "[WARN] No following schedule can be found. This DAG may have schedule interval '@once' or `None`.")
						fmt.Fprintln(r.io.Stdout, "None")
						continue
					}
					fmt.Fprintln(r.io.Stdout, windsock.ISOFormat(iv.Start))
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVarP(&n, "num-executions", "n", 1, "the number of next logical datetimes to show")
	return cmd
}

// nextInterval is the data interval of a DAG's next scheduled run: the
// one the scheduler recorded on the dag row, or, before any scheduler has
// (the CLI only parsed the DAG), the one after its last scheduled run as
// the scheduler would compute it. Nil when there is none.
func nextInterval(ctx context.Context, q store.Queries, d *windsock.DAG, m *windsock.DAGModel, tt schedule.Timetable, now time.Time) (*schedule.DataInterval, error) {
	if m.NextDagrunDataIntervalStart != nil && m.NextDagrunDataIntervalEnd != nil {
		return &schedule.DataInterval{Start: *m.NextDagrunDataIntervalStart, End: *m.NextDagrunDataIntervalEnd}, nil
	}
	last, err := q.DagRunList(ctx, &store.DagRunListParams{
		DagID: d.DagID, RunTypes: []windsock.RunType{windsock.RunTypeScheduled}, OrderBy: "-execution_date", Limit: 1,
	})
	if err != nil {
		return nil, err
	}
	var lastIv *schedule.DataInterval
	if len(last) > 0 && last[0].DataIntervalStart != nil && last[0].DataIntervalEnd != nil {
		lastIv = &schedule.DataInterval{Start: *last[0].DataIntervalStart, End: *last[0].DataIntervalEnd}
	}
	info, ok := tt.NextRun(lastIv, schedule.Restriction{Earliest: d.StartDate, Latest: d.EndDate, Catchup: d.Catchup}, now)
	if !ok {
		return nil, nil
	}
	return &info.DataInterval, nil
}

// dagDetail is the field table of `dags details`: Airflow 2.10's DAG
// schema (the REST API's DAG), in its order.
type dagDetail struct {
	DagID                       string     `json:"dag_id"`
	DagDisplayName              string     `json:"dag_display_name"`
	RootDagID                   *string    `json:"root_dag_id"`
	IsPaused                    bool       `json:"is_paused"`
	IsActive                    bool       `json:"is_active"`
	IsSubdag                    bool       `json:"is_subdag"`
	LastParsedTime              *string    `json:"last_parsed_time"`
	LastPickled                 *string    `json:"last_pickled"`
	LastExpired                 *string    `json:"last_expired"`
	SchedulerLock               *bool      `json:"scheduler_lock"`
	PickleID                    *string    `json:"pickle_id"`
	DefaultView                 string     `json:"default_view"`
	Fileloc                     string     `json:"fileloc"`
	FileToken                   string     `json:"file_token"`
	Owners                      []string   `json:"owners"`
	Description                 *string    `json:"description"`
	ScheduleInterval            any        `json:"schedule_interval"`
	TimetableDescription        string     `json:"timetable_description"`
	Tags                        []tagValue `json:"tags"`
	MaxActiveTasks              int        `json:"max_active_tasks"`
	MaxActiveRuns               int        `json:"max_active_runs"`
	MaxConsecutiveFailedDagRuns int        `json:"max_consecutive_failed_dag_runs"`
	HasTaskConcurrencyLimits    bool       `json:"has_task_concurrency_limits"`
	HasImportErrors             bool       `json:"has_import_errors"`
	NextDagrun                  *string    `json:"next_dagrun"`
	NextDagrunDataIntervalStart *string    `json:"next_dagrun_data_interval_start"`
	NextDagrunDataIntervalEnd   *string    `json:"next_dagrun_data_interval_end"`
	NextDagrunCreateAfter       *string    `json:"next_dagrun_create_after"`
}

type tagValue struct {
	Name string `json:"name"`
}

func isoPtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := windsock.ISOFormat(*t)
	return &s
}

func newDagDetail(m *windsock.DAGModel) dagDetail {
	d := dagDetail{
		DagID: m.DagID, DagDisplayName: m.DagID, IsPaused: m.IsPaused, IsActive: m.IsActive,
		LastParsedTime: isoPtr(m.LastParsedTime), DefaultView: m.DefaultView, Fileloc: m.Fileloc,
		Owners: []string{}, TimetableDescription: m.TimetableDescription, Tags: []tagValue{},
		MaxActiveTasks: m.MaxActiveTasks, MaxActiveRuns: m.MaxActiveRuns,
		HasTaskConcurrencyLimits: m.HasTaskConcurrencyLimits, HasImportErrors: m.HasImportErrors,
		NextDagrun: isoPtr(m.NextDagrun), NextDagrunDataIntervalStart: isoPtr(m.NextDagrunDataIntervalStart),
		NextDagrunDataIntervalEnd: isoPtr(m.NextDagrunDataIntervalEnd), NextDagrunCreateAfter: isoPtr(m.NextDagrunCreateAfter),
	}
	if m.Description != "" {
		d.Description = &m.Description
	}
	for _, o := range strings.Split(m.Owners, ",") {
		if o = strings.TrimSpace(o); o != "" {
			d.Owners = append(d.Owners, o)
		}
	}
	for _, t := range m.Tags {
		d.Tags = append(d.Tags, tagValue{t})
	}
	if m.ScheduleInterval != "" {
		var v any
		if json.Unmarshal([]byte(m.ScheduleInterval), &v) == nil {
			d.ScheduleInterval = v
		}
	}
	return d
}

// dagsDetailsCommand is Airflow's `dags details`: the DAG's row, as a
// property table or, in json and yaml, as one object.
func (r *runner) dagsDetailsCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "details DAG_ID",
		Short: "Get DAG details given a DAG id",
		Args:  args(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if _, err := syncDAGs(ctx, env); err != nil {
					return err
				}
				m, err := env.Store.DAGGet(ctx, a[0])
				if windsock.ErrorCode(err) == windsock.ENOTFOUND {
					return windsock.Errorf(windsock.ENOTFOUND, "DAG: %s does not exist in 'dag' table", a[0])
				}
				if err != nil {
					return err
				}
				detail := newDagDetail(m)
				if output == formatJSON || output == formatYAML {
					return printRows(r.io.Stdout, output, []dagDetail{detail})
				}
				return printRows(r.io.Stdout, output, propertyRows(detail))
			})
		},
	}
	outputFlag(cmd, &output)
	return cmd
}

type propertyRow struct {
	PropertyName  string `json:"property_name"`
	PropertyValue any    `json:"property_value"`
}

// propertyRows lists a struct's JSON fields as name/value rows, in order.
func propertyRows(v any) []propertyRow {
	t := reflect.TypeOf(v)
	var cols []string
	for i := 0; i < t.NumField(); i++ {
		if name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); name != "" && name != "-" {
			cols = append(cols, name)
		}
	}
	b, _ := json.Marshal(v)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	rows := make([]propertyRow, len(cols))
	for i, c := range cols {
		val := m[c]
		if val == nil {
			val = "None"
		}
		rows[i] = propertyRow{c, val}
	}
	return rows
}

// dagsReserializeCommand is Airflow's `dags reserialize`: drop every
// stored definition and write them again from the DAG folder.
func (r *runner) dagsReserializeCommand() *cobra.Command {
	var clearOnly bool
	cmd := &cobra.Command{
		Use:   "reserialize",
		Short: "Reserialize all DAGs by parsing the DAG files",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if _, err := env.Store.SerializedDAGClear(ctx); err != nil {
					return err
				}
				if clearOnly {
					return nil
				}
				_, err := syncDAGs(ctx, env)
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&clearOnly, "clear-only", "C", false, "only clear the serialized DAGs, do not reserialize them")
	cmd.Flags().StringP("subdir", "S", "", "accepted for compatibility: the DAG folder is core.dags_folder")
	return cmd
}

// tasksFailedDepsCommand is Airflow's `tasks failed-deps`: which of the
// scheduler's dependencies keep a task instance from being queued.
func (r *runner) tasksFailedDepsCommand() *cobra.Command {
	var mapIndex int
	cmd := &cobra.Command{
		Use:   "failed-deps DAG_ID TASK_ID LOGICAL_DATE_OR_RUN_ID",
		Short: "Returns the unmet dependencies for a task instance",
		Args:  args(cobra.ExactArgs(3)),
		RunE: func(cmd *cobra.Command, a []string) error {
			ctx := cmd.Context()
			return r.withTaskInstance(ctx, a, mapIndex, func(env *app.Environment, d *windsock.DAG, ti *windsock.TaskInstance) error {
				failed, err := failedDeps(ctx, env.Store, d, ti, env.Clock())
				if err != nil {
					return err
				}
				if len(failed) == 0 {
					_, err = fmt.Fprintln(r.io.Stdout, "Task instance dependencies are all met.")
					return err
				}
				for _, f := range failed {
					fmt.Fprintf(r.io.Stdout, "Dependencies not met for %s, dependency '%s', FAILED: %s\n", tiRepr(ti), f.Name, f.Reason)
				}
				return nil
			})
		},
	}
	cmd.Flags().IntVar(&mapIndex, "map-index", -1, "mapped task index")
	return cmd
}

// failedDeps adds to the scheduler's checks Airflow's "Task Instance
// State" dependency, which a task instance past scheduling fails.
func failedDeps(ctx context.Context, q store.Queries, d *windsock.DAG, ti *windsock.TaskInstance, now time.Time) ([]scheduler.FailedDependency, error) {
	if ti.State != windsock.TaskStateNone && ti.State != windsock.TaskStateScheduled && ti.State != windsock.TaskStateUpForRetry {
		return []scheduler.FailedDependency{{Name: "Task Instance State", Reason: fmt.Sprintf(
			"Task is in the '%s' state which is not a valid state for execution. The task must be cleared in order to be run.", ti.State)}}, nil
	}
	return scheduler.FailedDependencies(ctx, q, d, decide.NewGraph(d), ti, now)
}

// tiRepr is how Airflow prints a task instance.
func tiRepr(ti *windsock.TaskInstance) string {
	state := string(ti.State)
	if state == "" {
		state = "None"
	}
	s := fmt.Sprintf("<TaskInstance: %s.%s %s [%s]", ti.DagID, ti.TaskID, ti.RunID, state)
	if ti.MapIndex >= 0 {
		s += fmt.Sprintf(" map_index=%d", ti.MapIndex)
	}
	return s + ">"
}

// dagsListJobsCommand is Airflow's dags list-jobs: the newest jobs first,
// each field as Python's str() of the job's attribute ("None" included).
func (r *runner) dagsListJobsCommand() *cobra.Command {
	var dagID, state, output string
	var limit int
	cmd := &cobra.Command{
		Use:   "list-jobs",
		Short: "List the jobs (schedulers, DAG processors, workers), newest first",
		Args:  args(cobra.NoArgs),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output); err != nil {
				return err
			}
			if limit < 0 {
				return usageError{fmt.Errorf("argument --limit: must be 0 or more")}
			}
			ctx := cmd.Context()
			return r.withEnv(ctx, func(env *app.Environment) error {
				if dagID != "" {
					if _, err := env.Store.DAGGet(ctx, dagID); err != nil {
						if windsock.ErrorCode(err) == windsock.ENOTFOUND {
							return windsock.Errorf(windsock.ENOTFOUND, "DAG: %s does not exist in 'dag' table", dagID)
						}
						return err
					}
				}
				jobs, err := env.Store.JobList(ctx, &store.JobListParams{State: state})
				if err != nil {
					return err
				}
				jobs = slices.DeleteFunc(jobs, func(j *windsock.Job) bool { return dagID != "" && j.DagID != dagID })
				slices.SortStableFunc(jobs, func(a, b *windsock.Job) int { return b.StartDate.Compare(a.StartDate) })
				if limit > 0 && len(jobs) > limit {
					jobs = jobs[:limit]
				}
				recs := make([]record, len(jobs))
				for i, j := range jobs {
					recs[i] = newRecord("dag_id", strOrNone(j.DagID), "state", strOrNone(j.State), "job_type", j.JobType,
						"start_date", j.StartDate, "end_date", timeOrNone(j.EndDate))
				}
				return printRecords(r.io.Stdout, output, recs)
			})
		},
	}
	cmd.Flags().StringVarP(&dagID, "dag-id", "d", "", "only the jobs of this DAG")
	cmd.Flags().StringVar(&state, "state", "", "only jobs in this state (running, success, failed...)")
	cmd.Flags().IntVar(&limit, "limit", 0, "return at most this many jobs (0: all)")
	outputFlag(cmd, &output)
	return cmd
}

// strOrNone is Python's str() of a nullable text column.
func strOrNone(s string) any {
	if s == "" {
		return "None"
	}
	return s
}

// timeOrNone is Python's str() of a nullable datetime column.
func timeOrNone(t *time.Time) any {
	if t == nil {
		return "None"
	}
	return *t
}
