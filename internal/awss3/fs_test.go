package awss3_test

import (
	"bytes"
	"errors"
	"io/fs"
	"testing"
	"testing/fstest"

	"github.com/windsock/windsock/internal/awss3"
	"github.com/windsock/windsock/internal/awss3/s3test"
)

// TestFS checks the S3 folder view against a real S3-compatible server
// with the standard library's fs.FS conformance test: files, nested
// folders, ReadDir and Stat agree, invalid names are refused.
func TestFS(t *testing.T) {
	t.Parallel()
	srv := s3test.Start(t, "exports")
	client := awss3.NewClient(awss3.Settings{Endpoint: srv.URL, AccessKeyID: srv.AccessKey, SecretAccessKey: srv.SecretKey}, nil)
	fsys, err := awss3.NewFS(t.Context(), client, "s3://exports/env/2024")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"dag_run.csv":         "a|b\n",
		"variable.csv":        "k,v\n",
		"logs/t1/s/000000.gz": "gz",
		"logs/t1/s/000001.gz": "gz2",
		"logs/dag_id=d/x.log": "log",
	}
	for name, body := range files {
		if err := fsys.Put(t.Context(), name, bytes.NewReader([]byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	// Outside the prefix: never seen through it.
	other, _ := awss3.NewFS(t.Context(), client, "s3://exports/env/2023")
	if err := other.Put(t.Context(), "dag_run.csv", bytes.NewReader([]byte("no"))); err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(fsys, "dag_run.csv", "variable.csv", "logs/t1/s/000000.gz", "logs/t1/s/000001.gz", "logs/dag_id=d/x.log"); err != nil {
		t.Fatal(err)
	}
	b, err := fs.ReadFile(fsys, "logs/dag_id=d/x.log")
	if err != nil || string(b) != "log" {
		t.Fatalf("read = %q, %v", b, err)
	}
	if _, err := fs.Stat(fsys, "missing.csv"); !errorsIsNotExist(err) {
		t.Fatalf("stat of a missing object = %v, want not exist", err)
	}
	// Stat without a download: a HEAD for an object, a listing for a
	// folder (fs.Stat uses FS.Stat).
	if fi, err := fsys.Stat("logs/t1/s/000001.gz"); err != nil || fi.IsDir() || fi.Size() != 3 || fi.Name() != "000001.gz" || fi.ModTime().IsZero() {
		t.Fatalf("stat of an object = %+v, %v", fi, err)
	}
	for _, dir := range []string{".", "logs", "logs/t1/s"} {
		if fi, err := fsys.Stat(dir); err != nil || !fi.IsDir() {
			t.Fatalf("stat of folder %s = %+v, %v", dir, fi, err)
		}
	}
	if _, err := fsys.Stat("logs/t1/s/0000"); !errorsIsNotExist(err) {
		t.Fatalf("stat of a key prefix that is no folder = %v, want not exist", err)
	}
	if _, err := fsys.Stat("../x"); err == nil {
		t.Fatal("stat of an invalid name succeeded")
	}
}

func errorsIsNotExist(err error) bool { return errors.Is(err, fs.ErrNotExist) }
