package trigger

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// recorder is a DagRunTrigger that records what it was asked to create.
type recorder struct {
	got []operator.TriggerParams
}

func (r *recorder) TriggerDagRun(_ context.Context, p operator.TriggerParams) (*windsock.DagRun, error) {
	r.got = append(r.got, p)
	return &windsock.DagRun{DagID: p.DagID, RunID: p.RunID, LogicalDate: p.LogicalDate}, nil
}
func (r *recorder) ClearDagRun(context.Context, string, string) error { return nil }
func (r *recorder) DagRunState(context.Context, string, string) (windsock.DagRunState, error) {
	return windsock.DagRunRunning, nil
}

func TestArguments(t *testing.T) {
	t.Parallel()
	now := time.Date(2024, 5, 1, 10, 0, 0, 123000, time.UTC)
	tests := []struct {
		name string
		args map[string]any
		want operator.TriggerParams
		err  string
	}{
		{"defaults", map[string]any{"trigger_dag_id": "t"}, operator.TriggerParams{DagID: "t", LogicalDate: now}, ""},
		{"conf as JSON text", map[string]any{"trigger_dag_id": "t", "conf": `{"a": 1}`, "logical_date": "2024-01-02"},
			operator.TriggerParams{DagID: "t", Conf: map[string]any{"a": 1}, LogicalDate: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)}, ""},
		{"conf as the dict Jinja printed", map[string]any{"trigger_dag_id": "t", "conf": `{'a': 'b'}`, "execution_date": "2024-01-02T03:00:00+01:00"},
			operator.TriggerParams{DagID: "t", Conf: map[string]any{"a": "b"}, LogicalDate: time.Date(2024, 1, 2, 2, 0, 0, 0, time.UTC)}, ""},
		{"run id", map[string]any{"trigger_dag_id": "t", "trigger_run_id": "r"}, operator.TriggerParams{DagID: "t", RunID: "r", LogicalDate: now}, ""},
		{"no dag id", map[string]any{}, operator.TriggerParams{}, "trigger_dag_id: required"},
		{"conf not a dict", map[string]any{"trigger_dag_id": "t", "conf": []any{1}}, operator.TriggerParams{}, "want a dict"},
		{"bad state", map[string]any{"trigger_dag_id": "t", "allowed_states": []any{"done"}}, operator.TriggerParams{}, "'done' is not a valid DagRunState"},
		{"bad date", map[string]any{"trigger_dag_id": "t", "logical_date": "tomorrow"}, operator.TriggerParams{}, "bad date-time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			tc := &operator.Context{Args: tt.args, Log: io.Discard, DagRuns: rec, Now: func() time.Time { return now }}
			res, err := New().Execute(context.Background(), tc)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, operator.ErrFail) {
					t.Fatalf("err = %v, want %q without retries", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rec.got) != 1 || !reflect.DeepEqual(rec.got[0].Conf, tt.want.Conf) || rec.got[0].RunID != tt.want.RunID ||
				rec.got[0].DagID != tt.want.DagID || !rec.got[0].LogicalDate.Equal(tt.want.LogicalDate) {
				t.Errorf("triggered %+v, want %+v", rec.got, tt.want)
			}
			if res.XComs[XComLogicalDate] != windsock.ISOFormat(tt.want.LogicalDate) {
				t.Errorf("xcoms %v", res.XComs)
			}
		})
	}
}

// A wait ends with the try's context (execution_timeout, kill).
func TestWaitEndsWithTheTry(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	tc := &operator.Context{Args: map[string]any{"trigger_dag_id": "t", "wait_for_completion": true, "poke_interval": 0.01},
		Log: pw, DagRuns: &recorder{}, Now: time.Now}
	done := make(chan error, 1)
	go func() { _, err := New().Execute(ctx, tc); done <- err }()
	buf := make([]byte, 4096)
	for n := 0; !strings.Contains(string(buf[:n]), "to become allowed state ['success']"); {
		m, err := pr.Read(buf[n:])
		if err != nil {
			t.Fatal(err)
		}
		n += m
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNoMetadataDatabase(t *testing.T) {
	t.Parallel()
	_, err := New().Execute(context.Background(), &operator.Context{Args: map[string]any{"trigger_dag_id": "t"}, Log: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "cannot create DAG runs here") {
		t.Errorf("err = %v", err)
	}
}
