package metaport

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/fernet"
	"github.com/windsock/windsock/internal/plainpickle"
	"github.com/windsock/windsock/internal/store"
)

// ExportReport counts the rows written per file.
type ExportReport struct {
	Dir    string         `json:"dir"`
	Format string         `json:"format"`
	Files  map[string]int `json:"files"`
	Notes  []string       `json:"notes"`
}

// binaryColumns are the bytea columns, which the tools select as \x and
// hex (dag_run.conf is pickled first).
var binaryColumns = map[string]bool{"conf": true, "executor_config": true, "value": true}

// exportBool are the boolean columns, written True/False.
var exportBool = map[string]bool{"external_trigger": true, "include_deferred": true, "is_encrypted": true}

// Export writes the environment's metadata into dir in layout l, the way
// AWS's tool of that layout writes it (no header, NULL as an empty field,
// booleans True/False, binary columns as \x and hex, secrets decrypted,
// dag_run.conf pickled), so that the tool's restore, or an import, reads
// it back. keys decrypt the environment's secrets.
func Export(ctx context.Context, st store.Store, dir string, l *Layout, keys *fernet.Keys) (*ExportReport, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	rep := &ExportReport{Dir: dir, Format: l.Name, Files: map[string]int{}, Notes: []string{}}
	state := &exportState{datasetLine: map[int64]int{}}
	for _, f := range slices.Concat(l.Files, l.Extras) {
		n, err := exportFile(ctx, st, dir, f, keys, rep, state)
		if err != nil {
			return rep, fmt.Errorf("export %s: %w", f.File, err)
		}
		rep.Files[f.File] = n
	}
	n, err := exportActiveDAGs(ctx, st, filepath.Join(dir, l.ActiveDAGs))
	if err != nil {
		return rep, fmt.Errorf("export %s: %w", l.ActiveDAGs, err)
	}
	rep.Files[l.ActiveDAGs] = n
	return rep, nil
}

// exportActiveDAGs lists the unpaused DAGs, one per line: the DAGs a
// restore unpauses. AWS's tools list only active ones; here a DAG
// imported but not parsed yet (inactive until its file is found) counts
// too, or a round trip would lose its state.
func exportActiveDAGs(ctx context.Context, st store.Store, path string) (int, error) {
	paused := false
	dags, err := st.DAGList(ctx, &store.DAGListParams{Paused: &paused})
	if err != nil {
		return 0, err
	}
	var sb strings.Builder
	for _, d := range dags {
		sb.WriteString(d.DagID + "\n")
	}
	return len(dags), os.WriteFile(path, []byte(sb.String()), 0o600)
}

// exportState is what one file's export leaves for the next.
type exportState struct {
	// datasetLine numbers datasets by id in the order dataset.csv lists
	// them: the ids a restore gives them, which dataset_event.csv uses.
	datasetLine map[int64]int
}

