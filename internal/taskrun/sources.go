package taskrun

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/taskmap"
	"github.com/windsock/windsock/internal/template"
	"github.com/windsock/windsock/internal/windsock"
)

// templateSources gives templates access to variables, connections, XCom
// and the previous successful run. Secrets read through them are added to
// the masker, so they never reach the log in clear (as Airflow masks what
// a task touches).
func (r *Runner) templateSources(try *Try, m *tasklog.Masker) template.Sources {
	conns := &connectionSource{conns: r.Connections, masker: m}
	return template.Sources{
		Variable: func(ctx context.Context, key string) (string, error) {
			v, err := r.Variables.Get(ctx, key)
			if err == nil {
				maskVariable(m, key, v)
			}
			return v, err
		},
		Connection: conns.Connection,
		XComPull: func(ctx context.Context, p template.XComPullParams) (any, bool, error) {
			return pullXCom(ctx, r.Store, try.DAG, p)
		},
		DatasetEvents: func(ctx context.Context) ([]*windsock.DatasetEvent, error) {
			evs, _, err := r.Store.DatasetEventList(ctx, &store.DatasetEventListParams{DagRunID: try.Run.ID, OrderBy: "timestamp"})
			return evs, err
		},
		PrevSuccess: func(ctx context.Context) (*windsock.DagRun, error) {
			before := try.Run.LogicalDate.Add(-time.Microsecond)
			runs, err := r.Store.DagRunList(ctx, &store.DagRunListParams{
				DagID: try.Run.DagID, States: []windsock.DagRunState{windsock.DagRunSuccess},
				LogicalDateLTE: &before, OrderBy: "-execution_date", Limit: 1,
			})
			if err != nil || len(runs) == 0 {
				return nil, err
			}
			return runs[0], nil
		},
	}
}

// maskVariable adds a variable's secrets to m as Airflow's Variable.get
// does: the value of a variable with a sensitive name (var.value), and in
// a value that is JSON, the strings under sensitive keys at any depth
// (var.json: mask_secret(obj, key)). The template source does not tell
// var.value from var.json, so a JSON value gets both; var.value of a JSON
// variable thus masks its sensitive fields too, which Airflow does not,
// but only ever hides more.
func maskVariable(m *tasklog.Masker, key, value string) {
	if secrets.IsSensitiveName(key) {
		m.Add(value)
	}
	t := strings.TrimLeft(value, " \t\r\n")
	if t == "" || (t[0] != '{' && t[0] != '[' && t[0] != '"') {
		return // not JSON, or a scalar without secrets
	}
	var v any
	if json.Unmarshal([]byte(value), &v) == nil {
		m.AddNamed(v, key, secrets.IsSensitiveName)
	}
}

// pullXCom looks up one task's value for ti.xcom_pull: without a map
// index, a mapped task of this DAG gives the list of its instances'
// values in map index order, as in Airflow. Pulls that name no task or no
// key (task_ids=None, key=None) are not supported and find nothing.
func pullXCom(ctx context.Context, st store.Queries, d *windsock.DAG, p template.XComPullParams) (any, bool, error) {
	if p.TaskID == "" {
		return nil, false, nil
	}
	key := p.Key
	if key == "" {
		key = windsock.XComReturnKey
	}
	var raw []byte
	if p.MapIndex == nil && d != nil && d.DagID == p.DagID {
		v, found, err := taskmap.Value(ctx, st, d, p.RunID, p.TaskID, key)
		if err != nil || !found {
			return nil, false, err
		}
		raw = v
	} else {
		mapIndex := -1
		if p.MapIndex != nil {
			mapIndex = *p.MapIndex
		}
		x, err := st.XComGet(ctx, &store.XComGetParams{DagID: p.DagID, RunID: p.RunID, TaskID: p.TaskID, MapIndex: mapIndex, Key: key})
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		raw = x.Value
	}
	var v any
	if err := windsock.DecodeJSON(raw, &v); err != nil {
		return nil, false, fmt.Errorf("decode xcom %s.%s: %w", p.TaskID, key, err)
	}
	return v, true, nil
}

// connectionSource resolves connections for templates and operators and
// masks their passwords, and the sensitive fields of their extras, in the
// log.
type connectionSource struct {
	conns  *secrets.Connections
	masker *tasklog.Masker
}

