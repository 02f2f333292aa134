package api

import (
	"encoding/json"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// dagRunJSON is Airflow's DAGRun.
type dagRunJSON struct {
	Conf                   map[string]any `json:"conf"`
	DagID                  string         `json:"dag_id"`
	DagRunID               string         `json:"dag_run_id"`
	DataIntervalEnd        *time.Time     `json:"data_interval_end"`
	DataIntervalStart      *time.Time     `json:"data_interval_start"`
	EndDate                *time.Time     `json:"end_date"`
	ExecutionDate          time.Time      `json:"execution_date"`
	ExternalTrigger        bool           `json:"external_trigger"`
	LastSchedulingDecision *time.Time     `json:"last_scheduling_decision"`
	LogicalDate            time.Time      `json:"logical_date"`
	Note                   *string        `json:"note"`
	RunType                string         `json:"run_type"`
	StartDate              *time.Time     `json:"start_date"`
	State                  string         `json:"state"`
}

// dagRunFields are the fields a "fields" parameter may name.
func dagRunFields() []string {
	return []string{"conf", "dag_id", "dag_run_id", "data_interval_end", "data_interval_start", "end_date",
		"execution_date", "external_trigger", "last_scheduling_decision", "logical_date", "note", "run_type",
		"start_date", "state"}
}

func dagRunOut(r *windsock.DagRun) dagRunJSON {
	// A float stays a float in the answer (5.0), as Python's json writes
	// it.
	conf, _ := windsock.KeepFloats(r.Conf).(map[string]any)
	if conf == nil {
		conf = map[string]any{}
	}
	logical := r.LogicalDate.UTC()
	return dagRunJSON{
		Conf: conf, DagID: r.DagID, DagRunID: r.RunID, DataIntervalEnd: utcPtr(r.DataIntervalEnd),
		DataIntervalStart: utcPtr(r.DataIntervalStart), EndDate: utcPtr(r.EndDate), ExecutionDate: logical,
		ExternalTrigger: r.ExternalTrigger, LastSchedulingDecision: utcPtr(r.LastSchedulingDecision),
		LogicalDate: logical, Note: stringOrNil(r.Note), RunType: string(r.RunType), StartDate: utcPtr(r.StartDate),
		State: string(r.State),
	}
}

// slaMissJSON is Airflow's SLAMiss.
type slaMissJSON struct {
	DagID            string    `json:"dag_id"`
	Description      *string   `json:"description"`
	EmailSent        bool      `json:"email_sent"`
	ExecutionDate    time.Time `json:"execution_date"`
	NotificationSent bool      `json:"notification_sent"`
	TaskID           string    `json:"task_id"`
	Timestamp        time.Time `json:"timestamp"`
}

// taskInstanceJSON is Airflow's TaskInstance. Windsock has no triggerer
// nor executor_config, so trigger and triggerer_job are always null and
// executor_config "{}"; rendered_map_index is null until a mapped
// instance's map_index_template was rendered.
type taskInstanceJSON struct {
	DagID            string          `json:"dag_id"`
	DagRunID         string          `json:"dag_run_id"`
	Duration         *float64        `json:"duration"`
	EndDate          *time.Time      `json:"end_date"`
	ExecutionDate    time.Time       `json:"execution_date"`
	Executor         *string         `json:"executor"`
	ExecutorConfig   string          `json:"executor_config"`
	Hostname         string          `json:"hostname"`
	MapIndex         int             `json:"map_index"`
	MaxTries         int             `json:"max_tries"`
	Note             *string         `json:"note"`
	Operator         *string         `json:"operator"`
	PID              *int            `json:"pid"`
	Pool             string          `json:"pool"`
	PoolSlots        int             `json:"pool_slots"`
	PriorityWeight   *int            `json:"priority_weight"`
	Queue            *string         `json:"queue"`
	QueuedWhen       *time.Time      `json:"queued_when"`
	RenderedFields   json.RawMessage `json:"rendered_fields"`
	RenderedMapIndex *string         `json:"rendered_map_index"`
	SlaMiss          *slaMissJSON    `json:"sla_miss"`
	StartDate        *time.Time      `json:"start_date"`
	State            *string         `json:"state"`
	TaskDisplayName  string          `json:"task_display_name"`
	TaskID           string          `json:"task_id"`
	Trigger          *struct{}       `json:"trigger"`
	TriggererJob     *struct{}       `json:"triggerer_job"`
	TryNumber        int             `json:"try_number"`
	Unixname         string          `json:"unixname"`
}

func taskInstanceOut(d *store.TaskInstanceDetail) taskInstanceJSON {
	ti := d.TaskInstance
	rendered := json.RawMessage(`{}`)
	if len(d.RenderedFields) > 0 && json.Valid(d.RenderedFields) {
		rendered = d.RenderedFields
	}
	out := taskInstanceJSON{
		DagID: ti.DagID, DagRunID: ti.RunID, Duration: ti.Duration, EndDate: utcPtr(ti.EndDate),
		ExecutionDate: d.LogicalDate.UTC(), Executor: stringOrNil(ti.Executor), ExecutorConfig: "{}",
		Hostname: ti.Hostname, MapIndex: ti.MapIndex, MaxTries: ti.MaxTries, Note: stringOrNil(ti.Note),
		Operator: stringOrNil(ti.Operator), PID: ti.PID, Pool: ti.Pool, PoolSlots: ti.PoolSlots,
		PriorityWeight: &ti.PriorityWeight, Queue: stringOrNil(ti.Queue), QueuedWhen: utcPtr(ti.QueuedDttm),
		RenderedFields: rendered, RenderedMapIndex: stringOrNil(ti.RenderedMapIndex), StartDate: utcPtr(ti.StartDate), State: stringOrNil(string(ti.State)),
		TaskDisplayName: ti.TaskID, TaskID: ti.TaskID, TryNumber: ti.TryNumber, Unixname: ti.Unixname,
	}
	if m := d.SlaMiss; m != nil {
		out.SlaMiss = &slaMissJSON{DagID: m.DagID, Description: stringOrNil(m.Description), EmailSent: m.EmailSent,
			ExecutionDate: m.ExecutionDate.UTC(), NotificationSent: m.NotificationSent, TaskID: m.TaskID,
			Timestamp: m.Timestamp.UTC()}
	}
	return out
}

func taskInstancesOut(ds []*store.TaskInstanceDetail) []taskInstanceJSON {
	out := make([]taskInstanceJSON, len(ds))
	for i, d := range ds {
		out[i] = taskInstanceOut(d)
	}
	return out
}

// tiReferenceJSON is Airflow's TaskInstanceReference.
type tiReferenceJSON struct {
	DagID         string    `json:"dag_id"`
	DagRunID      string    `json:"dag_run_id"`
	ExecutionDate time.Time `json:"execution_date"`
	TaskID        string    `json:"task_id"`
}

// xcomItemJSON is Airflow's XComCollectionItem.
type xcomItemJSON struct {
	DagID         string    `json:"dag_id"`
	ExecutionDate time.Time `json:"execution_date"`
	Key           string    `json:"key"`
	MapIndex      int       `json:"map_index"`
	TaskID        string    `json:"task_id"`
	Timestamp     time.Time `json:"timestamp"`
}

// xcomJSON is Airflow's XCom: the item and its value.
type xcomJSON struct {
	xcomItemJSON
	Value json.RawMessage `json:"value"`
}

func xcomItemOut(e *store.XComEntry) xcomItemJSON {
	return xcomItemJSON{DagID: e.DagID, ExecutionDate: e.LogicalDate.UTC(), Key: e.Key, MapIndex: e.MapIndex,
		TaskID: e.TaskID, Timestamp: e.Timestamp.UTC()}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func stringOrNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
