package cli_test

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/windsock"
)

// pyVictim is a Python DAG file of one @task whose first try starts a
// subprocess, writes its own pid and the subprocess's to "$SIDE.pids" and
// hangs; a later try notes how many of those processes still run, then
// ends. Each try appends "job-start <try>" and "job-end <try>" to $SIDE.
const pyVictim = `
import os, subprocess, time
from datetime import datetime, timedelta
from airflow.decorators import dag, task

def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")

@dag(dag_id="pyvictim", schedule=None, start_date=datetime(2024, 1, 1), catchup=False,
     default_args={"retries": 1, "retry_delay": timedelta(seconds=1)})
def victim():
    @task
    def job(ti=None):
        side = os.environ["SIDE"]
        def note(text):
            with open(side, "a") as f:
                f.write(text + "\n")
        n = ti.try_number
        if n == 1:
            child = subprocess.Popen(["sleep", "300"])
            with open(side + ".pids.tmp", "w") as f:
                f.write("%d %d" % (os.getpid(), child.pid))
            os.rename(side + ".pids.tmp", side + ".pids")
            note("job-start %d" % n)
            time.sleep(300)
        else:
            note("job-start %d" % n)
            pids = [int(p) for p in open(side + ".pids").read().split()]
            note("job-alive-at-retry %d" % sum(alive(p) for p in pids))
        note("job-end %d" % n)

    job()

victim()
`

// TestClusterPythonWorkerKilled: kill -9 of a worker while a Python try
// runs leaves nothing of the try running (its Python child and the
// subprocess it started die with the worker); with
// scheduler.retry_tries_lost_to_crash off (Airflow's behaviour) the try is
// failed and its retry runs once, on another worker.
func TestClusterPythonWorkerKilled(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		t.Skip("needs /usr/bin/python3")
	}
	if _, err := os.Stat("../dagprocessor/python.go"); err != nil {
		t.Skip("this build's DAG processor does not parse Python DAG files")
	}
	c := newCluster(t, clusterOption{"CORE__PYTHON_EXECUTABLE", "/usr/bin/python3"}, clusterOption{"SCHEDULER__RETRY_TRIES_LOST_TO_CRASH", "False"})
	c.writeDAG("pyvictim.py", pyVictim)
	c.start("dag-processor", "dag-processor")
	c.start("scheduler", "scheduler")
	w1 := c.start("worker-1", "worker", "--hostname", "127.0.0.2")
	c.waitDAG("pyvictim")
	c.run("dags", "trigger", "pyvictim", "-r", "r")
	c.waitRunningOn("pyvictim", "r", "job", "127.0.0.2")
	b, err := os.ReadFile(c.side + ".pids")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		pids = append(pids, pid)
	}

	w1.cmd.Process.Signal(syscall.SIGKILL)
	<-w1.done
	for _, pid := range pids {
		c.waitFor(fmt.Sprintf("process %d of the killed try to end", pid), 30*time.Second, func() (bool, error) {
			return processEnded(pid), nil
		})
	}
	c.start("worker-2", "worker", "--hostname", "127.0.0.3")
	if state := c.waitRun("pyvictim", "r", time.Minute); state != windsock.DagRunSuccess {
		t.Fatalf("run ended %s, want success", state)
	}
	ti := c.ti("pyvictim", "r", "job")
	if ti.TryNumber != 2 || ti.Hostname != "127.0.0.3" {
		t.Fatalf("task = try %d on %q, want try 2 on 127.0.0.3", ti.TryNumber, ti.Hostname)
	}
	lines := c.sideLines()
	if has(lines, "job-end_1") != 0 || has(lines, "job-start_2") != 1 || has(lines, "job-end_2") != 1 || has(lines, "job-alive-at-retry_0") != 1 {
		t.Fatalf("side effects %v: want try 1 cut short with nothing of it left when try 2 ran, once", lines)
	}
}

// processEnded reports whether pid no longer runs (gone, or a zombie no
// one reaped yet).
func processEnded(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the state follows the command name
	return i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X')
}
