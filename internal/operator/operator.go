package operator

import (
	"context"
	"errors"
	"io"
	"maps"
	"slices"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// Operator runs one try of a task. Implementations live in subpackages
// (bash, python, ...) and are put together in an explicit Registry by the
// composition root; nothing registers itself.
//
// Execute returns a Result on success. It returns ErrSkip (wrapped or not)
// to end the try as skipped, an error wrapping ErrFail to fail without
// retrying, and any other error to fail the try (retries apply). When ctx
// is cancelled (timeout, kill) Execute must stop promptly, killing any
// process it started, and return ctx's error.
type Operator interface {
	Execute(ctx context.Context, tc *Context) (*Result, error)
}

// FieldRenderer is an optional capability of an Operator that renders its
// task's templated fields itself (a Python task renders them in Python):
// tasks render and the Rendered Template view ask it rather than
// Windsock's own rendering.
type FieldRenderer interface {
	RenderFields(ctx context.Context, tc *Context) (map[string]any, error)
}

// TimeoutEnforcer is an optional capability of an Operator that enforces
// the task's execution_timeout itself, as Airflow does inside a Python
// task (SIGALRM, on_kill, then the failure or retry callbacks, once): the
// worker's own deadline comes TimeoutGrace later, as a backstop.
type TimeoutEnforcer interface {
	TimeoutGrace() time.Duration
}

// Func adapts a function to Operator.
type Func func(ctx context.Context, tc *Context) (*Result, error)

// Execute calls f.
func (f Func) Execute(ctx context.Context, tc *Context) (*Result, error) { return f(ctx, tc) }

// Sentinel outcomes of Execute.
var (
	// ErrSkip ends the try as skipped (Airflow's AirflowSkipException).
	ErrSkip = errors.New("task skipped")
	// ErrFail fails the try without retries (AirflowFailException, a
	// sensor's timeout).
	ErrFail = errors.New("task failed without retry")
)

// Context is what one try of a task sees.
type Context struct {
	DAG  *windsock.DAG
	Task *windsock.Task
	Run  *windsock.DagRun
	TI   *windsock.TaskInstance
	// Args are the operator's arguments with templated fields rendered;
	// for an instance of a mapped task, with its mapped arguments in.
	Args map[string]any
	// Mapped holds, for an instance of a mapped task, its own mapped
	// arguments as expanded (before rendering), as the Python task
	// runner's request passes them ("expand"); nil otherwise.
	Mapped map[string]any
	// Template is the Airflow template context (ds, ti, params, ...), as
	// JSON-friendly values, for operators that hand it on (python).
	Template map[string]any
	// Log is this try's log; secrets written to it are masked.
	Log io.Writer
	// Environ is the base environment for subprocesses (the operator adds
	// AIRFLOW_CTX_* variables and its own).
	Environ []string
	// EnvironmentID is the id of the environment running the try: part
	// of the mark its processes carry (process.TryMark).
	EnvironmentID string
	// DagsFolder resolves relative paths such as python_callable files.
	DagsFolder string
	// Connections resolves connection ids (environment first, then store).
	Connections ConnectionSource
	// Variables reads and writes variables as Variable.get/set/delete do
	// during a try (environment first, then store, for reads).
	Variables VariableSource
	// XCom pulls and pushes XCom values live during the try
	// (ti.xcom_pull, ti.xcom_push).
	XCom XComSource
	// Runs answers questions about other DAG runs (ExternalTaskSensor).
	Runs RunStateSource
	// FirstTryStart is when the current try first started: a sensor in
	// reschedule mode measures its timeout from it.
	FirstTryStart time.Time
	// Now is the clock.
	Now func() time.Time
	// DagRuns creates and follows runs of other DAGs
	// (TriggerDagRunOperator); nil where no store is at hand.
	DagRuns DagRunTrigger
}

// Connection is a resolved connection with its secrets in clear.
type Connection struct {
	ConnID, ConnType, Description, Host, Schema, Login, Password string
	Port                                                         int
	// Extra is the connection's extra JSON object, decoded.
	Extra map[string]any
	// ExtraText is the extra as stored (JSON text, "" when none), for
	// code that hands the connection on as Airflow's Connection.extra.
	ExtraText string
}

// VariableSource reads and writes variables. Get returns an error with
// code windsock.ENOTFOUND when the variable exists nowhere; reading a
// variable registers its secrets with the try's log masker.
type VariableSource interface {
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value, description string) error
	Delete(ctx context.Context, key string) error
}

