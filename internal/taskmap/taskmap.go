// Package taskmap reads, from the store, what mapped tasks need at run
// time: the values an expansion maps over, and the values a mapped task
// hands on downstream (the list of its instances' values, in map index
// order). The scheduler (to expand), the workers (to give each instance
// its arguments) and templates (ti.xcom_pull) share it.
package taskmap

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// Value returns what a task pushed under key, as downstream tasks see it:
// an unmapped task's value (map index -1), or for a mapped task (per d)
// the JSON list of its instances' values in map index order, as Airflow's
// xcom_pull without map_indexes returns them. found is false when an
// unmapped task pushed nothing.
func Value(ctx context.Context, q store.Queries, d *windsock.DAG, runID, taskID, key string) (json.RawMessage, bool, error) {
	if key == "" {
		key = windsock.XComReturnKey
	}
	if d == nil || !d.Task(taskID).Mapped() {
		x, err := q.XComGet(ctx, &store.XComGetParams{DagID: dagID(d), RunID: runID, TaskID: taskID, MapIndex: -1, Key: key})
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		return x.Value, true, nil
	}
	xs, err := q.XComList(ctx, d.DagID, runID, taskID)
	if err != nil {
		return nil, false, fmt.Errorf("read the values of mapped task %s: %w", taskID, err)
	}
	var b bytes.Buffer
	b.WriteByte('[')
	n := 0
	for _, x := range xs { // ordered by map index
		if x.MapIndex < 0 || x.Key != key {
			continue
		}
		if n > 0 {
			b.WriteByte(',')
		}
		b.Write(x.Value)
		n++
	}
	b.WriteByte(']')
	return b.Bytes(), true, nil
}

func dagID(d *windsock.DAG) string {
	if d == nil {
		return ""
	}
	return d.DagID
}

// Inputs resolves the XCom sources of a mapped task's expansion in one run.
// A source that pushed nothing is left out; Expand.Length and IndexArgs
// then say so.
func Inputs(ctx context.Context, q store.Queries, d *windsock.DAG, runID string, e *windsock.Expand) (windsock.MapInputs, error) {
	sources := e.Sources()
	if len(sources) == 0 {
		return nil, nil
	}
	in := make(windsock.MapInputs, len(sources))
	for _, id := range sources {
		v, found, err := Value(ctx, q, d, runID, id, windsock.XComReturnKey)
		if err != nil {
			return nil, err
		}
		if found {
			in[id] = v
		}
	}
	return in, nil
}

// IndexArgs returns the mapped arguments of one instance of a mapped task,
// and the number of instances (Airflow's expanded_ti_count).
func IndexArgs(ctx context.Context, q store.Queries, d *windsock.DAG, t *windsock.Task, runID string, mapIndex int) (map[string]any, int, error) {
	in, err := Inputs(ctx, q, d, runID, t.Expand)
	if err != nil {
		return nil, 0, err
	}
	n, err := t.Expand.Length(in)
	if err != nil {
		return nil, 0, err
	}
	kw, err := t.Expand.IndexArgs(mapIndex, in)
	return kw, n, err
}

// NeedsMappable reports whether a value taskID returns is mapped over by
// another task of d, so it must be a list or dict within
// core.max_map_length (windsock.CheckMappable). A mapped task's own values
// are not checked: downstream tasks map over the list of them.
func NeedsMappable(d *windsock.DAG, taskID string) bool {
	if d == nil || d.Task(taskID).Mapped() {
		return false
	}
	for _, t := range d.Tasks {
		if !t.Mapped() {
			continue
		}
		for _, id := range t.Expand.Sources() {
			if id == taskID {
				return true
			}
		}
	}
	return false
}
