package process

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/osenv"
	"github.com/windsock/windsock/internal/windsock"
)

// BaseEnv is the environment a task's subprocess starts from: tc.Environ,
// the environment's own variables, and never this process's (several
// environments may share it, each with its own variables).
func BaseEnv(tc *operator.Context) []string {
	return tc.Environ
}

// TempDir is where a try's temporary files go: the TMPDIR of the try's
// environment (a folder of its own under its home), or the system's when
// the environment names none.
func TempDir(tc *operator.Context) string {
	if dir, ok := osenv.Get(tc.Environ, "TMPDIR"); ok && filepath.IsAbs(dir) {
		return dir
	}
	return os.TempDir()
}

// ContextEnv returns the AIRFLOW_CTX_* variables Airflow exports to every
// task (context_to_airflow_vars): dag and task ids, logical date (under its
// 2.x name EXECUTION_DATE and Airflow 3's LOGICAL_DATE), try number, run
// id and owner. Values the context lacks are left out.
func ContextEnv(tc *operator.Context) []string {
	env := make([]string, 0, 7)
	add := func(k, v string) {
		if v != "" {
			env = append(env, k+"="+v)
		}
	}
	if tc.DAG != nil {
		add("AIRFLOW_CTX_DAG_ID", tc.DAG.DagID)
	}
	if tc.Task != nil {
		add("AIRFLOW_CTX_TASK_ID", tc.Task.TaskID)
		add("AIRFLOW_CTX_DAG_OWNER", tc.Task.Owner)
	}
	if tc.TI != nil {
		if tc.DAG == nil {
			add("AIRFLOW_CTX_DAG_ID", tc.TI.DagID)
		}
		if tc.Task == nil {
			add("AIRFLOW_CTX_TASK_ID", tc.TI.TaskID)
		}
		add("AIRFLOW_CTX_TRY_NUMBER", strconv.Itoa(tc.TI.TryNumber))
		add("AIRFLOW_CTX_DAG_RUN_ID", tc.TI.RunID)
		add(tryMarkVar, TryMark(tc.EnvironmentID, tc.TI))
	}
	if tc.Run != nil {
		if tc.TI == nil {
			add("AIRFLOW_CTX_DAG_RUN_ID", tc.Run.RunID)
		}
		if !tc.Run.LogicalDate.IsZero() {
			d := windsock.ISOFormat(tc.Run.LogicalDate)
			add("AIRFLOW_CTX_EXECUTION_DATE", d)
			add("AIRFLOW_CTX_LOGICAL_DATE", d)
		}
	}
	return env
}

// tryMarkVar names the variable that tells a try's processes from every
// other's: with the AIRFLOW_CTX_* ones it lets KillLeftovers find them
// after their worker died.
const tryMarkVar = "WINDSOCK_TRY"

// TryMark identifies one claim of a task instance beyond its dag, task,
// run and try number: the environment that runs it, its map index and the
// process and job that claimed it, so that a mapped sibling, or another
// environment on the host running the same DAG, never matches. The
// environment counts because environments sharing a process share its
// pid, and their stores number jobs alike. "" when the claim is unknown.
func TryMark(envID string, ti *windsock.TaskInstance) string {
	if ti == nil || ti.PID == nil {
		return ""
	}
	job := int64(0)
	if ti.JobID != nil {
		job = *ti.JobID
	}
	return fmt.Sprintf("env=%s map_index=%d pid=%d job=%d", envID, ti.MapIndex, *ti.PID, job)
}

// MergeEnv returns base with each "KEY=value" of the override lists set,
// later ones winning, and no key twice (execve keeps duplicates, and
// programs disagree on which one they read).
func MergeEnv(base []string, overrides ...[]string) []string {
	n := 0
	for _, o := range overrides {
		n += len(o)
	}
	if n == 0 {
		return base
	}
	set := make(map[string]int, len(base)+n) // key -> index in out
	out := make([]string, 0, len(base)+n)
	for _, kv := range base {
		out = put(out, set, kv)
	}
	for _, list := range overrides {
		for _, kv := range list {
			out = put(out, set, kv)
		}
	}
	return out
}

func put(out []string, set map[string]int, kv string) []string {
	k, _, _ := strings.Cut(kv, "=")
	if i, ok := set[k]; ok {
		out[i] = kv
		return out
	}
	set[k] = len(out)
	return append(out, kv)
}
