package cli_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/benchdir"
)

// benchHome is a home for benchmarks, on the disk being measured (see
// package benchdir).
func benchHome(b *testing.B) *home {
	b.Helper()
	dir := benchdir.New(b, "cli")
	env := []string{"WINDSOCK_HOME=" + dir, "HOME=" + dir, "PATH=" + os.Getenv("PATH"), "WINDSOCK__CORE__LOAD_EXAMPLES=False"}
	return &home{dir: dir, env: env}
}

func writeFile(b *testing.B, path, content string) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
}

func chain(id string, n int, command string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "%s:\n  schedule: \"@daily\"\n  start_date: 2024-01-01\n  catchup: false\n  tasks:\n", id)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&s, "    - task_id: t%d\n      operator: bash\n      bash_command: \"%s\"\n", i, command)
		if i > 0 {
			fmt.Fprintf(&s, "      dependencies: [t%d]\n", i-1)
		}
	}
	return s.String()
}

// BenchmarkDagsTestChain100 runs `windsock dags test` on a chain of 100
// `true` tasks: one whole process, start-up included (target: under 0.3 s).
func BenchmarkDagsTestChain100(b *testing.B) {
	h := benchHome(b)
	writeFile(b, filepath.Join(h.dir, "dags", "chain.yaml"), chain("chain100", 100, "true"))
	if out, err := runBinary(h, "dags", "list"); err != nil {
		b.Fatalf("dags list: %v\n%s", err, out)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(binary, "dags", "test", "chain100", fmt.Sprintf("2024-01-01T00:00:%02d", i%60))
		cmd.Env = h.env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("dags test: %v\n%s", err, out)
		}
	}
}

// BenchmarkStandaloneRSS1000DAGs starts `windsock standalone` with 1,000
// DAGs of 10 tasks and reports its resident memory once ready (target:
// under 200 MB).
func BenchmarkStandaloneRSS1000DAGs(b *testing.B) {
	h := benchHome(b)
	for f := 0; f < 1000; f++ {
		id := fmt.Sprintf("dag_%04d", f)
		writeFile(b, filepath.Join(h.dir, "dags", id+".yaml"), chain(id, 10, "echo hi"))
	}
	var rss float64
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(binary, "standalone", "--port", "0")
		cmd.Env = h.env
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		sc := bufio.NewScanner(stderr)
		for sc.Scan() && !strings.Contains(sc.Text(), "is ready") {
		}
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
		if err != nil {
			b.Fatal(err)
		}
		for _, line := range strings.Split(string(status), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.ParseFloat(f[1], 64)
				rss = kb / 1024
			}
		}
		cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			b.Fatal("standalone did not stop")
		}
	}
	b.ReportMetric(rss, "MB_rss")
}

func runBinary(h *home, args ...string) ([]byte, error) {
	cmd := exec.Command(binary, args...)
	cmd.Env = h.env
	return cmd.CombinedOutput()
}

// BenchmarkDagsTestPythonChain100 runs `windsock dags test` on a Python DAG
// file of 100 chained @task functions, each returning its input plus one:
// one whole process, Python's start-up included (issue 12's target: under
// 2 s).
func BenchmarkDagsTestPythonChain100(b *testing.B) {
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		b.Skip("needs /usr/bin/python3")
	}
	h := benchHome(b)
	h.env = append(h.env, "WINDSOCK__CORE__PYTHON_EXECUTABLE=/usr/bin/python3")
	writeFile(b, filepath.Join(h.dir, "dags", "pychain.py"), `from datetime import datetime
from airflow.decorators import dag, task

@dag(dag_id="pychain100", schedule=None, start_date=datetime(2024, 1, 1), catchup=False)
def chain():
    @task
    def inc(x):
        return x + 1

    value = 0
    for i in range(100):
        value = inc.override(task_id="t%d" % i)(value)

chain()
`)
	if out, err := runBinary(h, "dags", "list"); err != nil {
		b.Fatalf("dags list: %v\n%s", err, out)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cmd := exec.Command(binary, "dags", "test", "pychain100", fmt.Sprintf("2024-01-01T00:00:%02d", i%60))
		cmd.Env = h.env
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("dags test: %v\n%s", err, out)
		}
	}
}
