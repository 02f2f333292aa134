package envrunner

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/windsock/windsock/internal/atomicfile"
	"github.com/windsock/windsock/internal/envspec"
	"github.com/windsock/windsock/internal/supervise"
)

// nameRE is MWAA's environment name pattern; a name is also a folder name
// and part of a PostgreSQL schema name, so it is checked before any use.
var nameRE = regexp.MustCompile(`^[a-zA-Z][0-9a-zA-Z_-]{0,79}$`)

func checkName(name string) error {
	if !nameRE.MatchString(name) {
		return fmt.Errorf("environment name %q: %w", name, errBadName)
	}
	return nil
}

// Log groups, named as MWAA names them: airflow-{Name}-{Component}.
const (
	GroupDAGProcessing = envspec.DAGProcessing
	GroupScheduler     = envspec.Scheduler
	GroupWebServer     = envspec.WebServer
	GroupWorker        = envspec.Worker
	GroupTask          = envspec.Task
)

// Groups are the log groups of an environment, in MWAA's order.
var Groups = envspec.Components

// GroupName is the log group's MWAA name for an environment.
func GroupName(env, group string) string { return "airflow-" + env + "-" + group }

// home is where one environment keeps everything of its own.
type home string

// EnvironmentHome is the home of environment name under the control plane
// home cpHome.
func EnvironmentHome(cpHome, name string) string {
	return filepath.Join(cpHome, "environments", name)
}

func (h home) path(parts ...string) string {
	return filepath.Join(append([]string{string(h)}, parts...)...)
}
func (h home) dags() string              { return h.path("dags") }
func (h home) runDir() string            { return h.path("run") }
func (h home) slotsFile() string         { return h.path("run", "executor_slots") }
func (h home) layoutFile() string        { return h.path("run", "layout.json") }
func (h home) stateFile(p string) string { return h.path("run", p+".json") }
func (h home) groupDir(env, g string) string {
	return h.path("loggroups", GroupName(env, g))
}

// layout is what an environment's processes were started with, kept in
// its home so that an adopting runner uses the same ports.
type layout struct {
	// Single: the environment runs as one `windsock standalone` process.
	Single bool `json:"single"`
	// WebPorts are the web servers' ports; WorkerPorts each worker's log
	// server port, by worker number.
	WebPorts    []int       `json:"web_ports"`
	WorkerPorts map[int]int `json:"worker_ports,omitempty"`
	// Workers is the number of workers (or, single, of worker-sized
	// executor capacities) the autoscaler last set.
	Workers int `json:"workers"`
}

func (h home) readLayout() (*layout, bool) {
	b, err := os.ReadFile(h.layoutFile())
	if err != nil {
		return nil, false
	}
	var l layout
	if json.Unmarshal(b, &l) != nil {
		return nil, false
	}
	return &l, true
}

func (h home) writeLayout(l *layout) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(h.layoutFile(), b, 0o600)
}

// concurrency is a worker's concurrency: Spec.WorkerConcurrency, which
// the API sets from the environment class (mwaa.Classes), else
// mw1.small's 5 (MWAA's default class).
func concurrency(spec envspec.Spec) int {
	if spec.WorkerConcurrency > 0 {
		return spec.WorkerConcurrency
	}
	return 5
}

// levelOf is the Windsock logging level for an MWAA log level.
func levelOf(l string) string {
	switch strings.ToUpper(l) {
	case "CRITICAL", "ERROR", "WARNING", "DEBUG":
		return strings.ToUpper(l)
	}
	return "INFO"
}

// killRecorded ends the live processes the home's run folder records
// (no supervisor holds them): SIGTERM, then SIGKILL after grace.
func (h home) killRecorded(grace time.Duration) {
	files, _ := filepath.Glob(filepath.Join(h.runDir(), "*.json"))
	var live []string
	for _, f := range files {
		if pid, ok := supervise.Recorded(f); ok {
			_ = syscall.Kill(pid, syscall.SIGTERM)
			live = append(live, f)
		}
	}
	deadline := time.Now().Add(grace)
	for _, f := range live {
		killed := false
		for {
			pid, ok := supervise.Recorded(f)
			if !ok {
				break
			}
			if !killed && time.Now().After(deadline) {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
				_ = syscall.Kill(pid, syscall.SIGKILL)
				killed = true
			}
			if killed && time.Now().After(deadline.Add(10*time.Second)) {
				break // not reaped by its parent: nothing more to do
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
