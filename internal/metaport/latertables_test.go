package metaport_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/metaport/airflowtest"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/windsock"
)

// laterFacts lists the rows of the tables of later Airflow releases an
// environment holds: triggers (kwargs decrypted with keys), mapped
// lengths, the try history, and the notes of runs and task instances.
func laterFacts(t *testing.T, ctx context.Context, st store.Store, keys *fernet.Keys) []string {
	t.Helper()
	var out []string
	read := func(table string, cols ...string) [][]any {
		t.Helper()
		var rows [][]any
		var after []any
		for {
			page, err := st.ExportRows(ctx, &store.ExportRowsParams{Table: table, Columns: cols, After: after, Limit: 500})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Rows) == 0 {
				return rows
			}
			for _, r := range page.Rows {
				for i, v := range r {
					if b, ok := v.([]byte); ok {
						r[i] = string(b)
					}
				}
			}
			rows, after = append(rows, page.Rows...), page.Last
		}
	}
	for _, r := range read("trigger", "classpath", "kwargs", "created_date") {
		kwargs := fmt.Sprint(r[1])
		if plain, err := keys.Decrypt(kwargs); err == nil {
			kwargs = string(plain)
		}
		out = append(out, fmt.Sprintf("trigger %s %s at %v", r[0], kwargs, r[2]))
	}
	uris := map[string]string{}
	for _, r := range read("dataset", "id", "uri", "extra", "created_at", "updated_at") {
		uris[fmt.Sprint(r[0])] = fmt.Sprint(r[1])
		out = append(out, fmt.Sprintf("dataset %s %s %v %v", r[1:]...))
	}
	for _, r := range read("dataset_event", "dataset_uri", "extra", "source_dag_id", "source_run_id", "source_map_index", "timestamp") {
		r[0] = uris[fmt.Sprint(r[0])]
		out = append(out, fmt.Sprintf("dataset event %s %s %s/%s/%v at %v", r...))
	}
	for _, r := range read("dagrun_dataset_event", "dag_id", "run_id", "dataset_uri", "timestamp") {
		out = append(out, fmt.Sprintf("run %s/%s triggered by %s at %v", r...))
	}
	for _, r := range read("task_map", "dag_id", "run_id", "task_id", "map_index", "length", "keys") {
		out = append(out, fmt.Sprintf("task_map %s/%s/%s/%v length=%v keys=%v", r...))
	}
	for _, r := range read("task_instance_history", "dag_id", "run_id", "task_id", "try_number", "hostname", "state", "start_date", "duration", "pool") {
		out = append(out, fmt.Sprintf("try %s/%s/%s/%v %v %v %v %v %v", r...))
	}
	for _, r := range read("dag_run_note", "dag_id", "run_id", "content", "created_at", "updated_at") {
		out = append(out, fmt.Sprintf("run note %s/%s %q %v %v", r...))
	}
	for _, r := range read("task_instance_note", "dag_id", "run_id", "task_id", "content", "created_at", "updated_at") {
		out = append(out, fmt.Sprintf("task note %s/%s/%s %q %v %v", r...))
	}
	slices.Sort(out)
	return out
}

// checkLater compares the later tables with the history Fill wrote: the
// notes through the runs and task instances the API shows, the rest
// through the store's export.
func checkLater(t *testing.T, ctx context.Context, st store.Store, h *airflowtest.History) {
	t.Helper()
	for k, want := range h.RunNotes {
		dagID, runID, _ := strings.Cut(k, "/")
		if r, err := st.DagRunGet(ctx, dagID, runID); err != nil || r.Note != want {
			t.Errorf("note of run %s = %+v, %v; want %q", k, r, err, want)
		}
	}
	for k, want := range h.TaskNotes {
		parts := strings.Split(k, "/")
		key := windsock.TaskInstanceKey{DagID: parts[0], RunID: parts[1], TaskID: parts[2], MapIndex: -1}
		if ti, err := st.TaskInstanceGet(ctx, key); err != nil || ti.Note != want {
			t.Errorf("note of task instance %s = %+v, %v; want %q", k, ti, err, want)
		}
	}
	for k, want := range h.TriggeredBy {
		dagID, runID, _ := strings.Cut(k, "/")
		r, err := st.DagRunGet(ctx, dagID, runID)
		if err != nil {
			t.Fatal(err)
		}
		events, n, err := st.DatasetEventList(ctx, &store.DatasetEventListParams{DagRunID: r.ID})
		if err != nil || n != 1 || events[0].SourceRunID != want {
			t.Errorf("events that triggered %s = %d %+v, %v; want the one of %s", k, n, events, err, want)
		}
	}
	got := strings.Join(laterFacts(t, ctx, st, keys(t, targetKey)), "\n")
	count := func(prefix string) int { return strings.Count("\n"+got, "\n"+prefix) }
	if count("trigger ") != h.Triggers || (h.Triggers > 0 && !strings.Contains(got, "DateTimeTrigger "+h.TriggerKwargs)) {
		t.Errorf("triggers (want %d, kwargs %s):\n%s", h.Triggers, h.TriggerKwargs, got)
	}
	if count("task_map ") != h.TaskMaps || (h.TaskMaps > 0 && !strings.Contains(got, "/extract/-1 length=3 keys=<nil>")) {
		t.Errorf("task maps (want %d):\n%s", h.TaskMaps, got)
	}
	if count("try ") != len(h.Tries) {
		t.Errorf("tries (want %v):\n%s", h.Tries, got)
	}
	for _, try := range h.Tries {
		if !strings.Contains(got, "try "+try+" failed") {
			t.Errorf("no try %s in\n%s", try, got)
		}
	}
	if count("run note ") != len(h.RunNotes) || count("task note ") != len(h.TaskNotes) {
		t.Errorf("notes (want %d and %d):\n%s", len(h.RunNotes), len(h.TaskNotes), got)
	}
}

