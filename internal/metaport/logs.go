package metaport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// LogImportOptions choose the task logs ImportLogs copies.
type LogImportOptions struct {
	// Days: runs whose logical date is within the last Days days (AWS's
	// guide: TI_LOG_MAX_DAYS, 3).
	Days int
	// AllStates copies every task instance's logs, not only failed ones.
	AllStates bool
	// Now is the current time (time.Now when zero).
	Now time.Time
}

// LogImportReport counts the tries whose logs were looked for.
type LogImportReport struct {
	Source string `json:"source"`
	// Copied tries' logs; Existing ones were already there (an import run
	// twice copies nothing twice); Missing ones the source does not have.
	Copied   int `json:"copied"`
	Existing int `json:"existing"`
	Missing  int `json:"missing"`
	// FromCloudWatch counts the copied logs that were log streams of a
	// CloudWatch Logs export.
	FromCloudWatch int      `json:"from_cloudwatch"`
	Notes          []string `json:"notes"`
}

// ImportLogs copies the task logs of the environment's task instances
// from src (named name in the report) into base, the environment's log
// folder, where the UI and API read them. src is a folder (os.DirFS) or an
// S3 prefix seen as one, holding either Airflow's log layout (2.x's
// dag_id=/run_id=/task_id=/attempt=N.log, or 1.10's
// dag/task/<logical date>/N.log) or a CloudWatch Logs export of MWAA's
// task log group (see cloudWatchRoots).
func ImportLogs(ctx context.Context, st store.Queries, src fs.FS, name, base string, opts LogImportOptions) (*LogImportReport, error) {
	if opts.Days <= 0 {
		return nil, windsock.Errorf(windsock.EINVALID, "--days must be 1 or more, got %d", opts.Days)
	}
	if fi, err := fs.Stat(src, "."); err != nil || !fi.IsDir() {
		return nil, windsock.Errorf(windsock.EINVALID, "log source %s is not a folder", name)
	}
	roots, err := cloudWatchRoots(src)
	if err != nil {
		return nil, fmt.Errorf("import logs: %w", err)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	since := now.Add(-time.Duration(opts.Days) * 24 * time.Hour)
	rep := &LogImportReport{Source: name, Notes: []string{}}
	var states []windsock.TaskInstanceState
	if !opts.AllStates {
		states = []windsock.TaskInstanceState{windsock.TaskStateFailed}
	}
	for offset := 0; ; offset += 500 {
		runs, err := st.DagRunList(ctx, &store.DagRunListParams{LogicalDateGTE: &since, OrderBy: "id", Limit: 500, Offset: offset})
		if err != nil {
			return rep, err
		}
		for _, r := range runs {
			tis, err := st.TaskInstanceList(ctx, &store.TaskInstanceListParams{DagID: r.DagID, RunID: r.RunID, States: states})
			if err != nil {
				return rep, err
			}
			for _, ti := range tis {
				for try := 1; try <= ti.TryNumber; try++ {
					if err := ctx.Err(); err != nil {
						return rep, err
					}
					if err := copyTryLog(src, roots, base, r, ti.TaskInstanceKey, try, rep); err != nil {
						return rep, err
					}
				}
			}
		}
		if len(runs) < 500 {
			return rep, nil
		}
	}
}

// exportTaskID is the name of the folder a CloudWatch Logs export task
// writes under its destination prefix: the task's id, a UUID.
var exportTaskID = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// cloudWatchRoots are the folders a try's log is looked for under: the
// source itself, then each export task's folder in it. `aws logs
// create-export-task` writes <prefix>/<task id>/<log stream name>/NNNNNN.gz,
// and MWAA names a task log stream like the log file's path
// (dag_id=…/run_id=…/task_id=…/attempt=N.log, or 1.10's
// dag/task/date/N.log): so a stream is a folder where a file would be, and
// the source may be the export's prefix or one task's folder.
func cloudWatchRoots(src fs.FS) ([]string, error) {
	roots := []string{"."}
	entries, err := fs.ReadDir(src, ".")
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if e.IsDir() && exportTaskID.MatchString(e.Name()) {
			roots = append(roots, e.Name())
		}
	}
	return roots, nil
}

// sourceLogPaths are where Airflow wrote a try's log, relative to the
// source: 2.x's layout (run ids as written, or with ':' made '_' as MWAA's
// log stream names have them), then 1.10's.
func sourceLogPaths(r *windsock.DagRun, key windsock.TaskInstanceKey, try int) []string {
	paths := []string{filepath.ToSlash(tasklog.Path("", key, try))}
	if strings.Contains(key.RunID, ":") {
		k := key
		k.RunID = strings.ReplaceAll(k.RunID, ":", "_")
		paths = append(paths, filepath.ToSlash(tasklog.Path("", k, try)))
	}
	// 1.10: <dag_id>/<task_id>/<execution_date.isoformat()>/<try>.log; ids
	// that would leave the folder are not looked for.
	if safeComponent(key.DagID) && safeComponent(key.TaskID) {
		iso := r.LogicalDate.UTC().Format("2006-01-02T15:04:05.999999") + "+00:00"
		paths = append(paths, path.Join(key.DagID, key.TaskID, iso, strconv.Itoa(try)+".log"))
	}
	return paths
}

func safeComponent(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\\\x00")
}

func copyTryLog(src fs.FS, roots []string, base string, r *windsock.DagRun, key windsock.TaskInstanceKey, try int, rep *LogImportReport) error {
	dest := tasklog.Path(base, key, try)
	if _, err := os.Stat(dest); err == nil {
		rep.Existing++
		return nil
	}
	for _, root := range roots {
		for _, p := range sourceLogPaths(r, key, try) {
			p = path.Join(root, p)
			if !fs.ValidPath(p) {
				continue
			}
			fi, err := fs.Stat(src, p)
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return fmt.Errorf("import logs: %w", err)
			}
			if fi.IsDir() {
				ok, err := copyStream(src, p, dest)
				if err != nil {
					return fmt.Errorf("import logs: log stream %s: %w", p, err)
				}
				if !ok {
					continue
				}
				rep.FromCloudWatch++
			} else if err := copyFile(src, p, dest); err != nil {
				return fmt.Errorf("import logs: %w", err)
			}
			rep.Copied++
			return nil
		}
	}
	rep.Missing++
	rep.Notes = append(rep.Notes, fmt.Sprintf("no log for %s/%s/%s try %d", key.DagID, key.RunID, key.TaskID, try))
	return nil
}

func copyFile(src fs.FS, p, dest string) error {
	in, err := src.Open(p)
	if err != nil {
		return err
	}
	defer in.Close()
	return writeNew(dest, in)
}

// writeNew writes a log file that is not there yet, through a temporary
// file renamed into place, so an interrupted copy leaves no partial log.
func writeNew(dest string, in io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(dest), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".import-*.log")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}
