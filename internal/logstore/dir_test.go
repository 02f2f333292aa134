package logstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/windsock/windsock/internal/logstore"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		folder, location, err string
	}{
		{"/mnt/logs", "/mnt/logs/a/b.log", ""},
		{"file:///mnt/logs/", "/mnt/logs/a/b.log", ""},
		{"s3://bucket", "s3://bucket/a/b.log", ""},
		{"s3://bucket/prefix/", "s3://bucket/prefix/a/b.log", ""},
		{"s3:///prefix", "", "names no bucket"},
		{"file://relative", "", "not an absolute file:// URL"},
		{"gs://bucket", "", "neither an absolute directory nor s3://"},
		{"", "", "neither"},
	}
	for _, tt := range tests {
		st, err := logstore.New(logstore.Config{Folder: tt.folder})
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("New(%q) = %v, want %q", tt.folder, err, tt.err)
			}
			continue
		}
		if err != nil || st.Location("a/b.log") != tt.location {
			t.Errorf("New(%q): %v, location %q", tt.folder, err, st.Location("a/b.log"))
		}
	}
}

func TestDir(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	shared := t.TempDir()
	st, err := logstore.New(logstore.Config{Folder: "file://" + shared})
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), "attempt=1.log")
	if err := os.WriteFile(local, []byte("first\nsecond\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rel := "dag_id=d/run_id=r/task_id=t/attempt=1.log"
	if err := st.Upload(ctx, rel, local); err != nil {
		t.Fatal(err)
	}
	// A task log copy is private, like the task log itself.
	if info, err := os.Stat(filepath.Join(shared, filepath.FromSlash(rel))); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("uploaded copy: %v, %v; want mode 0600", info.Mode(), err)
	}
	data, next, err := st.Read(ctx, rel, 0)
	if err != nil || string(data) != "first\nsecond\n" || next != 13 {
		t.Fatalf("Read = %q, %d, %v", data, next, err)
	}
	data, next, err = st.Read(ctx, rel, 6)
	if err != nil || string(data) != "second\n" || next != 13 {
		t.Fatalf("Read at 6 = %q, %d, %v", data, next, err)
	}
	if data, next, err := st.Read(ctx, rel, 13); err != nil || len(data) != 0 || next != 13 {
		t.Fatalf("Read at end = %q, %d, %v", data, next, err)
	}
	// A second upload (a rescheduled sensor's longer log) replaces the copy.
	if err := os.WriteFile(local, []byte("first\nsecond\nthird\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := st.Upload(ctx, rel, local); err != nil {
		t.Fatal(err)
	}
	if data, _, _ := st.Read(ctx, rel, 0); string(data) != "first\nsecond\nthird\n" {
		t.Fatalf("after the second upload: %q", data)
	}
	entries, _ := os.ReadDir(filepath.Dir(filepath.Join(shared, rel)))
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}

	if _, _, err := st.Read(ctx, "dag_id=d/none.log", 0); !errors.Is(err, logstore.ErrNotFound) {
		t.Errorf("missing copy: %v", err)
	}
	for _, bad := range []string{"../x.log", "/etc/passwd", "a/../../x.log", ""} {
		if err := st.Upload(ctx, bad, local); err == nil {
			t.Errorf("Upload(%q) succeeds", bad)
		}
		if _, _, err := st.Read(ctx, bad, 0); err == nil {
			t.Errorf("Read(%q) succeeds", bad)
		}
	}
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("password"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(shared, "link.log")); err != nil {
		t.Fatal(err)
	}
	if data, _, err := st.Read(ctx, "link.log", 0); err == nil || strings.Contains(string(data), "password") {
		t.Errorf("a symlink out of the folder is read: %q, %v", data, err)
	}
}

func TestDirUploadOntoItself(t *testing.T) {
	t.Parallel()
	// The shared directory is also the base log folder: the upload must
	// leave the file as it is.
	folder := t.TempDir()
	rel := "dag_id=d/attempt=1.log"
	path := filepath.Join(folder, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("log\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &logstore.Dir{Path: folder}
	if err := st.Upload(t.Context(), rel, path); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "log\n" {
		t.Fatalf("file after upload onto itself = %q, %v", b, err)
	}
}
