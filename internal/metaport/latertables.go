package metaport

import (
	"fmt"
	"strings"
)

// laterTables are the tables Airflow added after the first releases an
// import knew (triggers in 2.2, mapped lengths in 2.3, notes in 2.5, the
// try history in 2.10), read after their parents.
var laterTables = []string{"trigger", "dag_run_note", "task_instance_note", "task_instance_history", "task_map",
	"dag_schedule_dataset_reference", "dataset_dag_run_queue", "dagrun_dataset_event"}

// notImported are the dataset tables an import reads and reports but does
// not write, with why.
var notImported = map[string]string{
	"dag_schedule_dataset_reference": "rebuilt from the DAG files when the DAG processor parses them",
	"dataset_dag_run_queue":          "events waiting for a consumer's next run: not imported (the next update queues the run again)",
}

// reasonRowIDs is why a CSV file's links of runs to dataset events are
// not imported.
const reasonRowIDs = "names runs and dataset events by row ids the other files do not carry"

// notExported are the tables an export writes empty, with why.
var notExported = map[string]string{
	"dag_schedule_dataset_reference": notImported["dag_schedule_dataset_reference"],
	"dataset_dag_run_queue":          notImported["dataset_dag_run_queue"],
	"dagrun_dataset_event":           reasonRowIDs, // the start-stop file of ids
}

// What becomes of each in Windsock:
//   - trigger: Airflow's table, kept as it was (Windsock defers no task
//     itself); kwargs, which Airflow 2.9+ encrypts, is encrypted with the
//     environment's key as a secret is, and exported decrypted.
//   - dag_run_note, task_instance_note: the notes the UI and the API show.
//   - task_instance_history: Airflow's per-try rows, in the same table.
//   - task_map: kept in Airflow's table (migration 014) for the history and
//     the exports; the scheduler measures an upstream's XCom itself.
//   - dagrun_dataset_event: the events that triggered each run, linked by
//     names, from a database or Windsock's export; the start-stop CSV
//     file has only ids.

// prepLater returns the preparation of a row of one of laterTables and
// sets the batch's columns; false for another table.
func (im *importer) prepLater(b *batch) (func(*batch, Row) ([]any, error), bool) {
	switch b.table {
	case "trigger":
		b.cols = []string{"classpath", "kwargs", "created_date", "triggerer_id"}
		b.jobRefs = []int{3}
		return im.prepTrigger, true
	case "dag_run_note":
		b.cols = []string{"dag_id", "run_id", "content", "created_at", "updated_at"}
		return func(b *batch, r Row) ([]any, error) {
			dagID, runID := firstOf(r, "dag_id", joinedDagID), firstOf(r, "run_id", joinedRunID)
			if dagID == "" || runID == "" || r["created_at"] == nil {
				b.skip(reasonIncomplete)
				return nil, nil
			}
			return timesIn(r, []any{dagID, runID, nullStr(r["content"]), "created_at", updatedOr(r)}, 3, 4)
		}, true
	case "task_instance_note":
		b.cols = []string{"dag_id", "task_id", "run_id", "map_index", "content", "created_at", "updated_at"}
		return func(b *batch, r Row) ([]any, error) {
			key, ok := runKey(b, r)
			if !ok {
				return nil, nil
			}
			if r["created_at"] == nil {
				b.skip(reasonIncomplete)
				return nil, nil
			}
			return timesIn(r, append(key, nullStr(r["content"]), "created_at", updatedOr(r)), 5, 6)
		}, true
	case "task_instance_history":
		// The same columns as task_instance: one row per try.
		b.cols = tiColumns
		b.jobRefs = []int{12, 20}
		return func(b *batch, r Row) ([]any, error) {
			if _, ok := intOf(r["try_number"]); !ok {
				b.skip(reasonIncomplete)
				return nil, nil
			}
			return im.prepTaskInstance(b, r)
		}, true
	case "task_map":
		b.cols = []string{"dag_id", "task_id", "run_id", "map_index", "length", "keys"}
		return func(b *batch, r Row) ([]any, error) {
			key, ok := runKey(b, r)
			if !ok {
				return nil, nil
			}
			n, ok := intOf(r["length"])
			if !ok || n < 0 {
				b.skip(reasonIncomplete)
				return nil, nil
			}
			var keys any
			if r["keys"] != nil {
				js, err := pythonReprToJSON(strOf(r["keys"]))
				if err != nil {
					return nil, fmt.Errorf("task_map %v: keys: %w", key, err)
				}
				keys = js
			}
			return append(key, n, keys), nil
		}, true
	case "dagrun_dataset_event":
		// Read from a database with the names of its run and event; a CSV
		// file has only ids.
		b.cols = []string{"dag_id", "run_id", "dataset_uri", "timestamp"}
		return func(b *batch, r Row) ([]any, error) {
			dagID, runID := firstOf(r, "dag_id", joinedDagID), firstOf(r, "run_id", joinedRunID)
			uri := firstOf(r, "dataset_uri", joinedURI)
			if r["timestamp"] == nil {
				r["timestamp"] = r[joinedTimestamp]
			}
			if dagID == "" || runID == "" || uri == "" || r["timestamp"] == nil {
				b.skip(reasonRowIDs)
				return nil, nil
			}
			return timesIn(r, []any{dagID, runID, uri, "timestamp"}, 3)
		}, true
	}
	if reason, ok := notImported[b.table]; ok {
		return func(b *batch, _ Row) ([]any, error) {
			b.skip(reason)
			return nil, nil
		}, true
	}
	return nil, false
}

