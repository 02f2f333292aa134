package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/api"
	"github.com/windsock/windsock/internal/auth"

	"github.com/windsock/windsock/internal/scheduler"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/windsock"
)

// waitRunOf returns the next run of dagID to finish.
func (er *engineRun) waitRunOf(t testing.TB, dagID string) *windsock.DagRun {
	t.Helper()
	return er.waitRuns(t, dagID)[dagID]
}

// waitRuns returns the next run of each of dagIDs to finish, in whatever
// order they finish (a consumer may finish before its producer's run).
func (er *engineRun) waitRuns(t testing.TB, dagIDs ...string) map[string]*windsock.DagRun {
	t.Helper()
	out := map[string]*windsock.DagRun{}
	timeout := time.After(60 * time.Second)
	for len(out) < len(dagIDs) {
		select {
		case r := <-er.runs:
			if slices.Contains(dagIDs, r.DagID) && out[r.DagID] == nil {
				out[r.DagID] = r
			}
		case <-timeout:
			t.Fatalf("runs of %v did not finish within 60 s (finished: %v)", dagIDs, out)
		}
	}
	return out
}

// produce starts a run of a producer and returns it and the consumer's
// run, once both finished.
func (er *engineRun) produce(t testing.TB, producer, consumer string, logical time.Time) (produced, consumed *windsock.DagRun) {
	t.Helper()
	er.start(t, producer, logical)
	got := er.waitRuns(t, producer, consumer)
	return got[producer], got[consumer]
}

func runsOf(t *testing.T, st store.Store, dagID string) []*windsock.DagRun {
	t.Helper()
	runs, err := st.DagRunList(context.Background(), &store.DagRunListParams{DagID: dagID})
	if err != nil {
		t.Fatal(err)
	}
	return runs
}

