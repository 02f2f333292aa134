package executor

import (
	"context"
	"log/slog"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// NotifyWorkers is the scheduler's executor when workers run the tasks
// (core.executor = CeleryExecutor): the task instances are already queued
// in the database, so handing them over is waking the workers.
type NotifyWorkers struct {
	Store  store.Store
	Logger *slog.Logger
}

// SubmitTx wakes the workers when the queueing transaction commits: one
// round trip fewer than Submit.
func (n NotifyWorkers) SubmitTx(ctx context.Context, q store.Queries, keys []windsock.TaskInstanceKey) error {
	if len(keys) == 0 {
		return nil
	}
	return q.Notify(ctx, store.ChannelQueued, "")
}

// Submit wakes the workers; they claim what is queued for their queues.
func (n NotifyWorkers) Submit(keys []windsock.TaskInstanceKey) {
	if len(keys) == 0 {
		return
	}
	if err := n.Store.Notify(context.Background(), store.ChannelQueued, ""); err != nil && n.Logger != nil {
		// Workers also look every poll interval.
		n.Logger.Warn("could not wake the workers", "error", err)
	}
}
