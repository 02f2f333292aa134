package taskrun

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/logstore"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

func TestCloseLogUploads(t *testing.T) {
	t.Parallel()
	key := windsock.TaskInstanceKey{DagID: "etl", RunID: "manual__2024-05-01T00:00:00+00:00", TaskID: "load", MapIndex: -1}
	rel := "dag_id=etl/run_id=manual__2024-05-01T00:00:00+00:00/task_id=load/attempt=2.log"
	tests := []struct {
		name         string
		deleteLocal  bool
		state        windsock.TaskInstanceState
		brokenRemote bool
		wantCopy     bool
		wantLocal    bool
		wantWarning  string
	}{
		{"kept locally by default", false, windsock.TaskStateSuccess, false, true, true, ""},
		{"deleted once copied", true, windsock.TaskStateFailed, false, true, false, ""},
		{"a rescheduled sensor keeps its log", true, windsock.TaskStateUpForReschedule, false, true, true, ""},
		{"a failed copy is a warning", true, windsock.TaskStateSuccess, true, false, true, "copying task log to remote storage failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			local, remote := t.TempDir(), t.TempDir()
			if tt.brokenRemote {
				// A directory under a regular file cannot be created.
				remote = filepath.Join(remote, "file")
				if err := os.WriteFile(remote, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			var logs bytes.Buffer
			r := &Runner{LogFolder: local, RemoteLogs: &logstore.Dir{Path: remote}, DeleteLocalLogs: tt.deleteLocal,
				Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			try := &Try{TI: &windsock.TaskInstance{TaskInstanceKey: key, TryNumber: 2}}
			f, err := tasklog.Open(local, key, 2, nil)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprint(f, "hello\nno newline at the end")
			r.closeLog(t.Context(), try, f, &Outcome{State: tt.state})

			copied, err := os.ReadFile(filepath.Join(remote, rel))
			if tt.wantCopy != (err == nil) {
				t.Fatalf("copy: %v", err)
			}
			// The copy is made after Close wrote the last partial line.
			if tt.wantCopy && !strings.Contains(string(copied), "{output} INFO - no newline at the end\n") {
				t.Fatalf("copy = %q", copied)
			}
			if _, err := os.Stat(tasklog.Path(local, key, 2)); tt.wantLocal != (err == nil) {
				t.Fatalf("local file: %v, want kept %v", err, tt.wantLocal)
			}
			if tt.wantWarning == "" && logs.Len() > 0 || !strings.Contains(logs.String(), tt.wantWarning) {
				t.Fatalf("worker log = %q, want %q", logs.String(), tt.wantWarning)
			}
		})
	}
}

// TestCloseLogKeepsTheOnlyCopy: with the remote folder being the log
// folder itself, delete_local_logs must not delete the log.
func TestCloseLogKeepsTheOnlyCopy(t *testing.T) {
	t.Parallel()
	key := windsock.TaskInstanceKey{DagID: "etl", RunID: "r", TaskID: "load", MapIndex: -1}
	folder := t.TempDir()
	r := &Runner{LogFolder: folder, RemoteLogs: &logstore.Dir{Path: folder}, DeleteLocalLogs: true}
	f, err := tasklog.Open(folder, key, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintln(f, "the only copy")
	r.closeLog(t.Context(), &Try{TI: &windsock.TaskInstance{TaskInstanceKey: key, TryNumber: 1}}, f, &Outcome{State: windsock.TaskStateSuccess})
	if b, err := os.ReadFile(tasklog.Path(folder, key, 1)); err != nil || !strings.Contains(string(b), "the only copy") {
		t.Fatalf("log after close: %q, %v", b, err)
	}
}