// newStoreWithDataset is a new store holding one dataset whose id is 7, so
// that the ids of datasets imported next do not follow their order from 1
// (an export must number them as the restore will).
func newStoreWithDataset(t *testing.T) store.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "windsock.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2023, 12, 1, 0, 0, 0, 0, time.UTC)
	if _, err := st.ImportRows(t.Context(), &store.ImportRowsParams{Source: "setup", Table: "dataset",
		Columns: []string{"uri", "extra", "created_at", "updated_at", "is_orphaned"},
		Rows:    [][]any{{"s3://bucket/first.csv", "{}", t0, t0, false}}}); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE dataset SET id = 7 WHERE uri = 's3://bucket/first.csv'`); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestTriggerKwargsFromCSV reads a trigger's kwargs in the two forms AWS's
// tools write them: the Python repr of Airflow 2.2-2.8's json column
// (start-stop mwaa_export_data 2.5.1), and 2.9+'s Fernet token (mwaa-dr
// 2.10), which the source's key decrypts; without the key the token is
// kept as it was and reported.
func TestTriggerKwargsFromCSV(t *testing.T) {
	t.Parallel()
	path, _ := airflowDB(t, "2.10")
	ctx := t.Context()
	tk := keys(t, targetKey)
	a := newStore(t)
	if _, err := metaport.Import(ctx, a, openSource(t, path), metaport.Options{SourceKeys: keys(t, airflowtest.SourceKey), TargetKeys: tk}); err != nil {
		t.Fatal(err)
	}
	const classpath = "airflow.triggers.temporal.DateTimeTrigger"
	serialized := `{"__var": {"moment": {"__var": 1704154800.0, "__type": "datetime"}}, "__type": "dict"}`
	token := airflowtest.Encrypt(t, serialized)
	for _, c := range []struct {
		layout, line string
		source       *fernet.Keys
		want         string
	}{
		{"mwaa_export_data-2.5.1", classpath + `,"{'__var': {'moment': {'__var': 1704154800.0, '__type': 'datetime'}}, '__type': 'dict'}",2024-01-02 00:04:00+00:00,` + "\r\n",
			nil, serialized},
		{"mwaa-dr-2.10", classpath + "|2024-01-02 00:04:00+00:00|" + token + "|\r\n", keys(t, airflowtest.SourceKey), serialized},
		{"mwaa-dr-2.10", classpath + "|2024-01-02 00:04:00+00:00|" + token + "|\r\n", nil, token},
	} {
		dir := filepath.Join(t.TempDir(), "export")
		if _, err := metaport.Export(ctx, a, dir, metaport.Layouts[c.layout], tk); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "trigger.csv"), []byte(c.line), 0o600); err != nil {
			t.Fatal(err)
		}
		src, err := metaport.OpenCSVSource(dir, c.layout)
		if err != nil {
			t.Fatal(err)
		}
		b := newStore(t)
		rep, err := metaport.Import(ctx, b, src, metaport.Options{SourceKeys: c.source, TargetKeys: tk})
		if err != nil {
			t.Fatal(err)
		}
		if got := tableReport(t, rep, "trigger"); got.Imported != 1 {
			t.Errorf("%s: trigger report %+v", c.layout, got)
		}
		page, err := b.ExportRows(ctx, &store.ExportRowsParams{Table: "trigger", Columns: []string{"kwargs"}, Limit: 10})
		if err != nil || len(page.Rows) != 1 {
			t.Fatalf("%s: triggers %v, %v", c.layout, page, err)
		}
		stored := fmt.Sprint(page.Rows[0][0])
		if b, ok := page.Rows[0][0].([]byte); ok {
			stored = string(b)
		}
		if plain, err := tk.Decrypt(stored); err == nil {
			stored = string(plain)
		}
		if !sameJSON(stored, c.want) && stored != c.want {
			t.Errorf("%s (source key %v): kwargs %s, want %s", c.layout, c.source != nil, stored, c.want)
		}
		if c.want == token && !slices.ContainsFunc(rep.Notes, func(n string) bool { return strings.Contains(n, "trigger") && strings.Contains(n, "unreadable") }) {
			t.Errorf("no note of the unreadable kwargs: %v", rep.Notes)
		}
	}
}

func sameJSON(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// TestTriggerImportedOnceFromTwoCopies imports one database, then a copy
// of it under another name (no checkpoint in common): the trigger, whose
// kwargs are encrypted anew each time, is recognised and not doubled.
func TestTriggerImportedOnceFromTwoCopies(t *testing.T) {
	t.Parallel()
	path, _ := airflowDB(t, "2.10")
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(copyPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	st := newStore(t)
	opts := metaport.Options{SourceKeys: keys(t, airflowtest.SourceKey), TargetKeys: keys(t, targetKey)}
	for i, p := range []string{path, copyPath} {
		rep, err := metaport.Import(ctx, st, openSource(t, p), opts)
		if err != nil {
			t.Fatal(err)
		}
		if got := tableReport(t, rep, "trigger"); got.Imported != int64(1-i) || got.Read != 1 {
			t.Errorf("import %d: trigger report %+v", i+1, got)
		}
	}
}
