package windsock

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// DAG is a parsed and validated DAG definition: what a DAG file says, with
// defaults applied. Its JSON form is what the store keeps in serialized_dag,
// so every component (scheduler, workers, API) reads the same definition.
type DAG struct {
	DagID       string `json:"dag_id"`
	Fileloc     string `json:"fileloc"`
	Description string `json:"description,omitempty"`
	DocMD       string `json:"doc_md,omitempty"`
	// Owners are the distinct owners of the DAG's tasks, in task order.
	Owners []string `json:"owners"`
	// Schedule says when runs are created; see Schedule.
	Schedule Schedule `json:"schedule"`
	// Timezone is the IANA name the schedule is evaluated in.
	Timezone  string     `json:"timezone"`
	StartDate *time.Time `json:"start_date,omitempty"`
	EndDate   *time.Time `json:"end_date,omitempty"`
	Catchup   bool       `json:"catchup"`
	// MaxActiveRuns and MaxActiveTasks are resolved (never 0).
	MaxActiveRuns  int            `json:"max_active_runs"`
	MaxActiveTasks int            `json:"max_active_tasks"`
	DagrunTimeout  Duration       `json:"dagrun_timeout,omitempty"`
	Tags           []string       `json:"tags,omitempty"`
	Params         map[string]any `json:"params,omitempty"`
	// ParamSpecs document the params declared with Airflow's Param class
	// (description, JSON schema); their defaults are in Params.
	ParamSpecs                map[string]Param `json:"param_specs,omitempty"`
	IsPausedUponCreation      bool             `json:"is_paused_upon_creation"`
	RenderTemplateAsNativeObj bool             `json:"render_template_as_native_obj,omitempty"`
	// AccessControl maps role names to the DAG permissions they get
	// (can_read, can_edit, can_delete).
	AccessControl map[string][]string `json:"access_control,omitempty"`
	// Callbacks are the DAG's on_success_callback and on_failure_callback
	// as written (a shell command, or a mapping with command or url).
	Callbacks map[string]any `json:"callbacks,omitempty"`
	// DefaultArgs are the merged default_args as written, kept for display.
	DefaultArgs map[string]any `json:"default_args,omitempty"`
	Tasks       []*Task        `json:"tasks"`
	TaskGroups  []*TaskGroup   `json:"task_groups,omitempty"`
}

// Task returns the task with the given id, or nil.
func (d *DAG) Task(taskID string) *Task {
	for _, t := range d.Tasks {
		if t.TaskID == taskID {
			return t
		}
	}
	return nil
}

// Task is one task of a DAG definition, with its operator's arguments.
type Task struct {
	TaskID string `json:"task_id"`
	// Operator is the canonical short operator name ("bash", "python", ...).
	Operator string `json:"operator"`
	// OperatorClass is the Airflow class name shown to users ("BashOperator").
	OperatorClass string `json:"operator_class"`
	// Upstream lists the ids of the tasks this one depends on, sorted.
	Upstream                []string    `json:"upstream,omitempty"`
	TriggerRule             TriggerRule `json:"trigger_rule"`
	Owner                   string      `json:"owner"`
	Retries                 int         `json:"retries"`
	RetryDelay              Duration    `json:"retry_delay"`
	RetryExponentialBackoff bool        `json:"retry_exponential_backoff,omitempty"`
	MaxRetryDelay           Duration    `json:"max_retry_delay,omitempty"`
	// ExecutionTimeout of zero means no timeout.
	ExecutionTimeout  Duration   `json:"execution_timeout,omitempty"`
	DependsOnPast     bool       `json:"depends_on_past,omitempty"`
	WaitForDownstream bool       `json:"wait_for_downstream,omitempty"`
	Pool              string     `json:"pool"`
	PoolSlots         int        `json:"pool_slots"`
	PriorityWeight    int        `json:"priority_weight"`
	WeightRule        WeightRule `json:"weight_rule"`
	Queue             string     `json:"queue"`
	SLA               Duration   `json:"sla,omitempty"`
	StartDate         *time.Time `json:"start_date,omitempty"`
	EndDate           *time.Time `json:"end_date,omitempty"`
	DoXComPush        bool       `json:"do_xcom_push"`
	// TaskGroup is the id of the innermost group holding the task, if any.
	TaskGroup string `json:"task_group,omitempty"`
	// Args are the operator's own arguments, as written.
	Args map[string]any `json:"args,omitempty"`
	// Outlets are the URIs of the datasets a successful try updates.
	Outlets []string `json:"outlets,omitempty"`
	// Expand, when set, makes the task mapped: it runs as one task
	// instance per map index, each with its own arguments (see Expand).
	Expand *Expand `json:"expand,omitempty"`
	// ExpandGroup, when set, names the mapped task group (a task group
	// with expand or expand_kwargs) whose expansion Expand is: every task
	// of the group has the same map indexes, and instance i of a task
	// depends on instance i of its upstream tasks in the same group
	// (Airflow's per-index relationship inside a mapped task group).
	ExpandGroup string `json:"expand_group,omitempty"`
	// MapIndexTemplate names each instance of a mapped task (Airflow 2.9's
	// map_index_template): rendered when a try ends, stored as the
	// instance's RenderedMapIndex and shown in place of its map index.
	MapIndexTemplate string `json:"map_index_template,omitempty"`
	// Python is set for a task of a Python DAG file that runs in Python
	// (Operator is PythonFileTaskOperator).
	Python *PythonTask `json:"python,omitempty"`
}

