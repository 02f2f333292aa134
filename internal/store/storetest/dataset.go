package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// datasetDAGs stores an unpaused producer (task load updates s3://b/a and
// s3://b/b) and consumers of s3://b/a and s3://b/b (both) and of s3://b/a
// alone.
func datasetDAGs(t *testing.T, st store.Store) {
	t.Helper()
	ctx := t.Context()
	for _, id := range []string{"producer", "both", "only_a"} {
		p := dagParams(id)
		p.IsPausedUponCreation = false
		mustNo(t, st.DAGUpsert(ctx, p))
	}
	mustNo(t, st.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{
		DagID: "producer", Outlets: map[string][]string{"load": {"s3://b/a", "s3://b/b"}}, Now: zoned(),
	}))
	mustNo(t, st.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{
		DagID: "both", Schedule: windsock.DatasetAll(windsock.DatasetURI("s3://b/a"), windsock.DatasetURI("s3://b/b")), Now: zoned(),
	}))
	mustNo(t, st.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{
		DagID: "only_a", Schedule: windsock.DatasetURI("s3://b/a"), Now: zoned(),
	}))
}

func queuedNames(qs []*windsock.DatasetQueuedEvent) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = q.TargetDagID + " " + q.URI
	}
	return out
}

func testDataset(t *testing.T, open OpenFunc) {
	t.Run("References", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		datasetDAGs(t, st)
		d, err := st.DatasetGet(ctx, "s3://b/a")
		mustNo(t, err)
		if len(d.ConsumingDAGs) != 2 || d.ConsumingDAGs[0].DagID != "both" || d.ConsumingDAGs[1].DagID != "only_a" {
			t.Fatalf("consumers of s3://b/a = %+v, want both and only_a", d.ConsumingDAGs)
		}
		if len(d.ProducingTasks) != 1 || d.ProducingTasks[0].DagID != "producer" || d.ProducingTasks[0].TaskID != "load" {
			t.Fatalf("producers of s3://b/a = %+v, want producer.load", d.ProducingTasks)
		}
		// A new definition replaces the references.
		mustNo(t, st.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{DagID: "only_a", Schedule: windsock.DatasetURI("s3://b/c")}))
		d, err = st.DatasetGet(ctx, "s3://b/a")
		mustNo(t, err)
		if len(d.ConsumingDAGs) != 1 || d.ConsumingDAGs[0].DagID != "both" {
			t.Fatalf("consumers of s3://b/a after only_a moved = %+v, want both", d.ConsumingDAGs)
		}
		all, total, err := st.DatasetList(ctx, &store.DatasetListParams{OrderBy: "uri"})
		mustNo(t, err)
		if total != 3 || len(all) != 3 || all[2].URI != "s3://b/c" {
			t.Fatalf("DatasetList = %d datasets (total %d), want s3://b/a, s3://b/b, s3://b/c", len(all), total)
		}
		page, total, err := st.DatasetList(ctx, &store.DatasetListParams{URIPattern: "b/", DagIDs: []string{"only_a"}, Limit: 5})
		mustNo(t, err)
		if total != 1 || len(page) != 1 || page[0].URI != "s3://b/c" {
			t.Fatalf("DatasetList of only_a = %+v (total %d), want s3://b/c", page, total)
		}
		_, total, err = st.DatasetList(ctx, &store.DatasetListParams{URIPattern: "%"})
		mustNo(t, err)
		if total != 0 {
			t.Fatalf("uri_pattern %% matched %d datasets: LIKE wildcards must be literal", total)
		}
		_, err = st.DatasetGet(ctx, "s3://nope")
		wantCode(t, err, windsock.ENOTFOUND)
		wantCode(t, st.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{DagID: "nope"}), windsock.ENOTFOUND)
		_, _, err = st.DatasetList(ctx, &store.DatasetListParams{OrderBy: "extra"})
		wantCode(t, err, windsock.EINVALID)
	})

	t.Run("EventsQueue", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		datasetDAGs(t, st)
		p := dagParams("paused")
		mustNo(t, st.DAGUpsert(ctx, p)) // paused upon creation
		mustNo(t, st.DatasetReferencesSet(ctx, &store.DatasetReferencesSetParams{DagID: "paused", Schedule: windsock.DatasetURI("s3://b/a")}))

		t0 := time.Date(2024, 5, 1, 12, 0, 0, 123456000, time.UTC)
		ev, consumers, err := st.DatasetEventCreate(ctx, &store.DatasetEventCreateParams{
			URI: "s3://b/a", Extra: map[string]any{"rows": 3, "ratio": 0.5}, SourceDagID: "producer", SourceTaskID: "load",
			SourceRunID: "r1", SourceMapIndex: -1, Timestamp: t0,
		})
		mustNo(t, err)
		if !slices.Equal(consumers, []string{"both", "only_a"}) || ev.ID == 0 || ev.DatasetID == 0 {
			t.Fatalf("event %+v queued for %v, want both and only_a (not the paused one)", ev, consumers)
		}
		// A second event of the same dataset keeps the queued row's time.
		_, _, err = st.DatasetEventCreate(ctx, &store.DatasetEventCreateParams{URI: "s3://b/a", SourceMapIndex: -1, Timestamp: t0.Add(time.Minute)})
		mustNo(t, err)
		q, err := st.DatasetQueueList(ctx, &store.DatasetQueueParams{})
		mustNo(t, err)
		if got := queuedNames(q); !slices.Equal(got, []string{"both s3://b/a", "only_a s3://b/a"}) || !q[0].CreatedAt.Equal(t0) {
			t.Fatalf("queue = %v (first at %v), want both and only_a at %v", got, q[0].CreatedAt, t0)
		}
		_, _, err = st.DatasetEventCreate(ctx, &store.DatasetEventCreateParams{URI: "s3://b/b", SourceMapIndex: -1, Timestamp: t0.Add(2 * time.Minute)})
		mustNo(t, err)
		q, err = st.DatasetQueueList(ctx, &store.DatasetQueueParams{DagID: "both"})
		mustNo(t, err)
		if got := queuedNames(q); !slices.Equal(got, []string{"both s3://b/a", "both s3://b/b"}) {
			t.Fatalf("queue of both = %v", got)
		}
		q, err = st.DatasetQueueList(ctx, &store.DatasetQueueParams{URI: "s3://b/b", Before: &t0})
		mustNo(t, err)
		if len(q) != 0 {
			t.Fatalf("queue of s3://b/b before %v = %v, want none", t0, queuedNames(q))
		}

		evs, total, err := st.DatasetEventList(ctx, &store.DatasetEventListParams{URIs: []string{"s3://b/a"}})
		mustNo(t, err)
		if total != 2 || len(evs) != 2 || !evs[0].Timestamp.Equal(t0.Add(time.Minute)) || evs[1].Extra["rows"] != int64(3) || evs[1].Extra["ratio"] != 0.5 || evs[1].SourceTaskID != "load" {
			t.Fatalf("events of s3://b/a = %+v (total %d), want 2, newest first, with extra and source", evs, total)
		}
		evs, _, err = st.DatasetEventList(ctx, &store.DatasetEventListParams{After: &t0, Before: ptr(t0.Add(2 * time.Minute)), OrderBy: "timestamp"})
		mustNo(t, err)
		if len(evs) != 2 || evs[1].DatasetURI != "s3://b/b" {
			t.Fatalf("events in (t0, t0+2m] = %+v, want the 2 later ones", evs)
		}
		evs, _, err = st.DatasetEventList(ctx, &store.DatasetEventListParams{SourceDagID: "producer", SourceMapIndex: ptr(-1)})
		mustNo(t, err)
		if len(evs) != 1 || evs[0].ID != ev.ID {
			t.Fatalf("events of producer = %+v, want the first", evs)
		}

		deleted, err := st.DatasetQueueDelete(ctx, &store.DatasetQueueParams{DagID: "both"})
		mustNo(t, err)
		if got := queuedNames(deleted); !slices.Equal(got, []string{"both s3://b/a", "both s3://b/b"}) {
			t.Fatalf("deleted = %v", got)
		}
		q, err = st.DatasetQueueList(ctx, &store.DatasetQueueParams{})
		mustNo(t, err)
		if got := queuedNames(q); !slices.Equal(got, []string{"only_a s3://b/a"}) {
			t.Fatalf("queue after delete = %v", got)
		}

		run := newRun("both", 1)
		createRun(t, ctx, st, run, "t")
		mustNo(t, st.DagRunDatasetEventsLink(ctx, run.ID, []int64{ev.ID}))
		evs, _, err = st.DatasetEventList(ctx, &store.DatasetEventListParams{DagRunID: run.ID})
		mustNo(t, err)
		if len(evs) != 1 || evs[0].ID != ev.ID || len(evs[0].CreatedDagRuns) != 1 || evs[0].CreatedDagRuns[0].RunID != run.RunID {
			t.Fatalf("events of run = %+v, want the first, linked to the run", evs)
		}
		wantCode(t, st.DagRunDatasetEventsLink(ctx, run.ID+1000, []int64{ev.ID}), windsock.ENOTFOUND)

		_, _, err = st.DatasetEventCreate(ctx, &store.DatasetEventCreateParams{URI: "s3://nope"})
		wantCode(t, err, windsock.ENOTFOUND)
	})

	t.Run("QueueDeleteRace", func(t *testing.T) {
		t.Parallel()
		ctx, st := setup(t, open)
		datasetDAGs(t, st)
		const rounds, deleters = 20, 6
		for r := range rounds {
			for _, uri := range []string{"s3://b/a", "s3://b/b"} {
				_, _, err := st.DatasetEventCreate(ctx, &store.DatasetEventCreateParams{URI: uri, SourceMapIndex: -1})
				mustNo(t, err)
			}
			var mu sync.Mutex
			var got []string
			var wg sync.WaitGroup
			errs := make(chan error, deleters)
			for range deleters {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := st.InTx(ctx, func(q store.Queries) error {
						d, err := q.DatasetQueueDelete(ctx, &store.DatasetQueueParams{DagID: "both"})
						mu.Lock()
						got = append(got, queuedNames(d)...)
						mu.Unlock()
						return err
					})
					if err != nil {
						errs <- err
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			slices.Sort(got)
			if !slices.Equal(got, []string{"both s3://b/a", "both s3://b/b"}) {
				t.Fatalf("round %d: the deleters got %v, want each queued row exactly once", r, got)
			}
		}
	})
}
