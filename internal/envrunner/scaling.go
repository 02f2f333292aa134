package envrunner

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/windsock/windsock/internal/app"
	"github.com/windsock/windsock/internal/atomicfile"
	"github.com/windsock/windsock/internal/autoscale"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// every runs fn every interval until ctx ends (the environment's loops:
// scaling and the DAG sync).
func (e *environment) every(ctx context.Context, interval time.Duration, fn func(context.Context)) {
	defer e.loops.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// scaleOnce makes one decision and applies it. It is skipped while an
// update restarts the processes.
func (e *environment) scaleOnce(ctx context.Context) {
	if !e.op.TryLock() {
		return
	}
	defer e.op.Unlock()
	queued, running, err := e.load(ctx)
	if err != nil {
		e.logger.Debug("reading the load failed", "error", err)
		return
	}
	now := e.r.cfg.Clock()
	e.mu.Lock()
	cur := e.lay.Workers
	p := autoscale.Decide(autoscale.State{
		Queued: queued, Running: running, Concurrency: concurrency(e.spec),
		Min: e.spec.MinWorkers, Max: e.spec.MaxWorkers, Current: cur,
		IdleSince: e.idleSince, ScaleInAfter: e.r.cfg.ScaleInAfter,
	}, now)
	e.idleSince = p.IdleSince
	decision := now.UTC().Format(time.RFC3339) + " " + p.Reason
	if p.Changed(cur) || e.scaling == "" {
		e.scaling = decision
	}
	e.mu.Unlock()
	if !p.Changed(cur) {
		return
	}
	e.logger.Info("autoscaling", "decision", p.Reason, "queued", queued, "running", running, "from", cur, "to", p.Workers)
	e.r.cfg.Metrics.ScalingDecision(e.name, cur, p.Workers)
	if err := e.setWorkers(p.Workers); err != nil {
		e.logger.Error("autoscaling failed", "error", err)
	}
}

// load reads the queued and running task instances from the
// environment's metadata database (opened once, read-only use).
func (e *environment) load(ctx context.Context) (queued, running int, err error) {
	st, _, err := e.store(ctx)
	if err != nil {
		return 0, 0, err
	}
	count := func(state windsock.TaskInstanceState) (int, error) {
		_, n, err := st.TaskInstanceQuery(ctx, &store.TaskInstanceQueryParams{States: []windsock.TaskInstanceState{state}, Limit: 1})
		return n, err
	}
	if queued, err = count(windsock.TaskStateQueued); err != nil {
		return 0, 0, err
	}
	running, err = count(windsock.TaskStateRunning)
	return queued, running, err
}

// errStopping is returned for the store of an environment being stopped.
var errStopping = windsock.Errorf(windsock.ENOTFOUND, "environment stopping")

// store returns the environment's metadata database and configuration,
// opened on first use and kept until the environment stops; once it
// stops, never again.
func (e *environment) store(ctx context.Context) (store.Store, *config.Config, error) {
	e.mu.Lock()
	st, cfg, closed := e.st, e.stCfg, e.stClosed
	e.mu.Unlock()
	if closed {
		return nil, nil, fmt.Errorf("%s: %w", e.name, errStopping)
	}
	if st != nil {
		return st, cfg, nil
	}
	cfg, err := config.Load(string(e.h), nil)
	if err != nil {
		return nil, nil, err
	}
	if st, err = app.OpenStore(ctx, cfg); err != nil {
		return nil, nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.stClosed: // stop began while it opened
		st.Close()
		return nil, nil, fmt.Errorf("%s: %w", e.name, errStopping)
	case e.st != nil: // opened meanwhile by another caller
		st.Close()
		return e.st, e.stCfg, nil
	}
	e.st, e.stCfg = st, cfg
	return st, cfg, nil
}

// reloadStoreConfig reads the configuration again for the open store
// (after an update: the health thresholds may have changed).
func (e *environment) reloadStoreConfig() {
	cfg, err := config.Load(string(e.h), nil)
	if err != nil {
		e.logger.Warn("reading the configuration again failed; health keeps the thresholds it had", "error", err)
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stCfg = cfg
}

// setWorkers runs n workers: on one process by its executor's slots; else
// by starting workers, or draining the highest-numbered ones (each
// finishes its running tries before it stops, so none is lost).
func (e *environment) setWorkers(n int) error {
	e.mu.Lock()
	lay, spec := e.lay, e.spec
	e.mu.Unlock()
	if lay.Single {
		if err := atomicfile.Write(e.h.slotsFile(), []byte(strconv.Itoa(n*concurrency(spec))+"\n"), 0o600); err != nil {
			return err
		}
		e.mu.Lock()
		lay.Workers = n
		e.mu.Unlock()
		return e.h.writeLayout(lay)
	}
	level := "AIRFLOW__LOGGING__LOGGING_LEVEL=" + levelOf(spec.Logging[GroupWorker].LogLevel)
	for w := 1; len(lay.WorkerPorts) < n; w++ {
		if _, ok := lay.WorkerPorts[w]; ok {
			continue
		}
		port, err := e.r.freePort()
		if err != nil {
			return err
		}
		if err := e.startProcess(workerProc(spec, w, port, level)); err != nil {
			e.r.releasePorts(port)
			return err
		}
		e.mu.Lock()
		lay.WorkerPorts[w] = port
		e.mu.Unlock()
	}
	for len(lay.WorkerPorts) > n {
		highest := 0
		for w := range lay.WorkerPorts {
			highest = max(highest, w)
		}
		id := "worker-" + strconv.Itoa(highest)
		e.mu.Lock()
		p, port := e.procs[id], lay.WorkerPorts[highest]
		delete(e.procs, id)
		delete(lay.WorkerPorts, highest)
		e.mu.Unlock()
		if p != nil {
			e.draining.Add(1)
			go func() {
				defer e.draining.Done()
				stopDraining(p, 24*time.Hour)
				e.r.releasePorts(port)
				e.logger.Info("worker drained and stopped", "worker", id)
			}()
		}
	}
	e.mu.Lock()
	lay.Workers = n
	e.mu.Unlock()
	return e.h.writeLayout(lay)
}

// syncOnce mirrors the bucket's DAG prefix into the DAG folder.
func (e *environment) syncOnce(ctx context.Context) {
	e.mu.Lock()
	s := e.dagSync
	e.mu.Unlock()
	if s == nil {
		return
	}
	if _, err := s.Sync(ctx); err != nil && ctx.Err() == nil {
		e.logger.Warn("reading the DAGs from the bucket failed", "error", err)
	}
}