// Mapped reports whether the task is mapped (expand or expand_kwargs).
func (t *Task) Mapped() bool { return t != nil && t.Expand != nil }

// TaskGroup groups tasks for display; dependencies on a group were expanded
// into task dependencies when the file was parsed.
type TaskGroup struct {
	GroupID     string `json:"group_id"`
	Tooltip     string `json:"tooltip,omitempty"`
	ParentGroup string `json:"parent_group,omitempty"`
	// Children are the ids of the tasks and groups directly inside.
	Children []string `json:"children"`
}

// ScheduleKind says which timetable a schedule uses.
type ScheduleKind string

// Schedule kinds.
const (
	ScheduleNone       ScheduleKind = "none"       // manual runs only
	ScheduleOnce       ScheduleKind = "once"       // one run at start_date
	ScheduleContinuous ScheduleKind = "continuous" // a new run as soon as the last one ends
	ScheduleCron       ScheduleKind = "cron"       // cron expression or preset
	ScheduleInterval   ScheduleKind = "interval"   // fixed timedelta from start_date
	// ScheduleDatasets runs when the datasets of Schedule.Datasets were
	// updated, and never on time.
	ScheduleDatasets ScheduleKind = "datasets"
)

// Schedule is a DAG's normalized schedule.
type Schedule struct {
	Kind ScheduleKind `json:"kind"`
	// Expr is the schedule as the user wrote it ("@daily", "0 3 * * *",
	// "30m"), for display.
	Expr string `json:"expr,omitempty"`
	// Cron is the 5-field expression for ScheduleCron, presets expanded.
	Cron string `json:"cron,omitempty"`
	// Interval is the period for ScheduleInterval.
	Interval Duration `json:"interval,omitempty"`
	// Datasets, when set, triggers a run whenever the condition is met by
	// dataset events: with ScheduleDatasets only so, with a time kind as
	// well as on time (Airflow's DatasetOrTimeSchedule).
	Datasets *DatasetCondition `json:"datasets,omitempty"`
}

// Duration is a time.Duration that reads and writes JSON as seconds, the way
// Airflow serializes a timedelta.
type Duration time.Duration

// MarshalJSON writes d as a number of seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.FormatFloat(time.Duration(d).Seconds(), 'f', -1, 64)), nil
}

// UnmarshalJSON reads a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration: want seconds: %w", err)
	}
	*d = Duration(secs * float64(time.Second))
	return nil
}

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// FilelocHash returns Airflow's 56-bit hash of a DAG file path, the key of
// the dag_code table: the last 8 bytes of its SHA-1, shifted right by 8.
func FilelocHash(fileloc string) int64 {
	sum := sha1.Sum([]byte(fileloc))
	return int64(binary.BigEndian.Uint64(sum[12:]) >> 8)
}
