package pytask

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/trigger"
	"github.com/windsock/windsock/internal/windsock"
)

// Handler answers the calls a Python child makes during a try (pyrt's
// Handler): variables, connections and XCom, through the try's sources
// on operator.Context, so the child never opens the metadata database.
type Handler struct {
	tc *operator.Context
}

// NewHandler returns the handler of the try tc describes.
func NewHandler(tc *operator.Context) *Handler { return &Handler{tc: tc} }

// Call answers one call; errors carry a windsock code (ENOTFOUND reaches
// Python as rpc.NotFound).
func (h *Handler) Call(ctx context.Context, name string, args json.RawMessage) (any, error) {
	switch name {
	case "variable_get":
		var a struct {
			Key string `json:"key"`
		}
		if err := decodeArgs(name, args, &a); err != nil {
			return nil, err
		}
		if h.tc.Variables == nil {
			return nil, unavailable(name)
		}
		return h.tc.Variables.Get(ctx, a.Key)
	case "variable_set":
		return h.variableSet(ctx, args)
	case "variable_delete":
		return h.variableDelete(ctx, args)
	case "connection_get":
		return h.connectionGet(ctx, args)
	case "xcom_pull":
		return h.xcomPull(ctx, args)
	case "xcom_push":
		var a struct {
			Key   string          `json:"key"`
			Value json.RawMessage `json:"value"`
		}
		if err := decodeArgs(name, args, &a); err != nil {
			return nil, err
		}
		if h.tc.XCom == nil {
			return nil, unavailable(name)
		}
		if len(a.Value) == 0 {
			a.Value = json.RawMessage("null")
		}
		return nil, h.tc.XCom.XComPush(ctx, a.Key, a.Value)
	case "trigger_dag":
		return h.triggerDag(ctx, args)
	case "external_task_states":
		return h.externalTaskStates(ctx, args)
	case "dataset_events":
		return h.datasetEvents(ctx, args)
	case "log":
		var a struct {
			Level   string `json:"level"`
			Message string `json:"message"`
		}
		if err := decodeArgs(name, args, &a); err != nil {
			return nil, err
		}
		if h.tc.Log != nil {
			msg := a.Message
			if !strings.HasSuffix(msg, "\n") {
				msg += "\n"
			}
			_, _ = io.WriteString(h.tc.Log, msg)
		}
		return nil, nil
	}
	return nil, windsock.Errorf(windsock.EINVALID, "unknown call %q", name)
}

func (h *Handler) variableSet(ctx context.Context, args json.RawMessage) (any, error) {
	var a struct {
		Key         string          `json:"key"`
		Value       json.RawMessage `json:"value"`
		Description *string         `json:"description"`
	}
	if err := decodeArgs("variable_set", args, &a); err != nil {
		return nil, err
	}
	if h.tc.Variables == nil {
		return nil, unavailable("variable_set")
	}
	// Variable.set sends the text it stores; anything else is stored as
	// its JSON text rather than refused.
	var value string
	if json.Unmarshal(a.Value, &value) != nil {
		value = string(a.Value)
	}
	desc := ""
	if a.Description != nil {
		desc = *a.Description
	}
	return nil, h.tc.Variables.Set(ctx, a.Key, value, desc)
}

// variableDelete answers Variable.delete, which returns how many
// variables it removed (0 for one that is not there, not an error).
func (h *Handler) variableDelete(ctx context.Context, args json.RawMessage) (any, error) {
	var a struct {
		Key string `json:"key"`
	}
	if err := decodeArgs("variable_delete", args, &a); err != nil {
		return nil, err
	}
	if h.tc.Variables == nil {
		return nil, unavailable("variable_delete")
	}
	err := h.tc.Variables.Delete(ctx, a.Key)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return 0, nil
	}
	if err != nil {
		return nil, err
	}
	return 1, nil
}

// connectionGet answers BaseHook.get_connection with Airflow's Connection
// fields; unset ones are None, as Airflow leaves them.
func (h *Handler) connectionGet(ctx context.Context, args json.RawMessage) (any, error) {
	var a struct {
		ConnID string `json:"conn_id"`
	}
	if err := decodeArgs("connection_get", args, &a); err != nil {
		return nil, err
	}
	if h.tc.Connections == nil {
		return nil, unavailable("connection_get")
	}
	c, err := h.tc.Connections.Connection(ctx, a.ConnID)
	if err != nil {
		return nil, err
	}
	orNil := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var port any
	if c.Port != 0 {
		port = c.Port
	}
	return map[string]any{
		"conn_id": c.ConnID, "conn_type": orNil(c.ConnType), "host": orNil(c.Host), "schema": orNil(c.Schema),
		"login": orNil(c.Login), "password": orNil(c.Password), "port": port, "extra": orNil(c.ExtraText),
		"description": orNil(c.Description),
	}, nil
}

// pullArgs are xcom_pull's arguments; nulls mean "any" (task_ids,
// map_indexes, key) or "the running try's" (dag_id, run_id).
type pullArgs struct {
	DagID             *string  `json:"dag_id"`
	TaskIDs           []string `json:"task_ids"`
	RunID             *string  `json:"run_id"`
	Key               *string  `json:"key"`
	MapIndexes        []int    `json:"map_indexes"`
	IncludePriorDates bool     `json:"include_prior_dates"`
}

