package metaport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/windsock/windsock/internal/store"
)

// batch is one batch of source rows turned into rows of Windsock's
// schema, with what was left out and why.
type batch struct {
	table     string
	cols      []string
	rows      [][]any
	sourceIDs []int64
	// jobRefs are the indexes of columns holding source job ids.
	jobRefs []int
	// dagIDs and dagPaused follow rows for the dag table.
	dagIDs    []string
	dagPaused []bool
	aside     []*store.ImportAside
	skipped   map[string]int64
	notes     []string
}

func (b *batch) skip(reason string) { b.skipped[reason]++ }

// keepAside keeps a value (column) or a whole row ("*") as it was.
func (b *batch) keepAside(rowKey, column, reason string, value []byte) {
	b.aside = append(b.aside, &store.ImportAside{Table: b.table, RowKey: rowKey, Column: column, Reason: reason, Value: value})
}

// rowJSON is a source row as JSON, for keeping it aside whole.
func rowJSON(r Row) []byte {
	b, err := json.Marshal(r)
	if err != nil {
		return []byte(fmt.Sprintf("%v", map[string]any(r)))
	}
	return b
}

// prepare turns a batch of source rows into rows of b.table.
func (im *importer) prepare(b *batch, rows []Row) error {
	var prep func(*batch, Row) ([]any, error)
	switch b.table {
	case "dag":
		b.cols = []string{"dag_id", "is_paused", "is_active", "is_subdag", "root_dag_id", "fileloc", "owners", "description",
			"default_view", "schedule_interval", "max_active_tasks", "max_active_runs", "has_task_concurrency_limits", "last_parsed_time"}
		prep = im.prepDAG
	case "slot_pool":
		b.cols = []string{"pool", "slots", "description", "include_deferred"}
		prep = func(_ *batch, r Row) ([]any, error) {
			return []any{strOf(r["pool"]), intOr(r["slots"], 0), nullStr(r["description"]), boolOr(r["include_deferred"], false)}, nil
		}
	case "variable":
		b.cols = []string{"key", "val", "description", "is_encrypted"}
		prep = im.prepVariable
	case "connection":
		b.cols = []string{"conn_id", "conn_type", "description", "host", "schema", "login", "password", "port", "is_encrypted", "is_extra_encrypted", "extra"}
		prep = im.prepConnection
	case "job":
		b.cols = []string{"dag_id", "state", "job_type", "start_date", "end_date", "latest_heartbeat", "executor_class", "hostname", "unixname"}
		prep = func(b *batch, r Row) ([]any, error) {
			id, ok := intOf(r["id"])
			if !ok {
				b.skip(reasonIncomplete)
				return nil, nil
			}
			row, err := timesIn(r, []any{nullStr(r["dag_id"]), nullStr(r["state"]), nullStr(r["job_type"]), "start_date", "end_date",
				"latest_heartbeat", nullStr(r["executor_class"]), nullStr(r["hostname"]), nullStr(r["unixname"])}, 3, 4, 5)
			if err == nil {
				b.sourceIDs = append(b.sourceIDs, id)
			}
			return row, err
		}
	case "log":
		b.cols = []string{"dttm", "dag_id", "task_id", "map_index", "event", "execution_date", "run_id", "owner", "owner_display_name", "extra", "try_number"}
		prep = func(_ *batch, r Row) ([]any, error) {
			return timesIn(r, []any{"dttm", nullStr(r["dag_id"]), nullStr(r["task_id"]), nullInt(r["map_index"]), nullStr(r["event"]),
				"execution_date", nullStr(r["run_id"]), nullStr(r["owner"]), nullStr(r["owner_display_name"]), nullStr(r["extra"]),
				nullInt(r["try_number"])}, 0, 5)
		}
	case "dag_run":
		b.cols = []string{"dag_id", "run_id", "execution_date", "state", "run_type", "external_trigger", "conf", "start_date", "end_date",
			"queued_at", "data_interval_start", "data_interval_end", "last_scheduling_decision", "dag_hash", "creating_job_id",
			"log_template_id", "updated_at", "clear_number"}
		b.jobRefs = []int{14}
		prep = im.prepDagRun
	case "task_instance":
		b.cols = tiColumns
		b.jobRefs = []int{12, 20}
		prep = im.prepTaskInstance
	case "task_fail":
		b.cols = []string{"dag_id", "task_id", "run_id", "map_index", "start_date", "end_date", "duration"}
		prep = func(b *batch, r Row) ([]any, error) {
			key, ok := runKey(b, r)
			if !ok {
				return nil, nil
			}
			return timesIn(r, append(key, "start_date", "end_date", nullInt(r["duration"])), 4, 5)
		}
	case "task_reschedule":
		b.cols = []string{"dag_id", "task_id", "run_id", "map_index", "try_number", "start_date", "end_date", "duration", "reschedule_date"}
		prep = func(b *batch, r Row) ([]any, error) {
			key, ok := runKey(b, r)
			if !ok {
				return nil, nil
			}
			for _, c := range []string{"try_number", "start_date", "end_date", "duration", "reschedule_date"} {
				if r[c] == nil {
					b.skip(reasonIncomplete)
					return nil, nil
				}
			}
			return timesIn(r, append(key, intOr(r["try_number"], 0), "start_date", "end_date", intOr(r["duration"], 0), "reschedule_date"), 5, 6, 8)
		}
	case "xcom":
		b.cols = []string{"dag_id", "task_id", "run_id", "map_index", "key", "value", "timestamp"}
		prep = im.prepXCom
	case "rendered_task_instance_fields":
		b.cols = []string{"dag_id", "task_id", "run_id", "map_index", "rendered_fields", "k8s_pod_yaml"}
		prep = func(b *batch, r Row) ([]any, error) {
			key, ok := runKey(b, r)
			if !ok {
				return nil, nil
			}
			fields := strOf(r["rendered_fields"])
			if fields == "" {
				fields = "{}"
			}
			return append(key, fields, nullStr(r["k8s_pod_yaml"])), nil
		}
	case "sla_miss":
		b.cols = []string{"task_id", "dag_id", "execution_date", "email_sent", "timestamp", "description", "notification_sent"}
		prep = func(b *batch, r Row) ([]any, error) {
			if r["execution_date"] == nil {
				b.skip(reasonIncomplete)
				return nil, nil
			}
			return timesIn(r, []any{strOf(r["task_id"]), strOf(r["dag_id"]), "execution_date", boolOr(r["email_sent"], false),
				"timestamp", nullStr(r["description"]), boolOr(r["notification_sent"], false)}, 2, 4)
		}
	case "dataset":
		b.cols = []string{"uri", "extra", "created_at", "updated_at", "is_orphaned"}
		prep = func(b *batch, r Row) ([]any, error) {
			if strOf(r["uri"]) == "" {
				b.skip(reasonIncomplete)
				return nil, nil
			}
			created := r["created_at"]
			if r["updated_at"] == nil {
				r["updated_at"] = created
			}
			if created == nil {
				b.skip(reasonIncomplete)
				return nil, nil
			}
			return timesIn(r, []any{strOf(r["uri"]), jsonOr(r["extra"], "{}"), "created_at", "updated_at", boolOr(r["is_orphaned"], false)}, 2, 3)
		}
	case "dataset_event":
		b.cols = []string{"dataset_uri", "extra", "source_task_id", "source_dag_id", "source_run_id", "source_map_index", "timestamp"}
		uris, err := im.sourceDatasets()
		if err != nil {
			return err
		}
		prep = func(b *batch, r Row) ([]any, error) {
			id, _ := intOf(r["dataset_id"])
			uri, ok := uris[id]
			if !ok || r["timestamp"] == nil {
				b.skip(reasonIncomplete)
				return nil, nil
			}
			return timesIn(r, []any{uri, jsonOr(r["extra"], "{}"), nullStr(r["source_task_id"]), nullStr(r["source_dag_id"]),
				nullStr(r["source_run_id"]), intOr(r["source_map_index"], -1), "timestamp"}, 6)
		}
	default:
		var ok bool
		if prep, ok = im.prepLater(b); !ok {
			return fmt.Errorf("no import for table %s", b.table)
		}
	}
	for _, r := range rows {
		row, err := prep(b, r)
		if err != nil {
			return err
		}
		if row != nil {
			b.rows = append(b.rows, row)
		}
	}
	return nil
}

