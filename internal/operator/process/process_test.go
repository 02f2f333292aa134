package process

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

func setup(t testing.TB) string {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("bash not found")
	}
	return bash
}

func TestRunLinesAndExitCode(t *testing.T) {
	t.Parallel()
	bash := setup(t)
	long := strings.Repeat("x", maxLine+10)
	exact := strings.Repeat("x", 2*maxLine)
	tests := []struct {
		name   string
		script string
		lines  []string
		code   int
	}{
		{"lines", "echo a; echo; echo b >&2; printf c", []string{"a", "", "b", "c"}, 0},
		{"exit code", "exit 7", nil, 7},
		{"signal", "kill -TERM $$", nil, -15},
		{"long line in pieces", "printf '%*s\\n' " + "65546" + " '' | tr ' ' x; echo end", []string{long[:maxLine], long[maxLine:], "end"}, 0},
		// The pieces were the line: no empty line follows them.
		{"line of whole pieces", "printf '%*s\\n' 131072 '' | tr ' ' x; echo end", []string{exact[:maxLine], exact[maxLine:], "end"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			code, err := Runner{}.Run(context.Background(), &Command{
				Path: bash, Args: []string{"bash", "-c", tt.script},
				Line: func(b []byte) { got = append(got, string(b)) },
			})
			if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit code %d, want %d", code, tt.code)
			}
			if !slices.Equal(got, tt.lines) {
				t.Errorf("lines %.80q, want %.80q", got, tt.lines)
			}
		})
	}
}

// TestRunPartialJoinsLongLines: with Partial set, the pieces of a long line
// go to Partial and its end to Line, so the caller can rebuild the line.
func TestRunPartialJoinsLongLines(t *testing.T) {
	t.Parallel()
	bash := setup(t)
	tests := []struct {
		name   string
		script string
		lines  []string
	}{
		{"short lines", "echo a; echo; printf b", []string{"a", "", "b"}},
		{"long line", "printf '%*s\\n' 200000 '' | tr ' ' x; echo end", []string{strings.Repeat("x", 200000), "end"}},
		{"ends on a piece boundary", "printf '%*s\\n' 131072 '' | tr ' ' y; echo end", []string{strings.Repeat("y", 131072), "end"}},
		{"long last line without newline", "echo start; printf '%*s' 131072 '' | tr ' ' z", []string{"start", strings.Repeat("z", 131072)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			var cur []byte
			pieces := 0
			code, err := Runner{}.Run(context.Background(), &Command{
				Path: bash, Args: []string{"bash", "-c", tt.script},
				Partial: func(b []byte) {
					if len(b) < maxLine {
						t.Errorf("piece of %d bytes, want at least %d", len(b), maxLine)
					}
					cur = append(cur, b...)
					pieces++
				},
				Line: func(b []byte) {
					got = append(got, string(append(cur, b...)))
					cur = cur[:0]
				},
			})
			if err != nil || code != 0 {
				t.Fatalf("Run = %d, %v", code, err)
			}
			if len(cur) > 0 {
				t.Errorf("%d bytes of pieces were never ended by Line", len(cur))
			}
			if !slices.Equal(got, tt.lines) {
				t.Errorf("lines %.80q, want %.80q", got, tt.lines)
			}
			if long := len(tt.lines[len(tt.lines)-1]) > maxLine || len(tt.lines[0]) > maxLine; long != (pieces > 0) {
				t.Errorf("%d pieces for lines %.40q", pieces, tt.lines)
			}
		})
	}
}

func TestRunCancelled(t *testing.T) {
	t.Parallel()
	bash := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := (Runner{}).Run(ctx, &Command{Path: bash, Args: []string{"bash", "-c", "true"}}); err != context.Canceled {
		t.Errorf("already cancelled: error %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := Runner{}.Run(ctx, &Command{Path: bash, Args: []string{"bash", "-c", "sleep 300 & sleep 300"}})
	if err != context.DeadlineExceeded {
		t.Errorf("timed out: error %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v to stop", d)
	}
}

func TestMergeEnv(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		base      []string
		overrides [][]string
		want      []string
	}{
		{"nothing to add", []string{"A=1"}, nil, []string{"A=1"}},
		{"override in place", []string{"A=1", "B=2"}, [][]string{{"A=9"}}, []string{"A=9", "B=2"}},
		{"later wins", nil, [][]string{{"A=1", "C=3"}, {"A=2"}}, []string{"A=2", "C=3"}},
		{"duplicates in base collapse", []string{"A=1", "A=2"}, [][]string{{"B=1"}}, []string{"A=2", "B=1"}},
		{"value with equals", []string{"A=x=y"}, [][]string{{"B=p=q"}}, []string{"A=x=y", "B=p=q"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := MergeEnv(tt.base, tt.overrides...); !slices.Equal(got, tt.want) {
				t.Errorf("MergeEnv = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestContextEnv(t *testing.T) {
	t.Parallel()
	tc := &operator.Context{
		DAG:  &windsock.DAG{DagID: "d"},
		Task: &windsock.Task{TaskID: "t", Owner: "airflow"},
		Run:  &windsock.DagRun{RunID: "r", LogicalDate: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)},
		TI:   &windsock.TaskInstance{TaskInstanceKey: windsock.TaskInstanceKey{DagID: "d", TaskID: "t", RunID: "r"}, TryNumber: 3},
	}
	got := ContextEnv(tc)
	slices.Sort(got)
	want := []string{
		"AIRFLOW_CTX_DAG_ID=d",
		"AIRFLOW_CTX_DAG_OWNER=airflow",
		"AIRFLOW_CTX_DAG_RUN_ID=r",
		"AIRFLOW_CTX_EXECUTION_DATE=2024-05-06T07:08:09+00:00",
		"AIRFLOW_CTX_LOGICAL_DATE=2024-05-06T07:08:09+00:00",
		"AIRFLOW_CTX_TASK_ID=t",
		"AIRFLOW_CTX_TRY_NUMBER=3",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ContextEnv = %q\nwant %q", got, want)
	}
}

// BenchmarkRun measures starting `bash -c true` and collecting its output.
func BenchmarkRun(b *testing.B) {
	bash := setup(b)
	cmd := &Command{Path: bash, Args: []string{"bash", "-c", "true"}}
	for b.Loop() {
		if _, err := (Runner{}).Run(context.Background(), cmd); err != nil {
			b.Fatal(err)
		}
	}
}