func exportFile(ctx context.Context, st store.Store, dir string, f LayoutFile, keys *fernet.Keys, rep *ExportReport, state *exportState) (int, error) {
	// Columns the store does not keep are written empty, as the tools
	// wrote the ones they did not have.
	var read []string
	for _, c := range f.Columns {
		if storeHas(f.Table, c) {
			read = append(read, c)
		}
	}
	if len(read) == 0 {
		// The store keeps none of its columns: a table an import does not
		// write, or links by ids.
		reason := notExported[f.Table]
		rep.Notes = append(rep.Notes, fmt.Sprintf("%s: written empty (%s)", f.File, reason))
		return 0, os.WriteFile(filepath.Join(dir, f.File), nil, 0o600)
	}
	switch f.Table {
	case "dataset":
		read = append(read, "id")
	case "dataset_event":
		read = append(read, "dataset_uri") // the dataset's id here
	}
	// Layouts of releases before 2.2 name a task's run by its logical
	// date: the run's, looked up once per run.
	byDate := (f.Table == "task_instance" || f.Table == "task_fail") && slices.Contains(f.Columns, "execution_date")
	for _, c := range []string{"dag_id", "run_id"} {
		if byDate && !slices.Contains(read, c) {
			read = append(read, c)
		}
	}
	logical := map[string]any{}
	switch f.Table {
	case "variable":
		read = append(read, "is_encrypted")
	case "connection":
		read = append(read, "is_encrypted", "is_extra_encrypted")
	}
	out, err := os.OpenFile(filepath.Join(dir, f.File), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return 0, err
	}
	defer out.Close()
	bw := bufio.NewWriter(out)
	w := csv.NewWriter(bw)
	w.Comma, w.UseCRLF = f.Comma, true
	n := 0
	var after []any
	for {
		page, err := st.ExportRows(ctx, &store.ExportRowsParams{Table: f.Table, Columns: read, After: after, Limit: 2000})
		if err != nil {
			return n, err
		}
		if len(page.Rows) == 0 {
			break
		}
		for _, row := range page.Rows {
			vals := map[string]any{}
			for i, c := range read {
				vals[c] = row[i]
			}
			exportSecrets(f.Table, vals, keys, rep)
			switch f.Table {
			case "dataset":
				id, _ := intOf(vals["id"])
				state.datasetLine[id] = n + 1
			case "dataset_event":
				id, _ := intOf(vals["dataset_uri"])
				vals["dataset_id"] = state.datasetLine[id]
			}
			if byDate {
				k := strOf(vals["dag_id"]) + "\x00" + strOf(vals["run_id"])
				if _, ok := logical[k]; !ok {
					r, err := st.DagRunGet(ctx, strOf(vals["dag_id"]), strOf(vals["run_id"]))
					if err != nil {
						return n, err
					}
					logical[k] = r.LogicalDate
				}
				vals["execution_date"] = logical[k]
			}
			rec := make([]string, len(f.Columns))
			for i, c := range f.Columns {
				s, err := exportValue(f.Table, c, vals[c])
				if err != nil {
					return n, fmt.Errorf("row %d column %s: %w", n+1, c, err)
				}
				rec[i] = s
			}
			if err := w.Write(rec); err != nil {
				return n, err
			}
			n++
		}
		after = page.Last
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return n, err
	}
	if err := bw.Flush(); err != nil {
		return n, err
	}
	return n, out.Close()
}

// storeHas reports whether Windsock's table has the column a layout names.
func storeHas(table, col string) bool {
	switch {
	case col == "dag_run_id" && table == "xcom":
		return true
	case col == "trigger_id", col == "triggerer_id":
		// Ids of rows an import numbers anew: meaningless elsewhere.
		return false
	case col == "dataset_id" && table == "dataset_event":
		return false // written from the dataset's line (exportState)
	}
	return storeColumns[table][col]
}

// storeColumns are the columns ExportRows reads, per table: those an
// import writes.
var storeColumns = func() map[string]map[string]bool {
	m := map[string]map[string]bool{}
	add := func(table string, cs ...string) {
		m[table] = map[string]bool{}
		for _, c := range cs {
			m[table][c] = true
		}
	}
	add("variable", "key", "val", "description", "is_encrypted")
	add("connection", "conn_id", "conn_type", "description", "host", "schema", "login", "password", "port", "is_encrypted", "is_extra_encrypted", "extra")
	add("slot_pool", "pool", "slots", "description", "include_deferred")
	add("job", "dag_id", "state", "job_type", "start_date", "end_date", "latest_heartbeat", "executor_class", "hostname", "unixname")
	add("log", "dttm", "dag_id", "task_id", "map_index", "event", "execution_date", "run_id", "owner", "owner_display_name", "extra", "try_number")
	add("dag_run", "dag_id", "queued_at", "execution_date", "start_date", "end_date", "state", "run_id", "creating_job_id",
		"external_trigger", "run_type", "conf", "data_interval_start", "data_interval_end", "last_scheduling_decision", "dag_hash",
		"log_template_id", "updated_at", "clear_number")
	add("task_instance", "task_id", "dag_id", "run_id", "map_index", "start_date", "end_date", "duration", "state", "try_number",
		"max_tries", "hostname", "unixname", "job_id", "pool", "pool_slots", "queue", "priority_weight", "operator",
		"custom_operator_name", "queued_dttm", "queued_by_job_id", "pid", "executor", "executor_config", "updated_at",
		"rendered_map_index", "external_executor_id", "trigger_timeout", "next_method", "next_kwargs", "task_display_name")
	add("task_fail", "task_id", "dag_id", "run_id", "map_index", "start_date", "end_date", "duration")
	add("xcom", "task_id", "map_index", "key", "dag_id", "run_id", "value", "timestamp")
	add("trigger", "classpath", "kwargs", "created_date")
	add("dataset", "uri", "extra", "created_at", "updated_at")
	add("dataset_event", "extra", "source_task_id", "source_dag_id", "source_run_id", "source_map_index", "timestamp")
	add("dag_run_note", "dag_id", "run_id", "content", "created_at", "updated_at")
	add("task_instance_note", "dag_id", "task_id", "run_id", "map_index", "content", "created_at", "updated_at")
	add("task_map", "dag_id", "task_id", "run_id", "map_index", "length", "keys")
	add("dagrun_dataset_event", "dag_id", "run_id", "dataset_uri", "timestamp")
	m["task_instance_history"] = m["task_instance"]
	return m
}()

