package scheduler

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/schedule"
	"github.com/windsock/windsock/internal/scheduler/decide"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// NewRun describes a DAG run to create.
type NewRun struct {
	RunType     windsock.RunType
	RunID       string // default: Airflow's "<run_type>__<logical date>"
	LogicalDate time.Time
	// Interval is the run's data interval; for manual runs nil means the
	// timetable's inferred manual interval.
	Interval *schedule.DataInterval
	Conf     map[string]any
	Note     string
	// State is the run's initial state: queued (default) or running.
	State windsock.DagRunState
	// DagHash identifies the definition; computed when empty.
	DagHash string
	Now     time.Time
}

// CreateRun inserts a DAG run and one task instance per task. ECONFLICT
// when the DAG already has a run with that id or logical date.
func CreateRun(ctx context.Context, q store.Queries, d *windsock.DAG, g *decide.Graph, nr NewRun) (*windsock.DagRun, error) {
	if nr.RunType == "" {
		nr.RunType = windsock.RunTypeManual
	}
	if nr.State == "" {
		nr.State = windsock.DagRunQueued
	}
	logical := nr.LogicalDate.UTC()
	if nr.RunID == "" {
		nr.RunID = windsock.RunID(nr.RunType, logical)
	}
	if err := checkRunID(nr.RunID); err != nil {
		return nil, err
	}
	if nr.Interval == nil {
		tt, err := timetable(d)
		if err != nil {
			return nil, err
		}
		iv := tt.ManualInterval(logical)
		nr.Interval = &iv
	}
	if nr.DagHash == "" {
		nr.DagHash = dagHash(d)
	}
	now := nr.Now.UTC()
	start, end := nr.Interval.Start.UTC(), nr.Interval.End.UTC()
	run := &windsock.DagRun{
		DagID: d.DagID, RunID: nr.RunID, LogicalDate: logical, QueuedAt: &now, State: nr.State,
		RunType: nr.RunType, ExternalTrigger: nr.RunType == windsock.RunTypeManual, Conf: nr.Conf,
		DataIntervalStart: &start, DataIntervalEnd: &end, DagHash: nr.DagHash, Note: nr.Note, UpdatedAt: now,
	}
	if nr.State == windsock.DagRunRunning {
		run.StartDate = &now
	}
	tis := make([]*windsock.TaskInstance, 0, len(d.Tasks))
	for _, t := range d.Tasks {
		tis = append(tis, newTaskInstances(d, g, t, nr.RunID, now)...)
	}
	if err := q.DagRunCreate(ctx, &store.DagRunCreateParams{Run: run, TaskInstances: tis}); err != nil {
		return nil, err
	}
	return run, nil
}

// NewTaskInstance returns the first (state none) task instance of a task
// in a run; for a mapped task, its unexpanded one (map index -1).
func NewTaskInstance(d *windsock.DAG, g *decide.Graph, t *windsock.Task, runID string, now time.Time) *windsock.TaskInstance {
	return &windsock.TaskInstance{
		TaskInstanceKey: windsock.TaskInstanceKey{DagID: d.DagID, TaskID: t.TaskID, RunID: runID, MapIndex: -1},
		MaxTries:        t.Retries, Pool: t.Pool, PoolSlots: t.PoolSlots, Queue: t.Queue,
		PriorityWeight: g.PriorityWeight(t.TaskID), Operator: t.OperatorClass, UpdatedAt: now,
	}
}

// checkRunID applies the one id rule the API also uses (Airflow's for run
// ids: at most 250 characters, no control characters, no "." or ".." and no
// path separators that would break log paths).
func checkRunID(id string) error {
	return windsock.CheckPathID("dag_run_id", id)
}

// timetable returns the DAG's timetable in its time zone.
func timetable(d *windsock.DAG) (schedule.Timetable, error) {
	loc := time.UTC
	if d.Timezone != "" {
		l, err := time.LoadLocation(d.Timezone)
		if err != nil {
			return nil, fmt.Errorf("dag %s: time zone %q: %w", d.DagID, d.Timezone, err)
		}
		loc = l
	}
	return schedule.New(d.Schedule, loc)
}

// dagHash identifies a DAG definition, as dag_run.dag_hash does.
func dagHash(d *windsock.DAG) string {
	b, _ := json.Marshal(d) // a DAG of plain values always encodes
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// ExistingRun returns the run of dagID that a new run with runID at
// logical would clash with: the run with that id, else the run at that
// logical date (both are unique per DAG, as Airflow's find_duplicate
// checks); nil when there is none. The REST API's trigger and
// TriggerDagRunOperator check with it before CreateRun.
func ExistingRun(ctx context.Context, q store.Queries, dagID, runID string, logical time.Time) (*windsock.DagRun, error) {
	run, err := q.DagRunGet(ctx, dagID, runID)
	switch windsock.ErrorCode(err) {
	case "":
		return run, nil
	case windsock.ENOTFOUND:
	default:
		return nil, err
	}
	at := logical.UTC()
	runs, err := q.DagRunList(ctx, &store.DagRunListParams{DagID: dagID, LogicalDateGTE: &at, LogicalDateLTE: &at, Limit: 1})
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return runs[0], nil
}
