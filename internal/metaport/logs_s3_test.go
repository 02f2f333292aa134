package metaport_test

import (
	"bytes"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/awss3/s3test"
	"github.com/windsock/windsock/internal/metaport"
	"github.com/windsock/windsock/internal/metaport/airflowtest"
	"github.com/windsock/windsock/internal/tasklog"
	"github.com/windsock/windsock/internal/windsock"
)

// requestCounter counts the requests an S3 client sends for log objects,
// by method.
type requestCounter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *requestCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if strings.HasSuffix(r.URL.Path, ".log") {
		c.mu.Lock()
		c.counts[r.Method]++
		c.mu.Unlock()
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestImportLogsFromS3ReadsEachObjectOnce copies task logs from an S3
// prefix (versitygw) and counts the requests: each copied log is looked
// at with a HEAD and downloaded with one GET, not opened once to see
// that it is there and again to copy it.
func TestImportLogsFromS3ReadsEachObjectOnce(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "logs")
	path, _ := airflowDB(t, "2.10")
	ctx := t.Context()
	st := newStore(t)
	if _, err := metaport.Import(ctx, st, openSource(t, path), metaport.Options{SourceKeys: keys(t, airflowtest.SourceKey)}); err != nil {
		t.Fatal(err)
	}
	counter := &requestCounter{counts: map[string]int{}}
	client := awss3.NewClient(awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey},
		&http.Client{Transport: counter})
	fsys, err := awss3.NewFS(ctx, client, "s3://logs/env")
	if err != nil {
		t.Fatal(err)
	}
	// The task instance that failed twice: one log per try.
	key := windsock.TaskInstanceKey{DagID: "etl", RunID: "manual__2024-01-02T00:00:00+00:00", TaskID: "load", MapIndex: -1}
	for try := 1; try <= 2; try++ {
		name := filepath.ToSlash(tasklog.Path("", key, try))
		if err := fsys.Put(ctx, name, bytes.NewReader([]byte("try log\n"))); err != nil {
			t.Fatal(err)
		}
	}
	counter.mu.Lock()
	clear(counter.counts)
	counter.mu.Unlock()
	rep, err := metaport.ImportLogs(ctx, st, fsys, "s3://logs/env", t.TempDir(), metaport.LogImportOptions{Days: 100000})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Copied != 2 || rep.Missing != 0 {
		t.Fatalf("report %+v", rep)
	}
	counter.mu.Lock()
	defer counter.mu.Unlock()
	if counter.counts[http.MethodGet] != 2 || counter.counts[http.MethodHead] != 2 {
		t.Errorf("requests for log objects: %v, want one HEAD and one GET per log", counter.counts)
	}
}
