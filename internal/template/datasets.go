package template

import "github.com/windsock/windsock/internal/windsock"

// triggeringDatasetEvents is Airflow's triggering_dataset_events: dataset
// URI -> the events of that dataset that triggered the run, oldest first,
// each with DatasetEvent's attributes (dataset_id, extra, source_dag_id,
// source_task_id, source_run_id, source_map_index, timestamp, and
// dataset.uri).
func triggeringDatasetEvents(evs []*windsock.DatasetEvent) map[string]any {
	out := map[string]any{}
	for _, e := range evs {
		list, _ := out[e.DatasetURI].([]any)
		out[e.DatasetURI] = append(list, map[string]any{
			"id":               e.ID,
			"dataset_id":       e.DatasetID,
			"dataset":          map[string]any{"uri": e.DatasetURI},
			"extra":            e.Extra,
			"source_dag_id":    nilIfEmpty(e.SourceDagID),
			"source_task_id":   nilIfEmpty(e.SourceTaskID),
			"source_run_id":    nilIfEmpty(e.SourceRunID),
			"source_map_index": e.SourceMapIndex,
			"timestamp":        contextDate(e.Timestamp),
		})
	}
	return out
}