// exportSecrets decrypts a variable's or connection's secrets in place
// (the tools write them decrypted); a value no key decrypts is written
// empty and reported.
func exportSecrets(table string, vals map[string]any, keys *fernet.Keys, rep *ExportReport) {
	decrypt := func(col, flag, what string) {
		if !boolOr(vals[flag], false) || vals[col] == nil {
			return
		}
		plain, err := keys.Decrypt(strOf(vals[col]))
		if err != nil {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %s cannot be decrypted with core.fernet_key: written empty", what, col))
			vals[col] = nil
			return
		}
		vals[col] = string(plain)
	}
	switch table {
	case "variable":
		decrypt("val", "is_encrypted", "variable "+strOf(vals["key"]))
		vals["is_encrypted"] = false // export_data's column: what the restore re-encrypts
	case "connection":
		decrypt("password", "is_encrypted", "connection "+strOf(vals["conn_id"]))
		decrypt("extra", "is_extra_encrypted", "connection "+strOf(vals["conn_id"]))
	case "trigger":
		// Encrypted with the environment's key when it has one; a token
		// no key decrypts is written as it is.
		if kw := strOf(vals["kwargs"]); strings.HasPrefix(kw, fernetPrefix) {
			if plain, err := keys.Decrypt(kw); err == nil {
				vals["kwargs"] = string(plain)
			} else {
				rep.Notes = append(rep.Notes, fmt.Sprintf("trigger %s: kwargs cannot be decrypted with core.fernet_key: written encrypted", strOf(vals["classpath"])))
			}
		}
	}
}

// exportValue writes one value as psycopg2's text of it would read.
func exportValue(table, col string, v any) (string, error) {
	if table == "dag_run" && col == "conf" && v != nil {
		// Windsock keeps conf as JSON; Airflow 2 keeps a pickle.
		b, err := bytesOf(v)
		if err != nil {
			return "", err
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		var conf any
		if err := dec.Decode(&conf); err != nil {
			return "", fmt.Errorf("conf is not JSON: %w", err)
		}
		p, err := plainpickle.Encode(conf)
		if err != nil {
			return "", err
		}
		v = p
	}
	if exportBool[col] {
		if b, ok := boolOf(v); ok {
			if b {
				return "True", nil
			}
			return "False", nil
		}
	}
	switch t := v.(type) {
	case nil:
		return "", nil
	case []byte:
		if !binaryColumns[col] {
			return string(t), nil
		}
		return `\x` + hex.EncodeToString(t), nil
	case time.Time:
		u := t.UTC()
		if u.Nanosecond()/1000 == 0 {
			return u.Format("2006-01-02 15:04:05") + "+00:00", nil
		}
		return u.Format("2006-01-02 15:04:05.000000") + "+00:00", nil
	case float64:
		if t == math.Trunc(t) && math.Abs(t) < 1e16 {
			return strconv.FormatFloat(t, 'f', 1, 64), nil // Python's repr of 5.0
		}
		return strconv.FormatFloat(t, 'g', -1, 64), nil
	case bool:
		if t {
			return "True", nil
		}
		return "False", nil
	case string:
		if binaryColumns[col] {
			return `\x` + hex.EncodeToString([]byte(t)), nil
		}
		return t, nil
	}
	return fmt.Sprint(v), nil
}
