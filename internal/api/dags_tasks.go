package api

import (
	"cmp"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/auth"
	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// taskJSON is Airflow's Task. sub_dag is left out, as Airflow leaves it
// out for every operator but the SubDagOperator Windsock does not have.
type taskJSON struct {
	ClassRef                classRefJSON         `json:"class_ref"`
	OperatorName            string               `json:"operator_name"`
	TaskID                  string               `json:"task_id"`
	TaskDisplayName         string               `json:"task_display_name"`
	Owner                   string               `json:"owner"`
	StartDate               *time.Time           `json:"start_date"`
	EndDate                 *time.Time           `json:"end_date"`
	TriggerRule             string               `json:"trigger_rule"`
	ExtraLinks              []classRefJSON       `json:"extra_links"`
	DependsOnPast           bool                 `json:"depends_on_past"`
	WaitForDownstream       bool                 `json:"wait_for_downstream"`
	Retries                 int                  `json:"retries"`
	Queue                   *string              `json:"queue"`
	Executor                *string              `json:"executor"`
	Pool                    string               `json:"pool"`
	PoolSlots               int                  `json:"pool_slots"`
	ExecutionTimeout        *timeDelta           `json:"execution_timeout"`
	RetryDelay              *timeDelta           `json:"retry_delay"`
	RetryExponentialBackoff bool                 `json:"retry_exponential_backoff"`
	PriorityWeight          int                  `json:"priority_weight"`
	WeightRule              string               `json:"weight_rule"`
	UIColor                 string               `json:"ui_color"`
	UIFgcolor               string               `json:"ui_fgcolor"`
	TemplateFields          []string             `json:"template_fields"`
	DownstreamTaskIDs       []string             `json:"downstream_task_ids"`
	Params                  map[string]paramJSON `json:"params"`
	IsMapped                bool                 `json:"is_mapped"`
	DocMD                   *string              `json:"doc_md"`
}

// classRefJSON is Airflow's ClassReference.
type classRefJSON struct {
	ModulePath string `json:"module_path"`
	ClassName  string `json:"class_name"`
}

// operatorColors are the ui_color of Airflow's operators; the rest use
// BaseOperator's white.
func operatorColors() map[string]string {
	return map[string]string{
		"BashOperator": "#f0ede4", "PythonOperator": "#ffefeb", "BranchPythonOperator": "#ffefeb",
		"ShortCircuitOperator": "#ffefeb", "EmptyOperator": "#e8f7e4", "HttpOperator": "#f4a460",
		"EmailOperator": "#e6faf9", "TriggerDagRunOperator": "#ffefeb", "ExternalTaskSensor": "#4db7db",
		"HttpSensor": "#e6f1f2", "FileSensor": "#91818a", "TimeDeltaSensor": "#e6f1f2",
	}
}

// taskOut is the Task of a definition's task. downstream maps each task
// to the tasks that depend on it.
func taskOut(d *windsock.DAG, t *windsock.Task, downstream map[string][]string, ops *operator.Catalog) taskJSON {
	ref := classRefJSON{ModulePath: "airflow.models.baseoperator", ClassName: cmp.Or(t.OperatorClass, "BaseOperator")}
	templated := []string{}
	if spec, ok := ops.Lookup(t.Operator); ok {
		ref.ClassName = spec.Class
		if len(spec.Paths) > 0 {
			ref.ModulePath = strings.TrimSuffix(spec.Paths[0], "."+spec.Class)
		}
		for _, a := range spec.Args {
			if a.Templated {
				templated = append(templated, a.Name)
			}
		}
	}
	color, ok := operatorColors()[ref.ClassName]
	if !ok {
		color = "#fff"
	}
	fg, opName := "#000", ref.ClassName
	if py := t.Python; py != nil {
		// A task of a Python file: the author's class and its metadata.
		ref = classRefJSON{ModulePath: py.ClassPath[:max(strings.LastIndex(py.ClassPath, "."), 0)], ClassName: py.ClassName}
		templated = append([]string{}, py.TemplateFields...)
		color, fg, opName = cmp.Or(py.UIColor, "#fff"), cmp.Or(py.UIFgColor, "#000"), cmp.Or(py.OperatorName, py.ClassName)
	}
	down := slices.Clone(downstream[t.TaskID])
	slices.Sort(down)
	if down == nil {
		down = []string{}
	}
	var doc *string
	if s, ok := t.Args["doc_md"].(string); ok {
		doc = stringOrNil(s)
	}
	return taskJSON{
		ClassRef:                ref,
		OperatorName:            opName,
		TaskID:                  t.TaskID,
		TaskDisplayName:         t.TaskID,
		Owner:                   t.Owner,
		StartDate:               utcPtr(t.StartDate),
		EndDate:                 utcPtr(t.EndDate),
		TriggerRule:             string(t.TriggerRule),
		ExtraLinks:              []classRefJSON{},
		DependsOnPast:           t.DependsOnPast,
		WaitForDownstream:       t.WaitForDownstream,
		Retries:                 t.Retries,
		Queue:                   stringOrNil(t.Queue),
		Pool:                    t.Pool,
		PoolSlots:               t.PoolSlots,
		ExecutionTimeout:        optionalTimeDelta(t.ExecutionTimeout),
		RetryDelay:              timeDeltaOf(t.RetryDelay.Std()),
		RetryExponentialBackoff: t.RetryExponentialBackoff,
		PriorityWeight:          t.PriorityWeight,
		WeightRule:              string(t.WeightRule),
		UIColor:                 color,
		UIFgcolor:               fg,
		TemplateFields:          templated,
		DownstreamTaskIDs:       down,
		Params:                  paramsOut(d),
		IsMapped:                t.Mapped(),
		DocMD:                   doc,
	}
}

// downstreamOf maps each task of d to the tasks directly downstream of it.
func downstreamOf(d *windsock.DAG) map[string][]string {
	down := make(map[string][]string, len(d.Tasks))
	for _, t := range d.Tasks {
		for _, u := range t.Upstream {
			down[u] = append(down[u], t.TaskID)
		}
	}
	return down
}

// taskOrder are the order_by values of get_tasks: the task attributes
// worth sorting by.
func taskOrder() metaOrder[taskJSON] {
	boolCmp := func(a, b bool) int {
		switch {
		case a == b:
			return 0
		case !a:
			return -1
		}
		return 1
	}
	return metaOrder[taskJSON]{
		"task_id":           func(a, b taskJSON) int { return cmp.Compare(a.TaskID, b.TaskID) },
		"task_display_name": func(a, b taskJSON) int { return cmp.Compare(a.TaskDisplayName, b.TaskDisplayName) },
		"operator_name":     func(a, b taskJSON) int { return cmp.Compare(a.OperatorName, b.OperatorName) },
		"owner":             func(a, b taskJSON) int { return cmp.Compare(a.Owner, b.Owner) },
		"start_date":        func(a, b taskJSON) int { return compareTimes(a.StartDate, b.StartDate) },
		"end_date":          func(a, b taskJSON) int { return compareTimes(a.EndDate, b.EndDate) },
		"trigger_rule":      func(a, b taskJSON) int { return cmp.Compare(a.TriggerRule, b.TriggerRule) },
		"retries":           func(a, b taskJSON) int { return cmp.Compare(a.Retries, b.Retries) },
		"queue":             func(a, b taskJSON) int { return cmp.Compare(deref(a.Queue), deref(b.Queue)) },
		"pool":              func(a, b taskJSON) int { return cmp.Compare(a.Pool, b.Pool) },
		"pool_slots":        func(a, b taskJSON) int { return cmp.Compare(a.PoolSlots, b.PoolSlots) },
		"priority_weight":   func(a, b taskJSON) int { return cmp.Compare(a.PriorityWeight, b.PriorityWeight) },
		"weight_rule":       func(a, b taskJSON) int { return cmp.Compare(a.WeightRule, b.WeightRule) },
		"depends_on_past":   func(a, b taskJSON) int { return boolCmp(a.DependsOnPast, b.DependsOnPast) },
		"wait_for_downstream": func(a, b taskJSON) int {
			return boolCmp(a.WaitForDownstream, b.WaitForDownstream)
		},
		"retry_exponential_backoff": func(a, b taskJSON) int {
			return boolCmp(a.RetryExponentialBackoff, b.RetryExponentialBackoff)
		},
	}
}

// tasksDAG checks access to a DAG's tasks (reading the DAG and its task
// instances, as Airflow's get_tasks requires) and returns its definition.
func (s *Server) tasksDAG(r *http.Request) (*windsock.DAG, error) {
	ids, err := pathIDs(r, "dag_id")
	if err != nil {
		return nil, err
	}
	if err := s.canDAGEntity(r, auth.ActionRead, auth.ResourceTaskInstance, ids[0]); err != nil {
		return nil, err
	}
	d, _, err := s.runsDAG(r.Context(), ids[0])
	return d, err
}

// getTasks is Airflow's get_tasks: every task, ordered by task_id unless
// order_by says otherwise.
func (s *Server) getTasks(w http.ResponseWriter, r *http.Request) error {
	order := taskOrder()
	orderBy := r.URL.Query().Get("order_by")
	if orderBy != "" && order[strings.TrimPrefix(orderBy, "-")] == nil {
		return windsock.Errorf(windsock.EINVALID,
			"Ordering with '%s' is disallowed or the attribute does not exist on the model; order_by must be one of %s, optionally prefixed with '-'",
			orderBy, strings.Join(order.fields(), ", "))
	}
	d, err := s.tasksDAG(r)
	if err != nil {
		return err
	}
	ops, down := operator.Builtins(), downstreamOf(d)
	tasks := make([]taskJSON, len(d.Tasks))
	for i, t := range d.Tasks {
		tasks[i] = taskOut(d, t, down, ops)
	}
	tasks = metaPage(tasks, page{Limit: len(tasks), OrderBy: orderBy}, order, "task_id")
	return writeJSON(w, http.StatusOK, collection("tasks", tasks, len(tasks)))
}

// getTask is Airflow's get_task.
func (s *Server) getTask(w http.ResponseWriter, r *http.Request) error {
	d, err := s.tasksDAG(r)
	if err != nil {
		return err
	}
	taskID := r.PathValue("task_id")
	if err := checkPathID("task_id", taskID); err != nil {
		return err
	}
	t := d.Task(taskID)
	if t == nil {
		return windsock.Errorf(windsock.ENOTFOUND, "Task with task_id: %s was not found in DAG %s", taskID, d.DagID)
	}
	return writeJSON(w, http.StatusOK, taskOut(d, t, downstreamOf(d), operator.Builtins()))
}