func (h *Handler) xcomPull(ctx context.Context, args json.RawMessage) (any, error) {
	var a pullArgs
	if err := decodeArgs("xcom_pull", args, &a); err != nil {
		return nil, err
	}
	if h.tc.XCom == nil {
		return nil, unavailable("xcom_pull")
	}
	p := &operator.XComPullParams{TaskIDs: a.TaskIDs, MapIndexes: a.MapIndexes, IncludePriorDates: a.IncludePriorDates}
	if a.DagID != nil {
		p.DagID = *a.DagID
	}
	if a.RunID != nil {
		p.RunID = *a.RunID
	}
	if a.Key != nil {
		p.Key = *a.Key
	}
	vs, err := h.tc.XCom.XComPull(ctx, p)
	if err != nil {
		return nil, err
	}
	if vs == nil {
		vs = []operator.XComValue{} // a list, never None
	}
	return vs, nil
}

func decodeArgs(name string, args json.RawMessage, v any) error {
	if len(args) == 0 {
		return nil
	}
	if err := json.Unmarshal(args, v); err != nil {
		return windsock.Errorf(windsock.EINVALID, "%s: bad arguments: %v", name, err)
	}
	return nil
}

func unavailable(name string) error {
	return fmt.Errorf("%s is not available here", name)
}

// triggerDag answers TriggerDagRunOperator.execute run in Python (a DAG
// author's subclass that overrides execute and calls super): the native
// operator does the work, so both paths create, clear and wait for runs
// alike. Its XComs are pushed for the child's task, and the new run's id
// is the answer.
func (h *Handler) triggerDag(ctx context.Context, raw json.RawMessage) (any, error) {
	var a map[string]any
	if err := windsock.DecodeJSON(raw, &a); err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "trigger_dag: %v", err)
	}
	args := map[string]any{}
	for from, to := range map[string]string{
		"dag_id": "trigger_dag_id", "run_id": "trigger_run_id", "conf": "conf", "logical_date": "logical_date",
		"reset_dag_run": "reset_dag_run", "wait_for_completion": "wait_for_completion", "poke_interval": "poke_interval",
		"allowed_states": "allowed_states", "failed_states": "failed_states", "skip_when_already_exists": "skip_when_already_exists",
	} {
		if v, ok := a[from]; ok && v != nil {
			args[to] = v
		}
	}
	tc := *h.tc
	tc.Args = args
	res, err := trigger.New().Execute(ctx, &tc)
	if err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "%v", err)
	}
	if h.tc.XCom != nil {
		for key, v := range res.XComs {
			if err := h.tc.XCom.XComPush(ctx, key, v); err != nil {
				return nil, err
			}
		}
	}
	return res.XComs[trigger.XComRunID], nil
}

// maxInletEvents bounds what inlet_events[dataset] holds: the latest
// events of the dataset (Airflow reads every one lazily; a task reads the
// last ones).
const maxInletEvents = 1000

// datasetEvents answers inlet_events[dataset]: the dataset's latest
// events, oldest first, with DatasetEvent's attributes.
func (h *Handler) datasetEvents(ctx context.Context, raw json.RawMessage) (any, error) {
	var a struct {
		URI string `json:"uri"`
	}
	if err := decodeArgs("dataset_events", raw, &a); err != nil {
		return nil, err
	}
	lister, ok := h.tc.Runs.(operator.DatasetEventLister)
	if !ok {
		return nil, unavailable("dataset_events")
	}
	evs, err := lister.DatasetEvents(ctx, a.URI, maxInletEvents)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]any, len(evs))
	for i, e := range evs {
		out[i] = map[string]any{
			"id": e.ID, "dataset_id": e.DatasetID, "dataset": map[string]any{"uri": e.DatasetURI}, "extra": e.Extra,
			"source_dag_id": e.SourceDagID, "source_task_id": e.SourceTaskID, "source_run_id": e.SourceRunID,
			"source_map_index": e.SourceMapIndex, "timestamp": windsock.ISOFormat(e.Timestamp),
		}
	}
	return out, nil
}

// externalTaskStates answers ExternalTaskSensor.poke run in Python (when
// the sensor is given execution_date_fn, a Python callable): whether the
// external DAG run, or its tasks (or the tasks of a group), are in an
// allowed state at every logical date asked, and whether any is in a
// failed state.
func (h *Handler) externalTaskStates(ctx context.Context, raw json.RawMessage) (any, error) {
	var a struct {
		DagID        string   `json:"dag_id"`
		TaskIDs      []string `json:"task_ids"`
		TaskGroupID  string   `json:"task_group_id"`
		LogicalDates []string `json:"logical_dates"`
		Allowed      []string `json:"allowed_states"`
		Failed       []string `json:"failed_states"`
	}
	if err := decodeArgs("external_task_states", raw, &a); err != nil {
		return nil, err
	}
	if h.tc.Runs == nil {
		return nil, unavailable("external_task_states")
	}
	in := func(states []string, s string) bool { return slices.Contains(states, s) }
	done, failed := true, false
	for _, text := range a.LogicalDates {
		date, err := time.Parse(time.RFC3339Nano, text)
		if err != nil {
			return nil, windsock.Errorf(windsock.EINVALID, "external_task_states: logical date %q: %v", text, err)
		}
		var states []string
		if len(a.TaskIDs) == 0 && a.TaskGroupID == "" {
			st, err := h.tc.Runs.DagRunState(ctx, a.DagID, date)
			if err != nil {
				return nil, err
			}
			states = append(states, string(st))
		} else {
			byTask, err := h.tc.Runs.TaskStates(ctx, a.DagID, date, a.TaskIDs)
			if err != nil {
				return nil, err
			}
			for id, st := range byTask {
				if a.TaskGroupID == "" || strings.HasPrefix(id, a.TaskGroupID+".") {
					states = append(states, string(st))
				}
			}
			if want := len(a.TaskIDs); want > 0 && len(states) < want {
				done = false
			}
		}
		if len(states) == 0 {
			done = false
		}
		for _, st := range states {
			failed = failed || in(a.Failed, st)
			done = done && in(a.Allowed, st)
		}
	}
	return map[string]bool{"done": done, "failed": failed}, nil
}