// tiColumns are the columns of a prepared task_instance row (and of a
// task_instance_history one), in prepTaskInstance's order.
var tiColumns = []string{"dag_id", "task_id", "run_id", "map_index", "state", "try_number", "max_tries", "start_date", "end_date",
	"duration", "hostname", "unixname", "job_id", "pool", "pool_slots", "queue", "priority_weight", "operator",
	"custom_operator_name", "queued_dttm", "queued_by_job_id", "pid", "executor", "executor_config", "updated_at",
	"rendered_map_index", "external_executor_id", "trigger_timeout", "next_method", "next_kwargs", "task_display_name"}

// timesIn replaces the column names at the given indexes of row by the
// timestamps the source row holds in those columns.
func timesIn(r Row, row []any, idx ...int) ([]any, error) {
	for _, i := range idx {
		col := row[i].(string)
		t, err := timeOf(r[col])
		if err != nil {
			return nil, fmt.Errorf("column %s: %w", col, err)
		}
		if t == nil {
			row[i] = nil
		} else {
			row[i] = *t
		}
	}
	return row, nil
}

// runKey returns dag_id, task_id, run_id and map_index of a row of a table
// keyed by task instance. A row keyed by execution_date gets the run_id of
// the run at that date; without one it is moved aside (false).
func runKey(b *batch, r Row) ([]any, bool) {
	runID := r["run_id"]
	if runID == nil {
		runID = r[joinedRunID]
	}
	if strOf(runID) == "" {
		b.skip(reasonNoRun)
		b.keepAside(fmt.Sprintf("%s/%s/%s", strOf(r["dag_id"]), strOf(r["task_id"]), strOf(r["execution_date"])), "*", reasonNoRun, rowJSON(r))
		return nil, false
	}
	return []any{strOf(r["dag_id"]), strOf(r["task_id"]), strOf(runID), intOr(r["map_index"], -1)}, true
}

