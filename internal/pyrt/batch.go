package pyrt

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// batchGrace is what a batch may take beyond its files' timeouts (the
// fork, the result's way back) before it is killed as a whole.
const batchGrace = 5 * time.Second

// ParseBatch imports several files one after the other in one child of the
// parse server and returns their results in order. A fork costs more than
// importing a typical DAG file, so a folder of many files parses several
// times faster in batches. Each file keeps its own timeout, enforced in the
// child with SIGALRM as Airflow's DagBag does (the file's result is then
// Airflow's timeout import error); the batch as a whole is killed after
// len(paths)*timeout plus a grace. Any error (a file that killed the
// child, a batch killed as a whole) fails the whole batch: the caller
// then parses its files one by one with Parse to find the culprit.
func (r *Runtime) ParseBatch(ctx context.Context, paths []string, timeout time.Duration, h Handler) ([]*ParseResult, error) {
	s, err := r.server(ctx)
	if err != nil {
		return nil, err
	}
	runCtx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, time.Duration(len(paths))*timeout+batchGrace)
		defer cancel()
	}
	var out tailBuffer
	out.max = 64 << 10
	raw, err := r.do(runCtx, s, map[string]any{"op": "parse_batch", "files": paths, "timeout": timeout.Seconds()}, &out, h)
	if err != nil {
		return nil, err
	}
	var res struct {
		Results []*ParseResult `json:"results"`
	}
	if err := json.Unmarshal(raw, &res); err != nil {
		return nil, fmt.Errorf("read parse results: %w", err)
	}
	if len(res.Results) != len(paths) {
		return nil, fmt.Errorf("parse batch of %d files returned %d results", len(paths), len(res.Results))
	}
	return res.Results, nil
}
