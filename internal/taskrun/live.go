package taskrun

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/secrets"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// This file holds what a running try reads and writes live, through the
// worker, while user code runs (a Python task's Variable.get,
// ti.xcom_pull, ti.xcom_push): never by opening the metadata database
// itself.

// variableSource reads variables as templates do (environment first,
// then the store) and registers their secrets with the try's masker.
type variableSource struct {
	vars   *secrets.Variables
	masker *tasklog.Masker
}

// Get returns a variable's value, masking its secrets in the log.
func (v *variableSource) Get(ctx context.Context, key string) (string, error) {
	value, err := v.vars.Get(ctx, key)
	if err == nil {
		maskVariable(v.masker, key, value)
	}
	return value, err
}

// Set creates or replaces a variable in the store.
func (v *variableSource) Set(ctx context.Context, key, value, description string) error {
	if secrets.IsSensitiveName(key) {
		v.masker.Add(value)
	}
	return v.vars.Set(ctx, key, value, description)
}

// Delete removes a variable from the store.
func (v *variableSource) Delete(ctx context.Context, key string) error {
	return v.vars.Delete(ctx, key)
}

// xcomSource is ti.xcom_pull and ti.xcom_push for one running try.
type xcomSource struct {
	store store.Queries
	try   *Try
	now   func() time.Time
}

// XComPush stores a value of the running try at once.
func (x *xcomSource) XComPush(ctx context.Context, key string, value any) error {
	if key == "" {
		return windsock.Errorf(windsock.EINVALID, "XCom key must be a non-empty string")
	}
	b, err := marshalXCom(key, value, MaxXComBytes)
	if err != nil {
		return windsock.Errorf(windsock.EINVALID, "%v", err)
	}
	ti := x.try.TI
	return x.store.XComSet(ctx, &windsock.XCom{
		DagRunID: x.try.Run.ID, TaskID: ti.TaskID, MapIndex: ti.MapIndex, Key: key,
		DagID: ti.DagID, RunID: ti.RunID, Value: b, Timestamp: x.now(),
	})
}

// XComPull returns the values p selects, in the order Airflow's
// xcom_pull returns them.
func (x *xcomSource) XComPull(ctx context.Context, p *operator.XComPullParams) ([]operator.XComValue, error) {
	dagID, runID := p.DagID, p.RunID
	if dagID == "" {
		dagID = x.try.TI.DagID
	}
	if runID == "" {
		runID = x.try.TI.RunID
	}
	var rows []xcomRow
	var err error
	switch {
	case p.IncludePriorDates:
		rows, err = x.priorRows(ctx, dagID, runID, p)
	case p.TaskIDs != nil && p.MapIndexes != nil && p.Key != "":
		rows, err = x.pointRows(ctx, dagID, runID, p)
	default:
		rows, err = x.runRows(ctx, dagID, runID, p)
	}
	if err != nil {
		return nil, fmt.Errorf("xcom_pull: %w", err)
	}
	sortPulled(rows, p)
	out := make([]operator.XComValue, len(rows))
	for i, r := range rows {
		out[i] = operator.XComValue{TaskID: r.TaskID, MapIndex: r.MapIndex, Key: r.Key, Value: json.RawMessage(r.Value)}
	}
	return out, nil
}

// xcomRow is a stored value with its run's logical date, for ordering.
type xcomRow struct {
	*windsock.XCom
	logical time.Time
}

// pointRows looks up each (task, map index) pair of one key: the common
// pull of a known upstream value, one indexed read each.
func (x *xcomSource) pointRows(ctx context.Context, dagID, runID string, p *operator.XComPullParams) ([]xcomRow, error) {
	var out []xcomRow
	for _, task := range p.TaskIDs {
		for _, mi := range p.MapIndexes {
			v, err := x.store.XComGet(ctx, &store.XComGetParams{DagID: dagID, RunID: runID, TaskID: task, MapIndex: mi, Key: p.Key})
			if windsock.ErrorCode(err) == windsock.ENOTFOUND {
				continue
			}
			if err != nil {
				return nil, err
			}
			out = append(out, xcomRow{XCom: v})
		}
	}
	return out, nil
}

// runRows reads the values of one run, filtered by task, key and map
// index.
func (x *xcomSource) runRows(ctx context.Context, dagID, runID string, p *operator.XComPullParams) ([]xcomRow, error) {
	tasks := p.TaskIDs
	if tasks == nil {
		tasks = []string{""} // every task
	}
	var out []xcomRow
	for _, task := range tasks {
		xs, err := x.store.XComList(ctx, dagID, runID, task)
		if err != nil {
			return nil, err
		}
		for _, v := range xs {
			if selected(v, p) {
				out = append(out, xcomRow{XCom: v})
			}
		}
	}
	return out, nil
}

// priorRows reads the values of every run of the DAG up to runID's
// logical date.
func (x *xcomSource) priorRows(ctx context.Context, dagID, runID string, p *operator.XComPullParams) ([]xcomRow, error) {
	until := x.try.Run.LogicalDate
	if dagID != x.try.Run.DagID || runID != x.try.Run.RunID {
		run, err := x.store.DagRunGet(ctx, dagID, runID)
		if err != nil {
			return nil, err
		}
		until = run.LogicalDate
	}
	tasks := p.TaskIDs
	if tasks == nil {
		tasks = []string{""}
	}
	var out []xcomRow
	for _, task := range tasks {
		entries, _, err := x.store.XComQuery(ctx, &store.XComQueryParams{DagIDs: []string{dagID}, OnlyDagIDs: true, TaskID: task, Key: p.Key})
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			if !e.LogicalDate.After(until) && selected(e.XCom, p) {
				out = append(out, xcomRow{XCom: e.XCom, logical: e.LogicalDate})
			}
		}
	}
	return out, nil
}

// selected reports whether a stored value matches p's key and map
// indexes (and task ids, for reads of a whole run).
func selected(v *windsock.XCom, p *operator.XComPullParams) bool {
	return (p.Key == "" || v.Key == p.Key) &&
		(p.MapIndexes == nil || slices.Contains(p.MapIndexes, v.MapIndex)) &&
		(p.TaskIDs == nil || slices.Contains(p.TaskIDs, v.TaskID))
}

// sortPulled orders pulled values as Airflow does: by the position of the
// task in p.TaskIDs (task id when none), then of the map index in
// p.MapIndexes (ascending when none), then latest run first, then key.
func sortPulled(rows []xcomRow, p *operator.XComPullParams) {
	pos := func(list []string, s string) int { return slices.Index(list, s) }
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.TaskID != b.TaskID {
			if p.TaskIDs != nil {
				return pos(p.TaskIDs, a.TaskID) < pos(p.TaskIDs, b.TaskID)
			}
			return a.TaskID < b.TaskID
		}
		if a.MapIndex != b.MapIndex {
			if p.MapIndexes != nil {
				return slices.Index(p.MapIndexes, a.MapIndex) < slices.Index(p.MapIndexes, b.MapIndex)
			}
			return a.MapIndex < b.MapIndex
		}
		if !a.logical.Equal(b.logical) {
			return a.logical.After(b.logical)
		}
		return a.Key < b.Key
	})
}
