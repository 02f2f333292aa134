package scheduler

import (
	"context"

	"github.com/windsock/windsock/internal/windsock"
)

// notifySLAMisses hands the SLA misses nobody has notified yet to
// Config.OnSLAMiss, one call per DAG, through the hook queue, off the
// loop (it runs the DAG's sla_miss_callback and sends the alert emails). The store
// claims each miss for one scheduler only. It asks only when this process
// has just recorded misses, or has not asked since it started (misses a
// crashed scheduler recorded but did not notify).
func (s *Scheduler) notifySLAMisses(ctx context.Context) error {
	if s.cfg.OnSLAMiss == nil || !s.slaMissesPending {
		return nil
	}
	misses, err := s.cfg.Store.SlaMissClaimUnnotified(ctx)
	if err != nil {
		return err
	}
	s.slaMissesPending = false
	byDAG := map[string][]*windsock.SlaMiss{}
	var order []string
	for _, m := range misses {
		if byDAG[m.DagID] == nil {
			order = append(order, m.DagID)
		}
		byDAG[m.DagID] = append(byDAG[m.DagID], m)
	}
	for _, dagID := range order {
		ms := byDAG[dagID]
		s.hooks.do(RunRef{DagID: dagID}, func() { s.cfg.OnSLAMiss(dagID, ms) })
	}
	return nil
}
