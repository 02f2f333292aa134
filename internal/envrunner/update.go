package envrunner

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/atomicfile"
	"github.com/windsock/windsock/internal/config"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/supervise"
)

// update applies spec: the configuration and the bucket's objects are
// prepared first (a failure there leaves everything as it was), then the
// processes are restarted one at a time. When the new processes do not
// come up, the previous configuration is written and started again.
func (e *environment) update(ctx context.Context, _, spec envspec.Spec) error {
	e.op.Lock()
	defer e.op.Unlock()
	// Whichever configuration ends up written, health reads with it.
	defer e.reloadStoreConfig()
	e.mu.Lock()
	prev, lay := e.spec, e.lay
	e.mu.Unlock()
	cfgPath := e.h.path(config.FileName)
	prevCfg, err := os.ReadFile(cfgPath)
	if err != nil {
		return err
	}
	restoreCfg := func() { _ = atomicfile.Write(cfgPath, prevCfg, 0o600) }
	if err := e.prepare(ctx, spec, lay.Single); err != nil {
		restoreCfg()
		return err
	}
	e.mu.Lock()
	e.spec = spec
	e.mu.Unlock()
	forced := strings.EqualFold(spec.WorkerReplacementStrategy, "FORCED")
	err = e.restart(ctx, spec, forced)
	if err == nil {
		e.logger.Info("environment updated", "strategy", spec.WorkerReplacementStrategy)
		return nil
	}
	e.logger.Error("update failed; starting the previous configuration again", "error", err)
	e.mu.Lock()
	e.spec = prev
	e.mu.Unlock()
	if perr := e.prepare(ctx, prev, lay.Single); perr != nil {
		restoreCfg()
	}
	if rerr := e.restart(ctx, prev, true); rerr != nil {
		return fmt.Errorf("%w (and the previous configuration did not come up again: %v)", err, rerr)
	}
	return err
}

// restart replaces the processes with spec's, one at a time: a worker is
// drained first unless forced (its running tries are then handed back to
// run again as the same try), other processes get StopGrace.
func (e *environment) restart(ctx context.Context, spec envspec.Spec, forced bool) error {
	e.mu.Lock()
	lay := e.lay
	e.mu.Unlock()
	if err := e.allocate(lay, spec); err != nil {
		return err
	}
	e.mu.Lock()
	want := plan(spec, lay, e.h.slotsFile())
	wanted := map[string]bool{}
	for _, ps := range want {
		wanted[ps.id] = true
	}
	var gone []*supervise.Process
	for id, p := range e.procs {
		if !wanted[id] {
			gone = append(gone, p)
			delete(e.procs, id)
		}
	}
	e.mu.Unlock()
	for _, p := range gone {
		stopDraining(p, e.grace(forced))
	}
	for _, ps := range want {
		e.mu.Lock()
		p := e.procs[ps.id]
		delete(e.procs, ps.id)
		e.mu.Unlock()
		if p != nil {
			grace := e.r.cfg.StopGrace
			if ps.worker > 0 || ps.id == "standalone" {
				grace = e.grace(forced)
			}
			stopDraining(p, grace)
		}
		if err := e.startProcess(ps); err != nil {
			return err
		}
	}
	return e.waitHealthy(ctx, lay.WebPorts)
}

// grace is how long a worker's running tries may go on when it is
// replaced: GRACEFUL lets them finish (up to StopGrace), FORCED hands them
// back at once.
func (e *environment) grace(forced bool) time.Duration {
	if forced {
		return 0
	}
	return e.r.cfg.StopGrace
}
