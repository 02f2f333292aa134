package envrunner_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/envrunner"
	"github.com/windsock/windsock/internal/windsock"
)

// BenchmarkStartAvailable measures Start until the web server answers
// /health (CreateEnvironment to AVAILABLE), on SQLite (one process) and,
// with WINDSOCK_TEST_POSTGRES_URL, on PostgreSQL (five processes).
func BenchmarkStartAvailable(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			tr := benchRunner(b, db)
			var total time.Duration
			for i := 0; i < b.N; i++ {
				s := spec(uniqueName(b, "bench"), "")
				s.Schedulers = 2
				began := time.Now()
				tr.startRemoved(s)
				total += time.Since(began)
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/available")
		})
	}
}

// BenchmarkIdleEnvironment measures an idle environment of 2 schedulers,
// 1 worker and 1 web server: the sum of its processes' RSS, and their CPU
// over 20 s.
func BenchmarkIdleEnvironment(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			tr := benchRunner(b, db)
			s := spec(uniqueName(b, "idle"), "")
			s.Schedulers = 2
			tr.startRemoved(s)
			h := envrunner.EnvironmentHome(tr.home, s.Name)
			time.Sleep(10 * time.Second) // settle: first parse, migrations, caches
			b.ResetTimer()
			pids := homeProcs(h, false)
			cpu0 := cpuTicks(pids)
			window := 20 * time.Second
			time.Sleep(window)
			cpu := float64(cpuTicks(pids)-cpu0) / 100 / window.Seconds() // USER_HZ is 100
			b.ReportMetric(float64(sumKB(pids, "status", "VmRSS:"))/1024, "MB-rss")
			// PSS shares the pages processes share (the binary's text)
			// among them: what the environment really costs.
			b.ReportMetric(float64(sumKB(pids, "smaps_rollup", "Pss:"))/1024, "MB-pss")
			b.ReportMetric(cpu*100, "%-of-a-core")
			b.ReportMetric(float64(len(pids)), "processes")
		})
	}
}

// BenchmarkUploadToRunning measures a DAG file copied into the bucket until
// its task runs.
func BenchmarkUploadToRunning(b *testing.B) {
	tr := benchRunner(b, "sqlite")
	s := spec("upload", "upbucket")
	tr.putLocal("upbucket", "dags/.keep", "")
	tr.startRemoved(s)
	db := tr.openStore("upload")
	var total time.Duration
	for i := 0; i < b.N; i++ {
		dagID := fmt.Sprintf("up%d", i)
		began := time.Now()
		tr.putLocal("upbucket", "dags/"+dagID+".yaml", dagYAML(dagID, 1, "sleep 1"))
		waitFor(b, 2*time.Minute, "the task to run", func() bool {
			c := states(b, db, dagID)
			return c[windsock.TaskStateRunning]+c[windsock.TaskStateSuccess] > 0
		})
		total += time.Since(began)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/upload-to-running")
}

// BenchmarkScaleOut measures from the first queued try of a burst to the
// workers reaching the maximum.
func BenchmarkScaleOut(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			tr := benchRunner(b, db)
			var total time.Duration
			for i := 0; i < b.N; i++ {
				s := spec(uniqueName(b, "scale"), "scalebucket")
				s.MaxWorkers = 4
				tr.putLocal("scalebucket", "dags/.keep", "")
				tr.startRemoved(s)
				db := tr.openStore(s.Name)
				tr.putLocal("scalebucket", "dags/burst.yaml", dagYAML("burst", 100, "sleep 1"))
				waitFor(b, 2*time.Minute, "load", func() bool {
					c := states(b, db, "burst")
					return c[windsock.TaskStateQueued]+c[windsock.TaskStateRunning] > 0
				})
				began := time.Now()
				waitFor(b, time.Minute, "scale out", func() bool { st, _ := tr.Status(s.Name); return st.Workers == 4 })
				total += time.Since(began)
				os.Remove(filepath.Join(envrunner.BucketFolder(tr.home, "scalebucket"), "dags", "burst.yaml"))
				tr.Stop(context.Background(), s.Name)
			}
			b.ReportMetric(total.Seconds()/float64(b.N), "s/scale-out")
		})
	}
}

func benchRunner(b *testing.B, db string) *testRunner {
	if db == "postgres" {
		url := os.Getenv("WINDSOCK_TEST_POSTGRES_URL")
		if url == "" {
			b.Skip("WINDSOCK_TEST_POSTGRES_URL not set")
		}
		return setup(b, func(c *envrunner.Config) { c.DatabaseURL = url })
	}
	return setup(b)
}

func cpuTicks(pids []int) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		// utime and stime are fields 14 and 15 (indexes 11, 12 here).
		u, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += u + st
	}
	return total
}

// sumKB sums a "Name: N kB" line of a /proc/PID file over pids.
func sumKB(pids []int, file, field string) int64 {
	var total int64
	for _, pid := range pids {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + file)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, field); ok {
				n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				total += n
			}
		}
	}
	return total
}

// BenchmarkTwentyIdleEnvironments starts 20 environments (SQLite, one
// process each) side by side and measures their memory and CPU at rest.
func BenchmarkTwentyIdleEnvironments(b *testing.B) {
	tr := benchRunner(b, "sqlite")
	var homes []string
	began := time.Now()
	for i := range 20 {
		s := spec(fmt.Sprintf("idle-%02d", i), "")
		tr.startRemoved(s)
		homes = append(homes, envrunner.EnvironmentHome(tr.home, s.Name))
	}
	startAll := time.Since(began)
	time.Sleep(10 * time.Second) // settle
	b.ResetTimer()
	var pids []int
	for _, h := range homes {
		pids = append(pids, homeProcs(h, false)...)
	}
	cpu0 := cpuTicks(pids)
	window := 20 * time.Second
	time.Sleep(window)
	cpu := float64(cpuTicks(pids)-cpu0) / 100 / window.Seconds()
	b.ReportMetric(float64(sumKB(pids, "status", "VmRSS:"))/1024, "MB-rss")
	b.ReportMetric(float64(sumKB(pids, "smaps_rollup", "Pss:"))/1024, "MB-pss")
	b.ReportMetric(cpu*100, "%-of-a-core")
	b.ReportMetric(float64(len(pids)), "processes")
	b.ReportMetric(startAll.Seconds(), "s-to-start-all")
}