func (im *importer) prepDAG(b *batch, r Row) ([]any, error) {
	id := strOf(r["dag_id"])
	if id == "" {
		b.skip(reasonIncomplete)
		return nil, nil
	}
	maxTasks := r["max_active_tasks"]
	if maxTasks == nil {
		maxTasks = r["concurrency"] // its name before 2.2
	}
	parsed := r["last_parsed_time"]
	if parsed == nil {
		parsed = r["last_scheduler_run"] // its name before 2.0.2
	}
	t, err := timeOf(parsed)
	if err != nil {
		return nil, fmt.Errorf("dag %s: last_parsed_time: %w", id, err)
	}
	var last any
	if t != nil {
		last = *t
	}
	b.dagIDs = append(b.dagIDs, id)
	b.dagPaused = append(b.dagPaused, boolOr(r["is_paused"], true))
	// New DAGs arrive paused (their state is given back at the end) and
	// inactive until the DAG processor finds their file.
	return []any{id, true, false, boolOr(r["is_subdag"], false), nullStr(r["root_dag_id"]), nullStr(r["fileloc"]),
		nullStr(r["owners"]), nullStr(r["description"]), nullStr(r["default_view"]), nullStr(r["schedule_interval"]),
		intOr(maxTasks, 16), nullInt(r["max_active_runs"]), boolOr(r["has_task_concurrency_limits"], false), last}, nil
}

// runTypes are the prefixes Airflow 2.0's migration recognised in run
// ids (its LIKE '<type>__%', where _ matches any character).
var runTypes = []string{"backfill", "scheduled", "manual", "dataset_triggered"}

func runTypeOf(runID string) string {
	for _, t := range runTypes {
		if strings.HasPrefix(runID, t) && len(runID) >= len(t)+2 {
			return t
		}
	}
	return "manual"
}

