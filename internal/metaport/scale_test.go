package metaport_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/metaport/airflowtest"
	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/postgres/pgtest"
)

// TestImportScale measures an import of WINDSOCK_IMPORT_SCALE_RUNS runs
// with ten task instances each from a SQLite airflow.db (skipped unless
// set; WINDSOCK_IMPORT_SCALE_TARGET=postgres imports into PostgreSQL):
// the rate, and the peak heap sampled during the import, which must not
// grow with the source. WINDSOCK_IMPORT_SCALE_BATCH sets the batch size
// (default 5000).
func TestImportScale(t *testing.T) {
	runs, _ := strconv.Atoi(os.Getenv("WINDSOCK_IMPORT_SCALE_RUNS"))
	if runs == 0 {
		t.Skip("WINDSOCK_IMPORT_SCALE_RUNS is not set")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "airflow.db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	airflowtest.Create(t, db, false, "2.10")
	start := time.Now()
	if _, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO dag_run (dag_id, execution_date, start_date, end_date, state, run_id, external_trigger, run_type, conf,
			data_interval_start, data_interval_end, queued_at, clear_number)
		SELECT 'dag_' || (i % 100), datetime('2020-01-01', '+' || (i / 100) || ' hours'), datetime('2020-01-01', '+' || (i / 100) || ' hours'),
			datetime('2020-01-01', '+' || (i / 100) || ' hours', '+5 minutes'), 'success',
			'scheduled__' || i, 0, 'scheduled', X'80057D942E', NULL, NULL, NULL, 0 FROM n`, runs); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`WITH RECURSIVE k(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM k WHERE j < 10)
		INSERT INTO task_instance (task_id, dag_id, run_id, map_index, start_date, end_date, duration, state, try_number, max_tries,
			hostname, unixname, pool, pool_slots, queue, priority_weight, operator, executor_config)
		SELECT 'task_' || j, r.dag_id, r.run_id, -1, r.start_date, r.end_date, 12.5, 'success', 1, 0, 'worker-1', 'airflow',
			'default_pool', 1, 'default', 1, 'BashOperator', X'80057D942E' FROM dag_run r, k`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	t.Logf("source: %d runs, %d task instances, built in %v", runs, runs*10, time.Since(start).Round(time.Millisecond))

	var st store.Store
	if os.Getenv("WINDSOCK_IMPORT_SCALE_TARGET") == "postgres" {
		st = pgtest.Store(t)
	} else {
		st = newStore(t)
	}
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapInuse)
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
	batch, _ := strconv.Atoi(os.Getenv("WINDSOCK_IMPORT_SCALE_BATCH"))
	if batch == 0 {
		batch = 5000
	}
	cpu0 := cpuTime(t)
	start = time.Now()
	rep, err := metaport.Import(t.Context(), st, openSource(t, path), metaport.Options{BatchSize: batch})
	close(done)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	d := time.Since(start)
	cpu := cpuTime(t) - cpu0
	rows := runs * 11
	t.Logf("imported %d runs + %d task instances in %v (this process's CPU %v): %.0f rows/s; peak heap in use %.1f MiB",
		tableReport(t, rep, "dag_run").Imported, tableReport(t, rep, "task_instance").Imported, d.Round(time.Millisecond),
		cpu.Round(time.Millisecond), float64(rows)/d.Seconds(), float64(peak)/(1<<20))
}

// cpuTime is the user and system CPU time this process has used: on a
// shared machine it grows less with the load than the wall time does.
func cpuTime(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