func TestEngineProducerTriggersConsumer(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"datasets.yaml": `
producer:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: load
      operator: bash
      bash_command: "true"
      outlets: ['s3://bucket/orders.parquet']
consumer:
  schedule: ['s3://bucket/orders.parquet']
  start_date: 2024-01-01
  tasks:
    - task_id: report
      operator: bash
      bash_command: "echo {{ run_id.split('__')[0] }} {{ triggering_dataset_events['s3://bucket/orders.parquet'][0].source_dag_id }} {{ triggering_dataset_events['s3://bucket/orders.parquet'][0].source_task_id }}"
`})
	ctx := context.Background()
	er := startEngine(t, env, nil)
	produced, consumed := er.produce(t, "producer", "consumer", day)
	if produced.State != windsock.DagRunSuccess {
		t.Fatalf("producer run ended %s", produced.State)
	}
	if consumed.State != windsock.DagRunSuccess || consumed.RunType != windsock.RunTypeDatasetTriggered {
		t.Fatalf("consumer run %s ended %s, want a successful dataset_triggered run", consumed.RunID, consumed.State)
	}
	evs, _, err := env.Store.DatasetEventList(ctx, &store.DatasetEventListParams{DagRunID: consumed.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || evs[0].SourceRunID != produced.RunID || evs[0].SourceTaskID != "load" || evs[0].DatasetURI != "s3://bucket/orders.parquet" {
		t.Fatalf("consumer run's triggering events = %+v, want the producer's", evs)
	}
	if !consumed.DataIntervalStart.Equal(evs[0].Timestamp) || !consumed.DataIntervalEnd.Equal(evs[0].Timestamp) || !consumed.LogicalDate.Equal(evs[0].Timestamp) {
		t.Errorf("consumer run at %v, interval %v-%v; want all at the event's time %v", consumed.LogicalDate, consumed.DataIntervalStart, consumed.DataIntervalEnd, evs[0].Timestamp)
	}
	x, err := env.Store.XComGet(ctx, &store.XComGetParams{DagID: "consumer", RunID: consumed.RunID, TaskID: "report", MapIndex: -1, Key: "return_value"})
	if err != nil {
		t.Fatal(err)
	}
	if string(x.Value) != `"dataset_triggered producer load"` {
		t.Errorf("report printed %s, want the run type and the triggering event's source", x.Value)
	}
	if q, err := env.Store.DatasetQueueList(ctx, &store.DatasetQueueParams{}); err != nil || len(q) != 0 {
		t.Errorf("queue after the consumer run = %d rows (%v), want empty", len(q), err)
	}
}

func TestEngineConsumerWaitsForBothDatasets(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"datasets.yaml": `
producer_a:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: a, operator: bash, bash_command: "true", outlets: ['file:///data/a']}
producer_b:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: b, operator: bash, bash_command: "true", outlets: ['file:///data/b']}
consumer:
  schedule: {datasets: "file:///data/a & file:///data/b"}
  start_date: 2024-01-01
  tasks:
    - {task_id: report, operator: bash, bash_command: "true"}
`})
	ctx := context.Background()
	er := startEngine(t, env, nil)
	for round := range 2 {
		// a twice, then b: one run, triggered by the three events.
		first := er.trigger(t, "producer_a", day.Add(time.Duration(2*round)*time.Hour), nil)
		again := er.trigger(t, "producer_a", day.Add(time.Duration(2*round)*time.Hour+time.Minute), nil)
		q, err := env.Store.DatasetQueueList(ctx, &store.DatasetQueueParams{DagID: "consumer"})
		if err != nil {
			t.Fatal(err)
		}
		if len(q) != 1 || q[0].URI != "file:///data/a" {
			t.Fatalf("round %d: queue after a's runs = %+v, want a's event only", round, q)
		}
		last, consumed := er.produce(t, "producer_b", "consumer", day.Add(time.Duration(2*round+1)*time.Hour))
		if consumed.State != windsock.DagRunSuccess {
			t.Fatalf("round %d: consumer run ended %s", round, consumed.State)
		}
		if n := len(runsOf(t, env.Store, "consumer")); n != round+1 {
			t.Fatalf("round %d: consumer has %d runs, want %d", round, n, round+1)
		}
		evs, _, err := env.Store.DatasetEventList(ctx, &store.DatasetEventListParams{DagRunID: consumed.ID, OrderBy: "timestamp"})
		if err != nil {
			t.Fatal(err)
		}
		var sources []string
		for _, e := range evs {
			sources = append(sources, e.SourceRunID)
		}
		if want := []string{first.RunID, again.RunID, last.RunID}; !slices.Equal(sources, want) {
			t.Fatalf("round %d: triggering events from %v, want %v", round, sources, want)
		}
	}
}

