package dagprocessor

import (
	"context"
	"fmt"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// writeDatasetReferences records the datasets a definition schedules on
// and updates, so that producers' events find their consumers (and the
// API lists them) before any run.
func writeDatasetReferences(ctx context.Context, q store.Queries, d *windsock.DAG, now time.Time) error {
	outlets := map[string][]string{}
	for _, t := range d.Tasks {
		if len(t.Outlets) > 0 {
			outlets[t.TaskID] = t.Outlets
		}
	}
	if err := q.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{
		DagID: d.DagID, Schedule: d.Schedule.Datasets, Outlets: outlets, Now: now,
	}); err != nil {
		return fmt.Errorf("store dataset references of %s: %w", d.DagID, err)
	}
	return nil
}

// datasetsDescription is Airflow's timetable description of a dataset
// schedule: "Triggered by datasets", or "Triggered by datasets or <time
// schedule>" for DatasetOrTimeSchedule.
func datasetsDescription(s windsock.Schedule, timeDescription string) string {
	switch {
	case s.Datasets == nil:
		return timeDescription
	case s.Kind == windsock.ScheduleDatasets:
		return "Triggered by datasets"
	}
	return "Triggered by datasets or " + timeDescription
}
