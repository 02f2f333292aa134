package taskrun

import (
	"context"
	"time"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// recordOutlets records a dataset event for each outlet of a successful
// try, in the transaction that records the success (RecordFinish, also
// when a journaled finish is replayed), so that an event exists exactly
// when the success does and consumers are queued at once. An outlet whose
// dataset is unknown (its DAG was never stored by the DAG processor) gets
// no event, as Airflow skips it. An event carries the extra the try set
// through outlet_events[Dataset(uri)].extra.
func recordOutlets(ctx context.Context, q store.Queries, ti *windsock.TaskInstance, outlets []string, extras map[string]map[string]any, now time.Time) error {
	for _, uri := range outlets {
		_, err := scheduler.RecordDatasetEvent(ctx, q, &store.DatasetEventCreateParams{
			URI: uri, Extra: extras[uri], SourceDagID: ti.DagID, SourceTaskID: ti.TaskID, SourceRunID: ti.RunID,
			SourceMapIndex: ti.MapIndex, Timestamp: now,
		})
		if err != nil && windsock.ErrorCode(err) != windsock.ENOTFOUND {
			return err
		}
	}
	return nil
}
