package envrunner

import (
	"sort"
	"strconv"
	"strings"

	"github.com/windsock/windsock/internal/envspec"
)

// procSpec is one process an environment runs.
type procSpec struct {
	// id names it in the home's run folder and in logs: "standalone",
	// "scheduler-1", "dag-processor", "webserver-1", "worker-2".
	id    string
	group string // its log group
	args  []string
	// env holds the per-process variables (ports, log level).
	env []string
	// worker is the worker number for workers, else 0.
	worker int
}

// drainGrace is how long a worker scaled in may finish its running tries:
// long, since no try may be lost or failed by a scale-in.
const drainGrace = "24h"

// plan lists the processes an environment runs with layout l. Pure.
func plan(spec envspec.Spec, l *layout, slotsFile string) []procSpec {
	level := func(group string) string {
		return "AIRFLOW__LOGGING__LOGGING_LEVEL=" + levelOf(spec.Logging[group].LogLevel)
	}
	if l.Single {
		// One process does every component's work: the most verbose
		// enabled level of them applies.
		lvl := "CRITICAL"
		for _, g := range []string{GroupScheduler, GroupDAGProcessing, GroupWebServer, GroupWorker} {
			if m, ok := spec.Logging[g]; ok && m.Enabled && levelRank(levelOf(m.LogLevel)) < levelRank(lvl) {
				lvl = levelOf(m.LogLevel)
			}
		}
		if len(spec.Logging) == 0 {
			lvl = "INFO"
		}
		return []procSpec{{
			id: "standalone", group: GroupScheduler,
			args: []string{"standalone", "--port", strconv.Itoa(l.WebPorts[0]), "--executor-slots-file", slotsFile, "--grace-period", drainGrace},
			env:  []string{"AIRFLOW__LOGGING__LOGGING_LEVEL=" + lvl, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=" + strconv.Itoa(l.WorkerPorts[0])},
		}}
	}
	var ps []procSpec
	for i := 1; i <= max(spec.Schedulers, 1); i++ {
		ps = append(ps, procSpec{id: "scheduler-" + strconv.Itoa(i), group: GroupScheduler,
			args: []string{"scheduler", "--skip-serve-logs"}, env: []string{level(GroupScheduler)}})
	}
	ps = append(ps, procSpec{id: "dag-processor", group: GroupDAGProcessing, args: []string{"dag-processor"}, env: []string{level(GroupDAGProcessing)}})
	for i, port := range l.WebPorts {
		ps = append(ps, procSpec{id: "webserver-" + strconv.Itoa(i+1), group: GroupWebServer,
			args: []string{"webserver", "--port", strconv.Itoa(port)}, env: []string{level(GroupWebServer)}})
	}
	workers := make([]int, 0, len(l.WorkerPorts))
	for n := range l.WorkerPorts {
		workers = append(workers, n)
	}
	sort.Ints(workers)
	for _, n := range workers {
		ps = append(ps, workerProc(spec, n, l.WorkerPorts[n], level(GroupWorker)))
	}
	return ps
}

func workerProc(spec envspec.Spec, n, port int, level string) procSpec {
	return procSpec{id: "worker-" + strconv.Itoa(n), group: GroupWorker, worker: n,
		args: []string{"worker", "--hostname", "127.0.0.1", "--concurrency", strconv.Itoa(concurrency(spec)), "--grace-period", drainGrace},
		env:  []string{level, "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=" + strconv.Itoa(port)}}
}

func levelRank(l string) int {
	return map[string]int{"DEBUG": 0, "INFO": 1, "WARNING": 2, "ERROR": 3, "CRITICAL": 4}[strings.ToUpper(l)]
}
