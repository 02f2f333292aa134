package scheduler

import (
	"context"
	"sync"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// DAGCache serves parsed DAG definitions from the store to processes that
// run tasks without a scheduler (workers): a definition is parsed once and
// kept until its stored hash changes, which is checked at most every
// maxAge.
type DAGCache struct {
	c      *dagCache
	maxAge time.Duration

	mu      sync.Mutex
	checked time.Time
}

// NewDAGCache returns a cache over st that notices changed definitions
// within maxAge.
func NewDAGCache(st store.Store, maxAge time.Duration) *DAGCache {
	return &DAGCache{c: newDAGCache(st), maxAge: maxAge}
}

// DAG returns a DAG's definition.
func (d *DAGCache) DAG(ctx context.Context, dagID string) (*windsock.DAG, error) {
	d.mu.Lock()
	stale := time.Since(d.checked) > d.maxAge
	if stale {
		d.checked = time.Now()
	}
	d.mu.Unlock()
	if stale {
		if _, err := d.c.refresh(ctx); err != nil {
			return nil, err
		}
	}
	e, err := d.c.get(ctx, dagID)
	if err != nil {
		return nil, err
	}
	return e.dag, nil
}
