package sqlite_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/windsock/windsock/internal/store"
	"github.com/windsock/windsock/internal/store/sqlite"
	"github.com/windsock/windsock/internal/store/storetest"
	"github.com/windsock/windsock/internal/windsock"
)

// dagWrite is what the DAG processor writes for one DAG.
type dagWrite struct {
	dag  *store.DAGUpsertParams
	sd   *windsock.SerializedDAG
	code *windsock.DAGCode
}

// dagWrites builds n DAGs, each with 2 tags, ~4 KB of serialized JSON and
// its source; version changes every DAG's hash.
func dagWrites(n, version int, now time.Time) []dagWrite {
	out := make([]dagWrite, n)
	for i := range out {
		id := fmt.Sprintf("dag_%04d", i)
		loc := "/usr/local/airflow/dags/" + id + ".yaml"
		var data bytes.Buffer
		fmt.Fprintf(&data, `{"dag_id":%q,"version":%d,"tasks":[`, id, version)
		for task := 0; data.Len() < 4000; task++ {
			if task > 0 {
				data.WriteByte(',')
			}
			fmt.Fprintf(&data, `{"task_id":"task_%03d","operator":"BashOperator","bash_command":"echo {{ ds }} && sleep 1","retries":2}`, task)
		}
		data.WriteString("]}")
		sum := sha256.Sum256(data.Bytes())
		hash := windsock.FilelocHash(loc)
		out[i] = dagWrite{
			dag: &store.DAGUpsertParams{DagID: id, Fileloc: loc, Owners: "airflow", ScheduleInterval: `"@daily"`,
				MaxActiveTasks: 16, MaxActiveRuns: 1, IsPausedUponCreation: true,
				Tags: []string{"team-a", "tier-1"}, LastParsedTime: now},
			sd: &windsock.SerializedDAG{DagID: id, Fileloc: loc, FilelocHash: hash, Data: data.Bytes(),
				DagHash: hex.EncodeToString(sum[:16]), LastUpdated: now},
			code: &windsock.DAGCode{FilelocHash: hash, Fileloc: loc, LastUpdated: now,
				SourceCode: fmt.Sprintf("%s:\n  schedule: \"@daily\"\n  version: %d\n", id, version)},
		}
	}
	return out
}

func writeDAGs(b *testing.B, st store.Store, writes []dagWrite) {
	err := st.InTx(b.Context(), func(q store.Queries) error {
		for _, w := range writes {
			if err := q.DAGUpsert(b.Context(), w.dag); err != nil {
				return err
			}
			if _, err := q.SerializedDAGUpsert(b.Context(), w.sd); err != nil {
				return err
			}
			if err := q.DAGCodeUpsert(b.Context(), w.code); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkDAGUpsert1000 writes 1,000 changed DAGs (dag with 2 tags,
// serialized_dag, dag_code) in one transaction, as the DAG processor does
// after every DAG file changed.
func BenchmarkDAGUpsert1000(b *testing.B) {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "windsock.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	// Prebuild the versions so the loop measures the store only; they
	// alternate so each iteration rewrites every DAG.
	versions := [][]dagWrite{dagWrites(1000, 0, now), dagWrites(1000, 1, now)}
	writeDAGs(b, st, versions[1])
	i := 0
	for b.Loop() {
		writeDAGs(b, st, versions[i%2])
		i++
	}
}

// BenchmarkDAGUpsert1000Unchanged writes the same 1,000 DAGs again: the
// serialized_dag and dag_code writes are skipped, the dag rows updated.
func BenchmarkDAGUpsert1000Unchanged(b *testing.B) {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "windsock.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	writes := dagWrites(1000, 0, time.Now())
	writeDAGs(b, st, writes)
	for b.Loop() {
		writeDAGs(b, st, writes)
	}
}

// BenchmarkTaskInstanceLifecycle measures one task hop as the engine makes
// it (see storetest.BenchTaskInstanceLifecycle, shared with PostgreSQL).
func BenchmarkTaskInstanceLifecycle(b *testing.B) {
	ctx := b.Context()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "windsock.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	storetest.BenchTaskInstanceLifecycle(b, st)
}

func benchmarkQueueCandidates(b *testing.B, scheduled int) {
	st, err := sqlite.Open(b.Context(), filepath.Join(b.TempDir(), "windsock.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if _, err := st.Migrate(b.Context()); err != nil {
		b.Fatal(err)
	}
	storetest.BenchQueueCandidates(b, st, scheduled)
}

// BenchmarkQueueCandidates100 and ...10000: the queueing read with 100 and
// 10,000 scheduled task instances waiting; the two should be close.
func BenchmarkQueueCandidates100(b *testing.B)   { benchmarkQueueCandidates(b, 100) }
func BenchmarkQueueCandidates10000(b *testing.B) { benchmarkQueueCandidates(b, 10000) }
