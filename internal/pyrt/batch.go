package pyrt

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// batchGrace is what one file of a batch may take beyond its timeout (the
// SIGALRM handler, the call announcing the next file) before the batch is
// killed as a whole.
const batchGrace = 5 * time.Second

// StuckError is ParseBatch's error when the batch was killed because File
// ran past its timeout where SIGALRM could not interrupt it.
type StuckError struct {
	File    string
	Timeout time.Duration
}

// Error implements error.
func (e *StuckError) Error() string {
	return fmt.Sprintf("%s: %v after %s", e.File, ErrTimeout, e.Timeout)
}

// Unwrap makes a StuckError an ErrTimeout.
func (e *StuckError) Unwrap() error { return ErrTimeout }

// ParseBatch imports several files one after the other in one worker and
// returns their results in order. A request costs more than importing a
// typical DAG file, so a folder of many files parses faster in batches.
// Each file keeps its own timeout, enforced in the worker with SIGALRM as
// Airflow's DagBag does (the file's result is then Airflow's timeout
// import error with the line it was at). The worker announces each file;
// when one takes timeout plus a grace without the next being announced
// (it is stuck where SIGALRM cannot reach), the batch is killed and a
// *StuckError names that file. Any other error (a file that killed the
// worker) fails the whole batch: the caller then parses its files one by
// one with Parse to find the culprit.
func (r *Runtime) ParseBatch(ctx context.Context, paths []string, timeout time.Duration, h Handler) ([]*ParseResult, error) {
	s, err := r.server(ctx)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	watch := &batchWatch{h: h, started: make(chan struct{}, 1)}
	if timeout > 0 {
		done := make(chan struct{})
		defer close(done)
		go watch.guard(done, timeout+batchGrace, cancel)
	}
	var out tailBuffer
	out.max = 64 << 10
	raw, err := r.do(runCtx, s, map[string]any{"op": "parse_batch", "files": paths, "timeout": timeout.Seconds()}, &out, watch)
	if err != nil {
		if file, stuck := watch.stuck(); stuck && ctx.Err() == nil {
			return nil, &StuckError{File: file, Timeout: timeout}
		}
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

// batchWatch answers a batch's calls: parse_started (the worker begins a
// file) itself, the rest through h.
type batchWatch struct {
	h       Handler
	started chan struct{}

	mu     sync.Mutex
	last   string // the file the worker began last
	killed bool
}

// stuck returns the file the batch was killed on, if it was.
func (w *batchWatch) stuck() (string, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last, w.killed
}

// Call implements Handler.
func (w *batchWatch) Call(ctx context.Context, name string, args json.RawMessage) (any, error) {
	if name == "parse_started" {
		var a struct {
			File string `json:"file"`
		}
		_ = json.Unmarshal(args, &a) // a file name only serves the error message
		w.mu.Lock()
		w.last = a.File
		w.mu.Unlock()
		select {
		case w.started <- struct{}{}:
		default: // the guard has a signal pending already
		}
		return true, nil
	}
	if w.h == nil {
		return nil, windsock.Errorf(windsock.EUNAVAILABLE, "%s is not available here", name)
	}
	return w.h.Call(ctx, name, args)
}

// guard calls kill when limit passes with no file started, until done.
func (w *batchWatch) guard(done <-chan struct{}, limit time.Duration, kill func()) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-w.started:
			t.Reset(limit)
		case <-t.C:
			w.mu.Lock()
			w.killed = true
			w.mu.Unlock()
			kill()
			return
		}
	}
}