// Connection returns a connection with its extra decoded.
func (c *connectionSource) Connection(ctx context.Context, connID string) (*operator.Connection, error) {
	sc, err := c.conns.Get(ctx, connID)
	if err != nil {
		return nil, err
	}
	if sc.Password != "" {
		c.masker.Add(sc.Password)
	}
	oc := &operator.Connection{
		ConnID: sc.ConnID, ConnType: sc.ConnType, Description: sc.Description, Host: sc.Host,
		Schema: sc.Schema, Login: sc.Login, Password: sc.Password, Port: sc.Port, ExtraText: sc.Extra,
	}
	if sc.Extra != "" {
		if err := windsock.DecodeJSON([]byte(sc.Extra), &oc.Extra); err != nil {
			return nil, windsock.Errorf(windsock.EINVALID, "connection %q: extra is not a JSON object: %v", connID, err)
		}
		// Airflow's extra_dejson masks the values under sensitive keys, at
		// any depth.
		c.masker.AddNamed(oc.Extra, "", secrets.IsSensitiveName)
	}
	return oc, nil
}

// runStateSource answers ExternalTaskSensor's questions from the store.
type runStateSource struct {
	store store.Queries
}

func (s *runStateSource) run(ctx context.Context, dagID string, logicalDate time.Time) (*windsock.DagRun, error) {
	runs, err := s.store.DagRunList(ctx, &store.DagRunListParams{DagID: dagID, LogicalDateGTE: &logicalDate, LogicalDateLTE: &logicalDate, Limit: 1})
	if err != nil || len(runs) == 0 {
		return nil, err
	}
	return runs[0], nil
}

// DagRunState returns the state of dagID's run at logicalDate, "" if none.
func (s *runStateSource) DagRunState(ctx context.Context, dagID string, logicalDate time.Time) (windsock.DagRunState, error) {
	run, err := s.run(ctx, dagID, logicalDate)
	if err != nil || run == nil {
		return "", err
	}
	return run.State, nil
}

// TaskStates returns the task states of dagID's run at logicalDate.
func (s *runStateSource) TaskStates(ctx context.Context, dagID string, logicalDate time.Time, taskIDs []string) (map[string]windsock.TaskInstanceState, error) {
	run, err := s.run(ctx, dagID, logicalDate)
	if err != nil || run == nil {
		return map[string]windsock.TaskInstanceState{}, err
	}
	tis, err := s.store.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: dagID, RunID: run.RunID, TaskIDs: taskIDs})
	if err != nil {
		return nil, err
	}
	out := make(map[string]windsock.TaskInstanceState, len(tis))
	for _, ti := range tis {
		out[ti.TaskID] = ti.State
	}
	return out, nil
}

// DatasetEvents returns the latest limit events of dataset uri, oldest
// first (inlet_events).
func (s *runStateSource) DatasetEvents(ctx context.Context, uri string, limit int) ([]*windsock.DatasetEvent, error) {
	evs, _, err := s.store.DatasetEventList(ctx, &store.DatasetEventListParams{URIs: []string{uri}, OrderBy: "-timestamp", Limit: limit})
	if err != nil {
		return nil, err
	}
	slices.Reverse(evs)
	return evs, nil
}

// DagTaskIDs lists a DAG's task ids, for ExternalTaskSensor's
// check_existence and task groups.
func (s *runStateSource) DagTaskIDs(ctx context.Context, dagID string) ([]string, error) {
	sd, err := s.store.SerializedDAGGet(ctx, dagID)
	if err != nil {
		return nil, err
	}
	var d windsock.DAG
	if err := windsock.DecodeJSON(sd.Data, &d); err != nil {
		return nil, fmt.Errorf("decode dag %s: %w", dagID, err)
	}
	ids := make([]string, len(d.Tasks))
	for i, t := range d.Tasks {
		ids[i] = t.TaskID
	}
	return ids, nil
}

// ConnectionSource answers an operator's connection lookups from conns,
// masking their secrets in what masker guards (nil masks nothing): for
// code outside a try that runs an operator, such as an email callback.
func ConnectionSource(conns *secrets.Connections, masker *tasklog.Masker) operator.ConnectionSource {
	return &connectionSource{conns: conns, masker: masker}
}
