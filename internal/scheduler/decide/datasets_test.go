package decide

import (
	"slices"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

func queuedURIs(uris ...string) []*windsock.DatasetQueuedEvent {
	var out []*windsock.DatasetQueuedEvent
	for _, u := range uris {
		out = append(out, &windsock.DatasetQueuedEvent{URI: u, TargetDagID: "consumer"})
	}
	return out
}

func TestDatasetsReady(t *testing.T) {
	t.Parallel()
	a, b, c := windsock.DatasetURI("a://1"), windsock.DatasetURI("a://2"), windsock.DatasetURI("a://3")
	tests := []struct {
		name   string
		cond   *windsock.DatasetCondition
		queued []*windsock.DatasetQueuedEvent
		want   bool
	}{
		{"one dataset, updated", a, queuedURIs("a://1"), true},
		{"one dataset, nothing queued", a, nil, false},
		{"all, one of two", windsock.DatasetAll(a, b), queuedURIs("a://1"), false},
		{"all, both", windsock.DatasetAll(a, b), queuedURIs("a://2", "a://1"), true},
		{"any, one", windsock.DatasetAny(a, b), queuedURIs("a://2"), true},
		{"any, another dataset", windsock.DatasetAny(a, b), queuedURIs("a://3"), false},
		{"(a & b) | c, c", windsock.DatasetAny(windsock.DatasetAll(a, b), c), queuedURIs("a://3"), true},
		{"(a & b) | c, a", windsock.DatasetAny(windsock.DatasetAll(a, b), c), queuedURIs("a://1"), false},
		{"a & (b | c), a and c", windsock.DatasetAll(a, windsock.DatasetAny(b, c)), queuedURIs("a://1", "a://3"), true},
		{"no condition", nil, queuedURIs("a://1"), false},
	}
	for _, tt := range tests {
		if got := DatasetsReady(tt.cond, tt.queued); got != tt.want {
			t.Errorf("%s: DatasetsReady(%s) = %v, want %v", tt.name, tt.cond, got, tt.want)
		}
	}
}

func TestDatasetRun(t *testing.T) {
	t.Parallel()
	at := func(m int) time.Time { return time.Date(2024, 1, 1, 0, m, 0, 0, time.UTC) }
	consumed := []*windsock.DatasetQueuedEvent{{URI: "a://1", CreatedAt: at(5)}, {URI: "a://2", CreatedAt: at(9)}}
	events := []*windsock.DatasetEvent{{ID: 7, Timestamp: at(9)}, {ID: 3, Timestamp: at(2)}, {ID: 5, Timestamp: at(5)}}
	p := DatasetRun(consumed, events)
	if !p.LogicalDate.Equal(at(9)) || !p.IntervalStart.Equal(at(2)) || !p.IntervalEnd.Equal(at(9)) || !slices.Equal(p.EventIDs, []int64{7, 3, 5}) {
		t.Errorf("DatasetRun = %+v, want logical date and end at :09, start at :02, events 7, 3, 5", p)
	}
	p = DatasetRun(consumed, nil)
	if !p.IntervalStart.Equal(at(9)) || !p.IntervalEnd.Equal(at(9)) || p.EventIDs != nil {
		t.Errorf("DatasetRun without events = %+v, want an empty interval at the logical date", p)
	}
}
