// Package tasklog writes and reads task logs in Airflow's layout
// (<base>/dag_id=<d>/run_id=<r>/task_id=<t>/attempt=<n>.log), with each
// line timestamped like Airflow's and secrets replaced by "***".
package tasklog

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/windsock"
)

// Path returns the log file of one try of a task instance, in Airflow's
// default log_filename_template:
//
//	<base>/dag_id=<d>/run_id=<r>/task_id=<t>[/map_index=<m>]/attempt=<n>.log
//
// map_index appears only for mapped task instances (MapIndex >= 0). Every
// component starts with its "name=" prefix, so an id can never be "." or
// ".."; a '/' in an id (which Airflow's id rules forbid, but the API may
// let through) is written "%2F", and '%' itself "%25", so distinct ids
// always get distinct paths. Run ids keep their ':' and '+', as Airflow
// writes them on Linux.
func Path(baseFolder string, key windsock.TaskInstanceKey, tryNumber int) string {
	parts := make([]string, 0, 6)
	parts = append(parts, baseFolder,
		"dag_id="+escape(key.DagID),
		"run_id="+escape(key.RunID),
		"task_id="+escape(key.TaskID))
	if key.MapIndex >= 0 {
		parts = append(parts, "map_index="+strconv.Itoa(key.MapIndex))
	}
	parts = append(parts, "attempt="+strconv.Itoa(tryNumber)+".log")
	return filepath.Join(parts...)
}

// escape makes s safe as the tail of one path component.
func escape(s string) string {
	if !strings.ContainsAny(s, "/%\x00") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '/':
			b.WriteString("%2F")
		case '%':
			b.WriteString("%25")
		case 0:
			b.WriteString("%00")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
