package app

import (
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// ExternalTaskSensor reads the engine's own store: a sensor for the
// producer's task in the run an hour earlier (execution_delta) that
// succeeded succeeds on its first try, and one for a task that failed
// fails at once (failed_states).
func TestEngineExternalTaskSensor(t *testing.T) {
	t.Parallel()
	env := benchEnv(t, map[string]string{"x.yaml": `
producer:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - {task_id: make, operator: bash, bash_command: "true"}
    - {task_id: break, operator: bash, bash_command: "exit 1"}
watcher:
  schedule: null
  start_date: 2024-01-01
  tasks:
    - task_id: wait_make
      operator: ExternalTaskSensor
      external_dag_id: producer
      external_task_id: make
      execution_delta: 1h
      mode: reschedule
      poke_interval: 0
      timeout: 60
    - task_id: wait_break
      operator: ExternalTaskSensor
      external_dag_id: producer
      external_task_id: break
      execution_delta: 1h
      failed_states: [failed]
      poke_interval: 0
      timeout: 60
`})
	er := startEngine(t, env, nil)
	produced := er.trigger(t, "producer", day.Add(-time.Hour), nil)
	if got := states(t, env, produced); got["make"].State != windsock.TaskStateSuccess || got["break"].State != windsock.TaskStateFailed {
		t.Fatalf("producer: make %s, break %s", got["make"].State, got["break"].State)
	}
	run := er.trigger(t, "watcher", day, nil)
	got := states(t, env, run)
	if got["wait_make"].State != windsock.TaskStateSuccess || got["wait_make"].TryNumber != 1 {
		t.Errorf("wait_make %s on try %d, want success on try 1", got["wait_make"].State, got["wait_make"].TryNumber)
	}
	if got["wait_break"].State != windsock.TaskStateFailed {
		t.Errorf("wait_break %s, want failed (the watched task failed)", got["wait_break"].State)
	}
}
