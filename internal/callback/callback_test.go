package callback

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
)

func event() Event {
	return Event{Callback: "on_failure_callback", DagID: "d", TaskID: "t", RunID: "r1", LogicalDate: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), State: "failed", TryNumber: 2, Reason: "boom"}
}

func TestCommandCallbackSeesTheEvent(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	r := &Runner{Environ: []string{"PATH=" + os.Getenv("PATH")}}
	err := r.Run(context.Background(), map[string]any{"command": `echo "$WINDSOCK_CALLBACK $AIRFLOW_CTX_DAG_ID.$AIRFLOW_CTX_TASK_ID $AIRFLOW_CTX_DAG_RUN_ID try=$AIRFLOW_CTX_TRY_NUMBER $WINDSOCK_STATE $WINDSOCK_REASON $AIRFLOW_CTX_LOGICAL_DATE"`}, event(), &out)
	if err != nil {
		t.Fatal(err)
	}
	want := "on_failure_callback d.t r1 try=2 failed boom 2024-01-02T00:00:00+00:00\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if err := r.Run(context.Background(), "exit 4", event(), nil); err == nil || !strings.Contains(err.Error(), "exit status 4") {
		t.Errorf("failing command: %v", err)
	}
}

func TestWebhookCallbackPostsTheEvent(t *testing.T) {
	t.Parallel()
	got := make(chan Event, 1)
	auth := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var ev Event
		json.NewDecoder(req.Body).Decode(&ev)
		got <- ev
		auth <- req.Header.Get("Authorization")
		if ev.TaskID == "bad" {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	r := &Runner{}
	spec := map[string]any{"url": srv.URL, "headers": map[string]any{"Authorization": "Bearer x"}}
	if err := r.Run(context.Background(), []any{spec}, event(), nil); err != nil {
		t.Fatal(err)
	}
	ev := <-got
	if ev.DagID != "d" || ev.TaskID != "t" || ev.State != "failed" || ev.TryNumber != 2 || !ev.LogicalDate.Equal(event().LogicalDate) {
		t.Errorf("posted %+v", ev)
	}
	if a := <-auth; a != "Bearer x" {
		t.Errorf("Authorization = %q", a)
	}
	bad := event()
	bad.TaskID = "bad"
	if err := r.Run(context.Background(), spec, bad, nil); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("a 500 answer: %v", err)
	}
	<-got
	<-auth
}

func TestUnsupportedCallbacks(t *testing.T) {
	t.Parallel()
	r := &Runner{}
	for _, spec := range []any{map[string]any{"callback": "pkg.notify"}, 42, map[string]any{"url": "ftp://x"}} {
		if err := r.Run(context.Background(), spec, event(), nil); err == nil {
			t.Errorf("spec %v: no error", spec)
		}
	}
}

// pythonRecorder records the Python callbacks it is asked to run.
type pythonRecorder struct{ events []Event }

func (p *pythonRecorder) RunPython(ctx context.Context, ev Event, out io.Writer) error {
	p.events = append(p.events, ev)
	fmt.Fprintf(out, "python %s\n", ev.Callback)
	return nil
}

// TestPythonCallbacks: callables of a Python DAG file go to the Python
// runner, all of one event together, once; other callbacks of the list
// run as usual; without a Python runner they fail with a clear error.
func TestPythonCallbacks(t *testing.T) {
	t.Parallel()
	py := &pythonRecorder{}
	r := &Runner{Environ: []string{"PATH=" + os.Getenv("PATH")}, Python: py}
	ev := event()
	ev.Try = &operator.Context{}
	var out bytes.Buffer
	spec := []any{map[string]any{PythonMarker: "notify"}, "echo shell", map[string]any{PythonMarker: "page"}}
	if err := r.Run(context.Background(), spec, ev, &out); err != nil {
		t.Fatal(err)
	}
	if len(py.events) != 1 || py.events[0].Callback != "on_failure_callback" || py.events[0].Try != ev.Try {
		t.Errorf("python runs: %+v", py.events)
	}
	if out.String() != "python on_failure_callback\nshell\n" {
		t.Errorf("output %q", out.String())
	}
	if err := r.Run(context.Background(), map[string]any{PythonMarker: "notify"}, ev, io.Discard); err != nil || len(py.events) != 2 {
		t.Errorf("a single Python callback: %v, %d runs", err, len(py.events))
	}
	noPython := &Runner{}
	if err := noPython.Run(context.Background(), map[string]any{PythonMarker: "notify"}, ev, io.Discard); err == nil || !strings.Contains(err.Error(), "Python callbacks cannot run here") {
		t.Errorf("without a Python runner: %v", err)
	}
	if HasPython("echo x") || HasPython([]any{"echo", map[string]any{"url": "u"}}) || !HasPython([]any{"echo", map[string]any{PythonMarker: "f"}}) {
		t.Error("HasPython is wrong")
	}
}