// updatedOr names the updated_at column, given created_at's value when
// the source has none.
func updatedOr(r Row) string {
	if r["updated_at"] == nil {
		r["updated_at"] = r["created_at"]
	}
	return "updated_at"
}

// firstOf returns the first of the columns a row has a value in.
func firstOf(r Row, cols ...string) string {
	for _, c := range cols {
		if s := strOf(r[c]); s != "" {
			return s
		}
	}
	return ""
}

// fernetPrefix begins every Fernet token (version byte 0x80 and a
// timestamp, in URL-safe base64).
const fernetPrefix = "gAAAAA"

func (im *importer) prepTrigger(b *batch, r Row) ([]any, error) {
	classpath, kwargs := strOf(r["classpath"]), strOf(r["kwargs"])
	if classpath == "" || r["created_date"] == nil {
		b.skip(reasonIncomplete)
		return nil, nil
	}
	rowKey := classpath + "@" + strOf(r["created_date"])
	encrypted := strings.HasPrefix(kwargs, fernetPrefix)
	if !encrypted {
		// JSON up to 2.8; the CSV tools wrote its Python repr.
		js, err := pythonReprToJSON(kwargs)
		if err != nil {
			b.keepAside(rowKey, "kwargs", "not JSON: "+err.Error(), []byte(kwargs))
			b.notes = append(b.notes, fmt.Sprintf("trigger %s: kwargs is not JSON (%v): imported as it was", rowKey, err))
			js = kwargs
		}
		kwargs = js
	}
	s, err := im.reencrypt(kwargs, encrypted)
	if err != nil {
		return nil, fmt.Errorf("trigger %s: %w", rowKey, err)
	}
	if s.unreadable {
		// Not a connection's secret: the row is kept, its kwargs as the
		// source had them.
		b.keepAside(rowKey, "kwargs", "encrypted; no --fernet-key decrypts it", []byte(kwargs))
		b.notes = append(b.notes, fmt.Sprintf("trigger %s: kwargs is encrypted and no --fernet-key decrypts it: imported unreadable", rowKey))
	}
	return timesIn(r, []any{classpath, s.value, "created_date", nullInt(r["triggerer_id"])}, 2)
}