// XComSource reads and writes XCom values while a try runs.
type XComSource interface {
	// XComPull returns the values matching p: grouped by task in the
	// order of p.TaskIDs (by task id when nil), then by map index in the
	// order of p.MapIndexes (ascending when nil); with IncludePriorDates,
	// a task's values from later runs come before earlier ones.
	XComPull(ctx context.Context, p *XComPullParams) ([]XComValue, error)
	// XComPush stores value under key for the running try at once, as
	// Airflow's ti.xcom_push does (it stays even if the try then fails;
	// the next try clears it).
	XComPush(ctx context.Context, key string, value any) error
}

// XComPullParams select XCom values. Zero values mean "the running try's"
// for DagID and RunID, and "any" for TaskIDs, MapIndexes and Key.
type XComPullParams struct {
	DagID, RunID string
	TaskIDs      []string
	MapIndexes   []int
	Key          string
	// IncludePriorDates also reads the runs of the DAG with an earlier
	// logical date than the running try's run.
	IncludePriorDates bool
}

// XComValue is one pulled value.
type XComValue struct {
	TaskID   string `json:"task_id"`
	MapIndex int    `json:"map_index"`
	Key      string `json:"key"`
	Value    any    `json:"value"`
}

// ConnectionSource returns a connection by id; an error with code
// windsock.ENOTFOUND when there is none.
type ConnectionSource interface {
	Connection(ctx context.Context, connID string) (*Connection, error)
}

// RunStateSource reports the states of other DAGs' task instances and runs
// at a logical date (for ExternalTaskSensor).
type RunStateSource interface {
	// DagRunState returns the state of dagID's run at logicalDate, "" when
	// there is none.
	DagRunState(ctx context.Context, dagID string, logicalDate time.Time) (windsock.DagRunState, error)
	// TaskStates returns task id -> state for dagID's run at logicalDate
	// (only the given task ids when set); empty when there is no run.
	TaskStates(ctx context.Context, dagID string, logicalDate time.Time, taskIDs []string) (map[string]windsock.TaskInstanceState, error)
}

// Result is what a successful try produced.
type Result struct {
	// ReturnValue becomes the return_value XCom when the task has
	// do_xcom_push; HasReturn says whether there is one (nil is a value).
	ReturnValue any
	HasReturn   bool
	// XComs are further values pushed under their keys.
	XComs map[string]any
	// Branch, when non-nil, lists the downstream task ids to follow; the
	// other direct downstream tasks are skipped (BranchPythonOperator).
	Branch []string
	// SkipDownstream skips every downstream task (ShortCircuitOperator);
	// with IgnoreDownstreamTriggerRules false only direct downstream tasks
	// are skipped and the rest follow their trigger rules.
	SkipDownstream               bool
	IgnoreDownstreamTriggerRules bool
	// Skip lists further tasks of the run the operator skipped itself
	// (Airflow's SkipMixin.skip), when they have not started.
	Skip []string
	// RescheduleAt, when set, ends a sensor's poke in reschedule mode: the
	// slot is freed and the task runs again at that time.
	RescheduleAt *time.Time
	// RenderedFields, when set, are the task's templated fields as the
	// operator rendered them itself (a Python task renders in Python):
	// they are stored as the try's rendered fields instead of Windsock's
	// own rendering. Execute may return a Result holding only these
	// alongside an error, since a try that fails after rendering keeps
	// them too.
	RenderedFields map[string]any
	// CallbacksRan says the operator ran the task's callback for the
	// outcome itself (a Python task calls them in its own process, as
	// Airflow does), so the worker must not run them again. Like
	// RenderedFields it may come alongside an error.
	CallbacksRan bool
	// RenderedMapIndex is the instance's map_index_template as the
	// operator rendered it (a Python task renders it in Python, after
	// execute); it may come alongside an error too.
	RenderedMapIndex string
	// OutletExtras are the extras a successful try set on the dataset
	// events it emits, by dataset URI (Airflow 2.10's
	// outlet_events[Dataset(uri)].extra).
	OutletExtras map[string]map[string]any
}

// Registry maps operator names (Spec.Name) to implementations.
type Registry struct {
	ops map[string]Operator
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{ops: map[string]Operator{}} }

// Add registers op under name, replacing any earlier one.
func (r *Registry) Add(name string, op Operator) { r.ops[name] = op }

// Names returns the registered names, sorted.
func (r *Registry) Names() []string {
	return slices.Sorted(maps.Keys(r.ops))
}

// Get returns the operator registered under name.
func (r *Registry) Get(name string) (Operator, bool) {
	op, ok := r.ops[name]
	return op, ok
}
