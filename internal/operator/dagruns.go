package operator

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// DagRunTrigger creates runs of other DAGs the way the REST API's trigger
// does (the target's definition, a clash check, the scheduler told at
// once), clears them and reads their state. The composition root
// implements it over the store and the scheduler; operators only see this.
type DagRunTrigger interface {
	// TriggerDagRun creates a queued manual run. It returns an error with
	// code windsock.ENOTFOUND when the DAG does not exist, and a
	// *RunExistsError when the DAG already has a run with that id or
	// logical date.
	TriggerDagRun(ctx context.Context, p TriggerParams) (*windsock.DagRun, error)
	// ClearDagRun clears every task instance of a run and queues it again,
	// as Airflow's dag.clear over the run's logical date does.
	ClearDagRun(ctx context.Context, dagID, runID string) error
	// DagRunState returns a run's current state.
	DagRunState(ctx context.Context, dagID, runID string) (windsock.DagRunState, error)
}

// TriggerParams describe a run to trigger.
type TriggerParams struct {
	DagID       string
	RunID       string
	LogicalDate time.Time
	Conf        map[string]any
}

// RunExistsError is Airflow's DagRunAlreadyExists: the run found in the
// way, which TriggerDagRunOperator clears with reset_dag_run.
type RunExistsError struct {
	Run *windsock.DagRun
}

func (e *RunExistsError) Error() string {
	return fmt.Sprintf("DAGRun with DAG ID: '%s' and DAGRun ID: '%s' already exists", e.Run.DagID, e.Run.RunID)
}