func (im *importer) prepDagRun(b *batch, r Row) ([]any, error) {
	dagID := strOf(r["dag_id"])
	logical, err := timeOf(r["execution_date"])
	if err != nil || logical == nil || dagID == "" {
		b.skip(reasonIncomplete)
		return nil, nil
	}
	runID := strOf(r["run_id"])
	runType := strOf(r["run_type"])
	if runID == "" {
		// Very old runs have none: named as Airflow names runs.
		if runType == "" {
			runType = "manual"
		}
		runID = runType + "__" + logical.Format("2006-01-02T15:04:05.999999-07:00")
	}
	if runType == "" {
		runType = runTypeOf(runID)
	}
	key := dagID + "/" + runID
	var conf any
	if raw, err := bytesOf(r["conf"]); err != nil {
		return nil, fmt.Errorf("dag_run %s: conf: %w", key, err)
	} else if len(raw) > 0 {
		js, err := decodeStored(raw)
		var m map[string]any
		switch {
		case err == nil && string(js) == "null":
		case err == nil && json.Unmarshal(js, &m) == nil:
			conf = js
		default:
			if err == nil {
				err = errors.New("not a dict")
			}
			b.keepAside(key, "conf", err.Error(), raw)
			b.notes = append(b.notes, fmt.Sprintf("dag_run %s: conf kept aside (%v); the run is imported without it", key, err))
		}
	}
	return timesIn(r, []any{dagID, runID, *logical, nullStr(r["state"]), runType, boolOr(r["external_trigger"], false), conf,
		"start_date", "end_date", "queued_at", "data_interval_start", "data_interval_end", "last_scheduling_decision",
		nullStr(r["dag_hash"]), nullInt(r["creating_job_id"]), nullInt(r["log_template_id"]), "updated_at",
		intOr(r["clear_number"], 0)}, 7, 8, 9, 10, 11, 12, 16)
}

func (im *importer) prepTaskInstance(b *batch, r Row) ([]any, error) {
	key, ok := runKey(b, r)
	if !ok {
		return nil, nil
	}
	execCfg, err := bytesOf(r["executor_config"])
	if err != nil {
		return nil, fmt.Errorf("task_instance %v: executor_config: %w", key, err)
	}
	pool := strOf(r["pool"])
	if pool == "" {
		pool = "default_pool"
	}
	nextKwargs := nullStr(r["next_kwargs"])
	// executor_config is copied byte for byte: Windsock never unpickles
	// it, and an export gives it back to Airflow as it was.
	row := append(key, nullStr(r["state"]), intOr(r["try_number"], 0), intOr(r["max_tries"], -1), "start_date", "end_date",
		floatOf(r["duration"]), nullStr(r["hostname"]), nullStr(r["unixname"]), nullInt(r["job_id"]), pool,
		intOr(r["pool_slots"], 1), nullStr(r["queue"]), nullInt(r["priority_weight"]), nullStr(r["operator"]),
		nullStr(r["custom_operator_name"]), "queued_dttm", nullInt(r["queued_by_job_id"]), nullInt(r["pid"]),
		nullStr(r["executor"]), nullBytes(execCfg), "updated_at", nullStr(r["rendered_map_index"]),
		nullStr(r["external_executor_id"]), "trigger_timeout", nullStr(r["next_method"]), nextKwargs, nullStr(r["task_display_name"]))
	return timesIn(r, row, 7, 8, 19, 24, 27)
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

func (im *importer) prepXCom(b *batch, r Row) ([]any, error) {
	key, ok := runKey(b, r)
	if !ok {
		return nil, nil
	}
	xkey := strOf(r["key"])
	rowKey := fmt.Sprintf("%s/%s/%s/%v/%s", key[0], key[2], key[1], key[3], xkey)
	raw, err := bytesOf(r["value"])
	if err != nil {
		return nil, fmt.Errorf("xcom %s: value: %w", rowKey, err)
	}
	value, err := decodeStored(raw)
	if err != nil {
		b.skip(reasonNotPlain)
		b.keepAside(rowKey, "value", err.Error(), raw)
		b.notes = append(b.notes, fmt.Sprintf("xcom %s: value kept aside (%v)", rowKey, err))
		return nil, nil
	}
	if value == nil {
		value = []byte("null")
	}
	ts, err := timeOf(r["timestamp"])
	if err != nil || ts == nil {
		b.skip(reasonIncomplete)
		return nil, nil
	}
	return append(key, xkey, value, *ts), nil
}

// jsonOr reads a json column (text, or the value a driver decoded), def
// when NULL.
func jsonOr(v any, def string) string {
	if v == nil {
		return def
	}
	return strOf(v)
}

// sourceDatasets returns the source's dataset ids and uris.
func (im *importer) sourceDatasets() (map[int64]string, error) {
	if im.datasetURIs != nil {
		return im.datasetURIs, nil
	}
	im.datasetURIs = map[int64]string{}
	err := im.src.Scan(context.Background(), "dataset", "", 1000, func(rows []Row, _ string) error {
		for _, r := range rows {
			if id, ok := intOf(r["id"]); ok {
				im.datasetURIs[id] = strOf(r["uri"])
			}
		}
		return nil
	})
	return im.datasetURIs, err
}
