package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/windsock"
)

// TestSlowRunListenerDoesNotHoldUpScheduling: a listener of finished runs
// that blocks (here on a channel only the test closes) delays only its
// own call; another run is scheduled and runs to the end meanwhile.
func TestSlowRunListenerDoesNotHoldUpScheduling(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"a.yaml": chainYAML("first", 1), "b.yaml": chainYAML("second", 1)})
	release := make(chan struct{})
	firstEnded, finished := make(chan *windsock.DagRun, 1), make(chan *windsock.DagRun, 4)
	engine, err := env.NewEngine(EngineOptions{Interval: 50 * time.Millisecond, OnRunFinished: func(r *windsock.DagRun) {
		if r.DagID == "first" {
			firstEnded <- r
			<-release
			return
		}
		finished <- r
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := engine.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer engine.Stop()
	defer close(release) // before Stop, which waits for the listener
	er := &engineRun{env: env, engine: engine}
	er.start(t, "first", day)
	<-firstEnded // and its listener now blocks
	second := er.start(t, "second", day)
	select {
	case r := <-finished:
		if r.RunID != second.RunID || r.DagID != "second" || r.State != windsock.DagRunSuccess {
			t.Fatalf("finished %s/%s %s, want second/%s success", r.DagID, r.RunID, r.State, second.RunID)
		}
	case <-time.After(time.Minute):
		t.Fatal("the second run did not finish while a listener of the first one blocked")
	}
}

// TestStopWaitsForDAGCallbacks: a DAG's on_success_callback under way
// when the engine stops runs to its end before Stop returns.
func TestStopWaitsForDAGCallbacks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	began, goOn, out := filepath.Join(dir, "began"), filepath.Join(dir, "go-on"), filepath.Join(dir, "out")
	for _, fifo := range []string{began, goOn} {
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// The pause after being released makes a Stop that does not wait
	// return before the callback has written its file.
	env := benchEnv(t, map[string]string{"cb.yaml": fmt.Sprintf(`
cb:
  schedule: null
  start_date: 2024-01-01
  on_success_callback: 'echo began > %s; read x < %s; sleep 1; echo done > %s'
  tasks:
    - {task_id: ok, operator: bash, bash_command: "true"}
`, began, goOn, out)})
	er := startEngine(t, env, nil)
	er.start(t, "cb", day)
	if _, err := os.ReadFile(began); err != nil { // blocks until the callback runs
		t.Fatal(err)
	}
	stopped := make(chan struct{})
	go func() {
		er.engine.Stop()
		close(stopped)
	}()
	if err := os.WriteFile(goOn, []byte("go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	<-stopped
	if b, err := os.ReadFile(out); err != nil || string(b) != "done\n" {
		t.Fatalf("Stop returned before the DAG callback ended: %q, %v", b, err)
	}
}

// TestOperatorRegistryIsBuiltOnce: the runners of several schedulers and
// workers ask for the registry at once; it is built once (and -race finds
// no data race).
func TestOperatorRegistryIsBuiltOnce(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, nil)
	const n = 8
	got := make([]*operator.Registry, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i] = env.OperatorRegistry()
		}()
	}
	close(start)
	wg.Wait()
	for i := range got {
		if got[i] != got[0] {
			t.Fatalf("registry %d differs from registry 0: built more than once", i)
		}
	}
}