// TestEngineExternalDatasetEventThroughAPI posts events to the REST API
// (POST /api/v1/datasets/events) beside a running engine: each creates a
// consumer run, as a producer's success would.
func TestEngineExternalDatasetEventThroughAPI(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"datasets.yaml": `
consumer:
  schedule: {datasets: {__or__: ['s3://in/x', 's3://in/y']}}
  start_date: 2024-01-01
  tasks:
    - {task_id: report, operator: bash, bash_command: "echo {% for uri, evs in triggering_dataset_events.items() %}{{ uri }}={{ evs[0].extra.rows }}{% endfor %}"}
`})
	hash, err := auth.HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Store.UserCreate(context.Background(), &windsock.User{Username: "ops", FirstName: "o", LastName: "p", Email: "ops@example.com",
		Password: hash, Active: true, Roles: []string{auth.RoleOp}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer((&api.Server{Store: env.Store, Config: env.Config, HealthThreshold: time.Minute}).Handler())
	t.Cleanup(srv.Close)
	post := func(body string) (int, map[string]any) {
		req, err := http.NewRequest("POST", srv.URL+"/api/v1/datasets/events", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.SetBasicAuth("ops", "pw")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	// The DAG's details name its condition and dataset schedule.
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/dags/consumer/details", nil)
	req.SetBasicAuth("ops", "pw")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var details struct {
		DatasetExpression    map[string][]string `json:"dataset_expression"`
		ScheduleInterval     map[string]string   `json:"schedule_interval"`
		TimetableDescription string              `json:"timetable_description"`
	}
	err = json.NewDecoder(resp.Body).Decode(&details)
	resp.Body.Close()
	if err != nil || !slices.Equal(details.DatasetExpression["any"], []string{"s3://in/x", "s3://in/y"}) ||
		details.ScheduleInterval["value"] != "Dataset" || details.TimetableDescription != "Triggered by datasets" {
		t.Fatalf("details = %+v (%v), want the any-condition, schedule Dataset", details, err)
	}

	er := startEngine(t, env, nil)
	if status, body := post(`{"dataset_uri": "s3://nope"}`); status != http.StatusNotFound {
		t.Fatalf("event of an unknown dataset: %d %v, want 404", status, body)
	}
	status, body := post(`{"dataset_uri": "s3://in/y", "extra": {"rows": 42}}`)
	if status != http.StatusOK || body["dataset_uri"] != "s3://in/y" || body["source_dag_id"] != nil {
		t.Fatalf("POST /datasets/events: %d %v", status, body)
	}
	run := er.waitRunOf(t, "consumer")
	if run.State != windsock.DagRunSuccess || run.RunType != windsock.RunTypeDatasetTriggered {
		t.Fatalf("consumer run ended %s (%s)", run.State, run.RunType)
	}
	x, err := env.Store.XComGet(context.Background(), &store.XComGetParams{DagID: "consumer", RunID: run.RunID, TaskID: "report", MapIndex: -1, Key: "return_value"})
	if err != nil || string(x.Value) != `"s3://in/y=42"` {
		t.Fatalf("report saw extra %v (%v), want the event's rows 42", x, err)
	}
	if status, _ := post(`{"dataset_uri": "s3://in/x"}`); status != http.StatusOK {
		t.Fatalf("second event: %d", status)
	}
	if run := er.waitRunOf(t, "consumer"); run.State != windsock.DagRunSuccess {
		t.Fatalf("second consumer run ended %s", run.State)
	}
	if n := len(runsOf(t, env.Store, "consumer")); n != 2 {
		t.Fatalf("consumer has %d runs, want one per event (either dataset triggers it)", n)
	}
}

// TestEngineDatasetOrTimeSchedule runs a DAG on a cron schedule and on
// dataset events (DatasetOrTimeSchedule): both kinds of run are created.
func TestEngineDatasetOrTimeSchedule(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"datasets.yaml": `
both:
  schedule: {datasets: ['s3://t/a'], timetable: {__type__: airflow.timetables.trigger.CronTriggerTimetable, cron: "@daily", timezone: UTC}}
  start_date: 2024-01-01
  catchup: false
  tasks:
    - {task_id: t, operator: bash, bash_command: "true"}
`})
	er := startEngine(t, env, nil)
	// The latest daily interval is run at once (catchup off)...
	if run := er.waitRunOf(t, "both"); run.RunType != windsock.RunTypeScheduled || run.State != windsock.DagRunSuccess {
		t.Fatalf("first run %s is %s (%s), want a successful scheduled run", run.RunID, run.RunType, run.State)
	}
	// ...and an event adds a dataset-triggered run.
	recordEvent(t, env.Store, "s3://t/a")
	if run := er.waitRunOf(t, "both"); run.RunType != windsock.RunTypeDatasetTriggered || run.State != windsock.DagRunSuccess {
		t.Fatalf("run after the event %s is %s (%s), want a successful dataset_triggered run", run.RunID, run.RunType, run.State)
	}
}

func recordEvent(t testing.TB, st store.Store, uri string) {
	t.Helper()
	err := st.InTx(context.Background(), func(q store.Queries) error {
		_, err := scheduler.RecordDatasetEvent(context.Background(), q, &store.DatasetEventCreateParams{URI: uri, SourceMapIndex: -1})
		return err
	})
	if err != nil {
		t.Fatalf("record event of %s: %v", uri, err)
	}
}
