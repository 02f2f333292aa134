package taskrun

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// recordOutlets records a dataset event for each outlet of a successful
// try, in the transaction that records the success, so that an event
// exists exactly when the success does and consumers are queued at once.
// An outlet whose dataset is unknown (its DAG was not stored through the
// DAG processor) is skipped with a warning, as Airflow skips it.
func (r *Runner) recordOutlets(ctx context.Context, q store.Queries, try *Try, task *windsock.Task, now time.Time) error {
	if task == nil {
		return nil
	}
	for _, uri := range task.Outlets {
		_, err := scheduler.RecordDatasetEvent(ctx, q, &store.DatasetEventCreateParams{
			URI: uri, SourceDagID: try.TI.DagID, SourceTaskID: try.TI.TaskID, SourceRunID: try.TI.RunID,
			SourceMapIndex: try.TI.MapIndex, Timestamp: now,
		})
		if windsock.ErrorCode(err) == windsock.ENOTFOUND {
			r.logger().Warn("outlet dataset is not known: no event recorded", "dag_id", try.TI.DagID, "task_id", try.TI.TaskID, "uri", uri)
			continue
		}
		if err != nil {
			return err
		}
	}
	return nil
}
