package metaport

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// CSVSource reads a folder of per-table CSV files written by one of AWS's
// tools (see Layout).
type CSVSource struct {
	dir string
	// name, when set, is Name() instead of dir.
	name   string
	layout *Layout
	// runIDs maps dag_id and logical date to run_id, for layouts whose
	// task rows carry an execution_date (built from dag_run.csv on first
	// use: one entry per run).
	runIDs map[string]string
}

// OpenCSVSource opens a folder of CSV files in the named layout, or in the
// one detected from its files when format is "".
func OpenCSVSource(dir, format string) (*CSVSource, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	var l *Layout
	if format != "" {
		var ok bool
		if l, ok = Layouts[format]; !ok {
			return nil, windsock.Errorf(windsock.EINVALID, "--format %q: want one of %s", format, strings.Join(LayoutNames(), ", "))
		}
	} else if l, err = DetectLayout(abs); err != nil {
		return nil, err
	}
	return &CSVSource{dir: abs, layout: l}, nil
}

// firstRecord returns the number of fields of a file's first record with
// the delimiter, 0 when the file is missing or empty.
func firstRecord(path string, comma rune) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	r := csv.NewReader(bufio.NewReader(f))
	r.Comma, r.FieldsPerRecord, r.LazyQuotes = comma, -1, true
	rec, err := r.Read()
	if err != nil {
		return 0
	}
	return len(rec)
}

