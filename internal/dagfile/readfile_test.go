package dagfile

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"
	"unicode/utf16"

	"github.com/windsock/windsock/internal/operator"
)

// within runs f and fails the test if it has not returned before the
// deadline: a read that blocks must fail the test, not hang it.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-ctx.Done():
		t.Fatalf("%s did not return: it blocks", what)
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Fatal(err)
	}
}

func symlink(t *testing.T, target, p string) {
	t.Helper()
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// sparse creates a file of size bytes that takes no disk space.
func sparse(t *testing.T, p string, size int64) {
	t.Helper()
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
}

func TestReadFileRefusesWhatIsNotASmallRegularFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ok.yaml"), []byte("a: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "exact.yaml"), bytes.Repeat([]byte("#"), 1024), 0o644); err != nil {
		t.Fatal(err)
	}
	symlink(t, "/dev/zero", filepath.Join(dir, "zero.yaml"))
	mkfifo(t, filepath.Join(dir, "fifo.yaml"))
	symlink(t, "loop.yaml", filepath.Join(dir, "loop.yaml"))
	sparse(t, filepath.Join(dir, "big.yaml"), 100<<20)
	symlink(t, ".", filepath.Join(dir, "dir.yaml"))
	fsys := DirFS(dir)

	tests := []struct {
		name string
		is   error  // errors.Is target, nil for success
		msg  string // substring of the error
	}{
		{"ok.yaml", nil, ""},
		{"exact.yaml", nil, ""},
		{"zero.yaml", ErrNotRegularFile, "a character device"},
		{"fifo.yaml", ErrNotRegularFile, "a named pipe (FIFO)"},
		{"loop.yaml", syscall.ELOOP, "too many levels of symbolic links"},
		{"big.yaml", ErrFileTooLarge, "100 MiB is more than core.max_dag_file_size (1024 bytes)"},
		{"dir.yaml", ErrNotRegularFile, "a directory"},
		{"missing.yaml", fs.ErrNotExist, ""},
	}
	for _, tt := range tests {
		var err error
		within(t, "ReadFile "+tt.name, func() { _, err = ReadFile(fsys, tt.name, 1024) })
		if tt.is == nil {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
			continue
		}
		if !errors.Is(err, tt.is) || !strings.Contains(errString(err), tt.msg) {
			t.Errorf("%s: error %v, want %v with %q", tt.name, err, tt.is, tt.msg)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// swappedFS stands for an entry replaced between ReadFile's stat and its
// open: Stat describes a regular file, Open opens a FIFO.
type swappedFS struct {
	fs.FS
	regular fs.FileInfo
}

func (s swappedFS) Stat(string) (fs.FileInfo, error) { return s.regular, nil }

func TestReadFileChecksTheOpenHandle(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	mkfifo(t, filepath.Join(dir, "fifo.yaml"))
	regular := fstest.MapFS{"r.yaml": {Data: []byte("a: 1\n")}}
	fi, err := fs.Stat(regular, "r.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Opening a FIFO for reading blocks until a writer comes, unless it is
	// opened non-blocking; then the handle shows what it is.
	within(t, "ReadFile of a swapped-in FIFO", func() {
		_, err = ReadFile(swappedFS{FS: DirFS(dir), regular: fi}, "fifo.yaml", 0)
	})
	if !errors.Is(err, ErrNotRegularFile) {
		t.Errorf("error %v, want ErrNotRegularFile", err)
	}
}

func utf16Bytes(s string, bigEndian, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xFEFF}, units...)
	}
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		if bigEndian {
			out = append(out, byte(u>>8), byte(u))
		} else {
			out = append(out, byte(u), byte(u>>8))
		}
	}
	return out
}

func TestDecode(t *testing.T) {
	t.Parallel()
	const text = "dag_données:\n  description: \"café 😀\"\n"
	tests := []struct {
		name string
		in   []byte
		want string // decoded text, when no error
		err  string // substring of the error
	}{
		{"utf-8", []byte(text), text, ""},
		{"utf-8 bom", append([]byte{0xEF, 0xBB, 0xBF}, text...), text, ""},
		{"utf-16le bom", utf16Bytes(text, false, true), text, ""},
		{"utf-16be bom", utf16Bytes(text, true, true), text, ""},
		{"utf-16le no bom", utf16Bytes(text, false, false), text, ""},
		{"utf-16be no bom", utf16Bytes(text, true, false), text, ""},
		{"empty", nil, "", ""},
		{"latin-1", []byte("a: 1\nb: caf\xe9\n"), "", "invalid UTF-8 byte 0xe9 at byte offset 11 (line 2, column 7); save the file as UTF-8 text"},
		{"nul", []byte("a: 1\x00\n"), "", "NUL character at byte offset 4 (line 1, column 5)"},
		{"odd utf-16", utf16Bytes(text, false, true)[:9], "", "truncated UTF-16 text"},
		{"lone surrogate", append(utf16Bytes("a: ", false, true), 0x00, 0xD8, 'x', 0), "", "unpaired surrogate) at byte offset 8 (line 1, column 4)"},
		{"utf-32", []byte{0xFF, 0xFE, 0, 0, 'a', 0, 0, 0}, "", "UTF-32"},
	}
	for _, tt := range tests {
		got, err := Decode(tt.in)
		if tt.err != "" {
			var de *DecodeError
			if !errors.As(err, &de) || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%s: error %v, want a DecodeError with %q", tt.name, err, tt.err)
			}
			continue
		}
		if err != nil || string(got) != tt.want {
			t.Errorf("%s: Decode = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
}

func TestUnreadableNamesTheFileAndPosition(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte("a: 1\nb: caf\xe9\n"))
	f := Unreadable("dags/latin1.yaml", err)
	if len(f.DAGs) != 0 || len(f.Errors) != 1 {
		t.Fatalf("Unreadable = %+v", f)
	}
	want := "dags/latin1.yaml:2:7: cannot read: invalid UTF-8 byte 0xe9 at byte offset 11 (line 2, column 7); save the file as UTF-8 text"
	if got := f.Errors[0].Error(); got != want {
		t.Errorf("error = %q\nwant   %q", got, want)
	}
	_, err = ReadFile(DirFS(t.TempDir()), "gone.yaml", 0)
	if got := Unreadable("dags/gone.yaml", err).Errors[0].Error(); got != "dags/gone.yaml: cannot read: no such file or directory" {
		t.Errorf("error = %q", got)
	}
}

func TestParseFileRefusesNUL(t *testing.T) {
	t.Parallel()
	src := "nul_dag:\n  description: \"a\\0b\"\n  tasks:\n    t:\n      operator: empty\n"
	f := ParseFile("nul.yaml", []byte(src), NewDefaults(testNow), operator.Builtins())
	if len(f.DAGs) != 0 || len(f.Errors) != 1 || f.Errors[0].Error() != `nul.yaml:2:16: a NUL character (\0) cannot be stored; remove it` {
		t.Errorf("ParseFile = DAGs %d, errors %v", len(f.DAGs), f.Errors)
	}
}
