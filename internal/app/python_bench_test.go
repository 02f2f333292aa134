package app

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"
)

// benchPython is the interpreter the Python benchmarks use: Debian's, since
// the python3 first on PATH may be a slow version-manager shim.
func benchPython(b *testing.B) string {
	b.Helper()
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		b.Skip("needs /usr/bin/python3")
	}
	return "WINDSOCK__CORE__PYTHON_EXECUTABLE=/usr/bin/python3"
}

// pyChain is a Python DAG file: a chain of n @task functions, each
// returning its input plus one, so that every hop pulls an XCom and pushes
// one.
func pyChain(id string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `from datetime import datetime
from airflow.decorators import dag, task

@dag(dag_id=%q, schedule=None, start_date=datetime(2024, 1, 1), catchup=False, max_active_tasks=16)
def chain():
    @task
    def inc(x):
        return x + 1

    value = 0
    for i in range(%d):
        value = inc.override(task_id="t%%d" %% i)(value)

chain()
`, id, n)
	return b.String()
}

// pyFan is a Python DAG file of n independent @task functions.
func pyFan(id string, n int) string {
	return fmt.Sprintf(`from datetime import datetime
from airflow.decorators import dag, task

@dag(dag_id=%q, schedule=None, start_date=datetime(2024, 1, 1), catchup=False, max_active_tasks=%d)
def fan():
    @task
    def noop():
        return None

    for i in range(%d):
        noop.override(task_id="t%%d" %% i)()

fan()
`, id, n, n)
}

// BenchmarkPythonChain100 is a chain of 100 @task functions from trigger
// to the last success (issue 12's target: under 10 ms per hop; Airflow
// takes about 1 s).
func BenchmarkPythonChain100(b *testing.B) {
	env := benchEnv(b, map[string]string{"pychain.py": pyChain("pychain100", 100)}, benchPython(b))
	runOnce(b, env, "pychain100", 59) // warm: the file server starts once per file version
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		total += runOnce(b, env, "pychain100", i)
	}
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/100/1000, "ms/hop")
}

// BenchmarkPythonFanOut1000 runs 1,000 independent @task tries (issue 12's
// target: 300 per second or more).
func BenchmarkPythonFanOut1000(b *testing.B) {
	env := benchEnv(b, map[string]string{"pyfan.py": pyFan("pyfan1000", 1000)}, benchPython(b))
	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		total += runOnce(b, env, "pyfan1000", i)
	}
	b.ReportMetric(1000*float64(b.N)/total.Seconds(), "tasks/s")
}