// DetectLayout tells a folder's layout by its delimiter and the number of
// columns of dag_run.csv and task_instance.csv.
func DetectLayout(dir string) (*Layout, error) {
	run, ti := filepath.Join(dir, "dag_run.csv"), filepath.Join(dir, "task_instance.csv")
	if _, err := os.Stat(run); err != nil {
		return nil, windsock.Errorf(windsock.EINVALID, "%s has no dag_run.csv: not an export of AWS's tools (name the layout with --format)", dir)
	}
	pipeRun, pipeTI := firstRecord(run, '|'), firstRecord(ti, '|')
	commaRun := firstRecord(run, ',')
	switch {
	case pipeRun == 16 || pipeRun == 18:
		byTI := map[int]string{27: "2.4", 28: "2.5", 31: "2.9", 32: "2.10"}
		if v, ok := byTI[pipeTI]; ok {
			return Layouts["mwaa-dr-"+v], nil
		}
		if pipeTI == 29 && pipeRun == 18 {
			return Layouts["mwaa-dr-2.8"], nil
		}
		if pipeTI == 29 {
			return Layouts["mwaa-dr-2.7"], nil
		}
	case commaRun > 0 && exists(filepath.Join(dir, "connection.csv")):
		// The start-stop DAGs write connections; export_data.py never did.
		commaTI := firstRecord(ti, ',')
		byShape := map[[2]int]string{{12, 22}: "2.0.2", {15, 26}: "2.2.2", {16, 27}: "2.4.3", {17, 28}: "2.5.1",
			{17, 29}: "2.7.2", {18, 29}: "2.8.1", {18, 31}: "2.9.2"}
		if v, ok := byShape[[2]int{commaRun, commaTI}]; ok {
			return Layouts["mwaa_export_data-"+v], nil
		}
	case commaRun == 12:
		return Layouts["export_data-2.0.2"], nil
	case commaRun == 15:
		return Layouts["export_data-2.2.2"], nil
	case commaRun == 16:
		return Layouts["export_data-2.4.3"], nil
	}
	return nil, windsock.Errorf(windsock.EINVALID, "cannot tell the layout of %s (dag_run.csv has %d '|' or %d ',' columns, task_instance.csv %d '|'): name it with --format (%s)",
		dir, pipeRun, commaRun, pipeTI, strings.Join(LayoutNames(), ", "))
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Name returns the folder.
func (s *CSVSource) Name() string {
	if s.name != "" {
		return s.name
	}
	return s.dir
}

// Named gives the source the name checkpoints are kept under, for files
// copied from elsewhere (an s3:// prefix) into a temporary folder: a run
// from another copy of the same files resumes the same import.
func (s *CSVSource) Named(name string) *CSVSource {
	s.name = name
	return s
}

// Version returns the Airflow release of the layout.
func (s *CSVSource) Version() string { return s.layout.Version + " (" + s.layout.Name + ")" }

// Layout returns the layout read.
func (s *CSVSource) Layout() *Layout { return s.layout }

func (s *CSVSource) path(table string) (string, bool) {
	if table == "dag" {
		return filepath.Join(s.dir, s.layout.ActiveDAGs), true
	}
	f, ok := s.layout.file(table)
	return filepath.Join(s.dir, f.File), ok
}

// Has reports whether the folder has the table's file.
func (s *CSVSource) Has(table string) bool {
	p, ok := s.path(table)
	if !ok {
		return false
	}
	_, err := os.Stat(p)
	return err == nil
}

// Count returns the number of records of a table's file.
func (s *CSVSource) Count(ctx context.Context, table string) (int64, error) {
	var n int64
	err := s.Scan(ctx, table, "", 10000, func(rows []Row, _ string) error {
		n += int64(len(rows))
		return nil
	})
	return n, err
}

// Scan reads a table's file in batches; a position is the number of
// records read before it.
func (s *CSVSource) Scan(ctx context.Context, table, position string, n int, fn func([]Row, string) error) error {
	path, ok := s.path(table)
	if !ok || !s.Has(table) {
		return nil
	}
	skip := int64(0)
	if position != "" {
		vals, err := decodePosition(position)
		if err != nil || len(vals) != 1 {
			return fmt.Errorf("scan %s: checkpoint %q does not fit the source", table, position)
		}
		skip, _ = intOf(vals[0])
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var next func() ([]string, error)
	var cols []string
	if table == "dag" {
		// One dag_id per line, written by hand: no quoting.
		sc := bufio.NewScanner(f)
		next = func() ([]string, error) {
			for sc.Scan() {
				if line := strings.TrimSpace(sc.Text()); line != "" {
					return []string{line}, nil
				}
			}
			if err := sc.Err(); err != nil {
				return nil, err
			}
			return nil, io.EOF
		}
		cols = []string{"dag_id"}
	} else {
		lf, _ := s.layout.file(table)
		r := csv.NewReader(bufio.NewReader(f))
		r.Comma, r.FieldsPerRecord, r.LazyQuotes = lf.Comma, -1, true
		next = r.Read
		cols = lf.Columns
	}
	line := int64(0)
	var batch []Row
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		line++
		if line <= skip {
			continue
		}
		if len(rec) != len(cols) {
			return fmt.Errorf("read %s: record %d has %d fields, the layout %s has %d", path, line, len(rec), s.layout.Name, len(cols))
		}
		row, err := s.row(table, cols, rec, line)
		if err != nil {
			return err
		}
		batch = append(batch, row)
		if len(batch) == n {
			if err := fn(batch, fmt.Sprintf("[%d]", line)); err != nil {
				return err
			}
			batch = nil
		}
	}
	if len(batch) > 0 {
		return fn(batch, fmt.Sprintf("[%d]", line))
	}
	return nil
}

// row makes a source row of a CSV record: empty fields are NULL (the
// tools wrote NULL and ” alike), secrets are plain text (the tools wrote
// them decrypted), rows get the ids and run ids the files leave out.
func (s *CSVSource) row(table string, cols, rec []string, line int64) (Row, error) {
	r := make(Row, len(cols)+2)
	for i, c := range cols {
		if rec[i] != "" {
			r[c] = rec[i]
		}
	}
	switch table {
	case "dag":
		r["is_paused"], r["is_active"] = false, true
	case "variable":
		r["is_encrypted"] = false
	case "connection":
		r["is_encrypted"], r["is_extra_encrypted"] = false, false
	case "dataset":
		// The restore numbers datasets in file order; events name them so.
		r["id"] = line
	case "job":
		// Job ids are not exported: a number no task instance names, so
		// their job references become NULL rather than wrong.
		r["id"] = -line
	case "task_instance", "task_fail":
		if r["run_id"] == nil && r["execution_date"] != nil {
			id, err := s.runIDAt(strOf(r["dag_id"]), r["execution_date"])
			if err != nil {
				return nil, err
			}
			if id != "" {
				r[joinedRunID] = id
			}
		}
	}
	if v, ok := r["next_kwargs"]; ok {
		// A json column the tools wrote as its Python repr.
		js, err := pythonReprToJSON(strOf(v))
		if err != nil {
			return nil, fmt.Errorf("%s record %d: next_kwargs: %w", table, line, err)
		}
		r["next_kwargs"] = js
	}
	return r, nil
}

// runIDAt returns the run_id of the DAG's run at a logical date, from
// dag_run.csv.
func (s *CSVSource) runIDAt(dagID string, date any) (string, error) {
	if s.runIDs == nil {
		s.runIDs = map[string]string{}
		err := s.Scan(context.Background(), "dag_run", "", 10000, func(rows []Row, _ string) error {
			for _, r := range rows {
				t, err := timeOf(r["execution_date"])
				if err != nil || t == nil {
					continue
				}
				s.runIDs[fmt.Sprint(strOf(r["dag_id"]), "\x00", t.UnixMicro())] = strOf(r["run_id"])
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	t, err := timeOf(date)
	if err != nil || t == nil {
		return "", err
	}
	return s.runIDs[fmt.Sprint(dagID, "\x00", t.UnixMicro())], nil
}
