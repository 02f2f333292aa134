package windsock

import (
	"encoding/json"
	"strings"
	"time"
)

// DatasetCondition is what a data-aware DAG waits for (Airflow's
// BaseDataset expressions): one dataset by URI, or every (DatasetAll, `&`)
// or any (DatasetAny, `|`) of several conditions. Exactly one of URI, All
// and Any is set.
type DatasetCondition struct {
	URI string              `json:"uri,omitempty"`
	All []*DatasetCondition `json:"all,omitempty"`
	Any []*DatasetCondition `json:"any,omitempty"`
}

// DatasetAll returns the condition met when every one of cs is.
func DatasetAll(cs ...*DatasetCondition) *DatasetCondition { return &DatasetCondition{All: cs} }

// DatasetAny returns the condition met when any one of cs is.
func DatasetAny(cs ...*DatasetCondition) *DatasetCondition { return &DatasetCondition{Any: cs} }

// DatasetURI returns the condition met by an event of the dataset uri.
func DatasetURI(uri string) *DatasetCondition { return &DatasetCondition{URI: uri} }

// Evaluate reports whether the condition is met when the datasets in
// updated (URI -> true) have had an event, as Airflow's
// BaseDataset.evaluate does: an empty All is met, an empty Any is not.
func (c *DatasetCondition) Evaluate(updated map[string]bool) bool {
	switch {
	case c == nil:
		return false
	case c.All != nil:
		for _, x := range c.All {
			if !x.Evaluate(updated) {
				return false
			}
		}
		return true
	case c.Any != nil:
		for _, x := range c.Any {
			if x.Evaluate(updated) {
				return true
			}
		}
		return false
	}
	return updated[c.URI]
}

// URIs returns the distinct dataset URIs the condition names, in the
// order they first appear.
func (c *DatasetCondition) URIs() []string {
	var out []string
	seen := map[string]bool{}
	var walk func(*DatasetCondition)
	walk = func(c *DatasetCondition) {
		if c == nil {
			return
		}
		if c.URI != "" && !seen[c.URI] {
			seen[c.URI] = true
			out = append(out, c.URI)
		}
		for _, x := range c.All {
			walk(x)
		}
		for _, x := range c.Any {
			walk(x)
		}
	}
	walk(c)
	return out
}

// Expression returns the condition as Airflow 2.9+ stores it in
// dag.dataset_expression: a URI string, {"all": [...]} or {"any": [...]}.
func (c *DatasetCondition) Expression() any {
	switch {
	case c == nil:
		return nil
	case c.All != nil:
		return map[string]any{"all": expressions(c.All)}
	case c.Any != nil:
		return map[string]any{"any": expressions(c.Any)}
	}
	return c.URI
}

func expressions(cs []*DatasetCondition) []any {
	out := make([]any, len(cs))
	for i, c := range cs {
		out[i] = c.Expression()
	}
	return out
}

// ExpressionJSON returns Expression encoded as JSON ("" for nil).
func (c *DatasetCondition) ExpressionJSON() string {
	if c == nil {
		return ""
	}
	b, _ := json.Marshal(c.Expression()) // strings, maps and lists only
	return string(b)
}

// String returns the condition in the `&`/`|` form users write
// ("(s3://a & s3://b) | s3://c").
func (c *DatasetCondition) String() string {
	join := func(cs []*DatasetCondition, op string) string {
		parts := make([]string, len(cs))
		for i, x := range cs {
			s := x.String()
			if x.URI == "" && len(cs) > 1 {
				s = "(" + s + ")"
			}
			parts[i] = s
		}
		return strings.Join(parts, op)
	}
	switch {
	case c == nil:
		return ""
	case c.All != nil:
		return join(c.All, " & ")
	case c.Any != nil:
		return join(c.Any, " | ")
	}
	return c.URI
}

// CheckDatasetURI applies Airflow's rules for a dataset URI: not empty, at
// most 3000 characters (dataset.uri), ASCII only, and not in the reserved
// airflow scheme.
func CheckDatasetURI(uri string) error {
	if strings.TrimSpace(uri) == "" {
		return Errorf(EINVALID, "dataset URI must not be empty")
	}
	if len(uri) > MaxDatasetURILength {
		return Errorf(EINVALID, "dataset URI is longer than %d characters", MaxDatasetURILength)
	}
	for _, r := range uri {
		if r > 0x7f || r < 0x20 {
			return Errorf(EINVALID, "dataset URI %q must be printable ASCII", uri)
		}
	}
	if scheme, _, ok := strings.Cut(uri, "://"); ok && strings.EqualFold(scheme, "airflow") {
		return Errorf(EINVALID, "dataset URI %q uses the reserved 'airflow' scheme", uri)
	}
	return nil
}

// MaxDatasetURILength is the width of dataset.uri.
const MaxDatasetURILength = 3000

// Dataset is a row of dataset, with the DAGs that reference it.
type Dataset struct {
	ID        int64
	URI       string
	Extra     map[string]any
	CreatedAt time.Time
	UpdatedAt time.Time
	// ConsumingDAGs are the DAGs scheduled on the dataset
	// (dag_schedule_dataset_reference).
	ConsumingDAGs []DatasetDAGRef
	// ProducingTasks are the tasks with the dataset among their outlets
	// (task_outlet_dataset_reference).
	ProducingTasks []DatasetTaskRef
}

// DatasetDAGRef is a row of dag_schedule_dataset_reference.
type DatasetDAGRef struct {
	DagID     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DatasetTaskRef is a row of task_outlet_dataset_reference.
type DatasetTaskRef struct {
	DagID     string
	TaskID    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// DatasetEvent is a row of dataset_event: a dataset was updated, by a
// task's successful try (the Source fields set) or through the API.
type DatasetEvent struct {
	ID             int64
	DatasetID      int64
	DatasetURI     string
	Extra          map[string]any
	SourceDagID    string
	SourceTaskID   string
	SourceRunID    string
	SourceMapIndex int // -1 when not from a task (Airflow's default)
	Timestamp      time.Time
	// CreatedDagRuns are the runs the event triggered (dagrun_dataset_event).
	CreatedDagRuns []*DagRun
}

// DatasetQueuedEvent is a row of dataset_dag_run_queue: an event of the
// dataset is waiting for a run of the target DAG.
type DatasetQueuedEvent struct {
	DatasetID   int64
	URI         string
	TargetDagID string
	CreatedAt   time.Time
}

// DatasetSummary returns the dataset URIs a schedule waits for, for
// display ("" when it waits for none).
func (s Schedule) DatasetSummary() string {
	if s.Datasets == nil {
		return ""
	}
	return s.Datasets.String()
}
