package dagfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// DefaultMaxFileSize is core.max_dag_file_size's default, 10 MiB: a
// thousand times a large dag-factory file, and small enough that the DAG
// processor reading one never matters for memory.
const DefaultMaxFileSize = 10 << 20

// Errors ReadFile returns for entries it refuses to read.
var (
	ErrNotRegularFile = errors.New("not a regular file")
	ErrFileTooLarge   = errors.New("file too large")
)

// DirFS returns the tree of files under dir, like os.DirFS, except that
// files are opened with O_NONBLOCK: opening a FIFO (or a device) in the DAG
// folder returns at once instead of waiting for a writer. Read through
// ReadFile, such entries are then refused after a look at the open handle.
// Symbolic links are followed, wherever they point, as Airflow follows
// them.
func DirFS(dir string) fs.FS {
	return dirFS(dir)
}

type dirFS string

func (d dirFS) join(op, name string) (string, error) {
	if !fs.ValidPath(name) {
		return "", &fs.PathError{Op: op, Path: name, Err: fs.ErrInvalid}
	}
	return filepath.Join(string(d), filepath.FromSlash(name)), nil
}

// Open implements fs.FS.
func (d dirFS) Open(name string) (fs.File, error) {
	p, err := d.join("open", name)
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Stat implements fs.StatFS; it follows symbolic links.
func (d dirFS) Stat(name string) (fs.FileInfo, error) {
	p, err := d.join("stat", name)
	if err != nil {
		return nil, err
	}
	return os.Stat(p)
}

// Lstat implements fs.ReadLinkFS; it does not follow symbolic links.
func (d dirFS) Lstat(name string) (fs.FileInfo, error) {
	p, err := d.join("lstat", name)
	if err != nil {
		return nil, err
	}
	return os.Lstat(p)
}

// ReadLink implements fs.ReadLinkFS.
func (d dirFS) ReadLink(name string) (string, error) {
	p, err := d.join("readlink", name)
	if err != nil {
		return "", err
	}
	return os.Readlink(p)
}

// ReadFile reads one entry of a DAG folder and returns its text as UTF-8
// (see Decode). It reads only regular files: the type is checked before
// opening, so a device is never opened, and again on the open handle, so
// an entry swapped in between cannot slip through. It never reads more
// than limit bytes (DefaultMaxFileSize when limit <= 0): a file larger
// than that, or a link to /dev/zero, costs no memory. Errors wrap
// ErrNotRegularFile, ErrFileTooLarge, a *DecodeError or the fs error.
func ReadFile(fsys fs.FS, name string, limit int64) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxFileSize
	}
	fi, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, err
	}
	if err := checkEntry(fi, limit); err != nil {
		return nil, err
	}
	f, err := fsys.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkEntry(fi, limit); err != nil {
		return nil, err
	}
	// One byte more than the limit tells a file that grew past it since
	// the stat from one that is exactly the limit.
	src, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(src)) > limit {
		return nil, fmt.Errorf("%w: it grew past %s while being read (core.max_dag_file_size)", ErrFileTooLarge, formatSize(limit))
	}
	return Decode(src)
}

func checkEntry(fi fs.FileInfo, limit int64) error {
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%w: it is %s; only regular files are read", ErrNotRegularFile, modeName(fi.Mode()))
	}
	if fi.Size() > limit {
		return fmt.Errorf("%w: %s is more than core.max_dag_file_size (%s)", ErrFileTooLarge, formatSize(fi.Size()), formatSize(limit))
	}
	return nil
}

func modeName(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

func formatSize(n int64) string {
	const mib = 1 << 20
	if n >= mib && n%mib == 0 {
		return fmt.Sprintf("%d MiB", n/mib)
	}
	if n >= mib {
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	}
	return fmt.Sprintf("%d bytes", n)
}
