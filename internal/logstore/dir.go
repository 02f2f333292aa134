package logstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Dir keeps log copies in a directory, typically one every host mounts.
type Dir struct {
	// Path is the directory, absolute.
	Path string
}

// Upload copies localFile to Path/relPath through a temporary file, so
// that a reader never sees a half-written copy. When both are the same
// file (the shared directory is also logging.base_log_folder) it does
// nothing.
func (d *Dir) Upload(ctx context.Context, relPath, localFile string) error {
	if err := checkRel(relPath); err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	dst := filepath.Join(d.Path, filepath.FromSlash(relPath))
	src, err := os.Open(localFile)
	if err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	defer src.Close()
	if srcInfo, err := src.Stat(); err == nil {
		if dstInfo, err := os.Stat(dst); err == nil && os.SameFile(srcInfo, dstInfo) {
			return nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".upload-*")
	if err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("upload log: %w", err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("upload log: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fmt.Errorf("upload log: %w", err)
	}
	return nil
}

// Read reads the copy of relPath from offset on. It opens it through
// os.Root, so that no path or symbolic link leads outside Path.
func (d *Dir) Read(ctx context.Context, relPath string, offset int64) ([]byte, int64, error) {
	if err := checkRel(relPath); err != nil {
		return nil, offset, fmt.Errorf("read log copy: %w", err)
	}
	if offset < 0 {
		return nil, offset, fmt.Errorf("read log copy: negative offset %d", offset)
	}
	root, err := os.OpenRoot(d.Path)
	if err == nil {
		defer root.Close()
		var f *os.File
		if f, err = root.Open(filepath.FromSlash(relPath)); err == nil {
			defer f.Close()
			return readChunk(f, offset)
		}
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, offset, fmt.Errorf("read log copy: %s: %w", d.Location(relPath), ErrNotFound)
	}
	return nil, offset, fmt.Errorf("read log copy: %w", err)
}

func readChunk(f *os.File, offset int64) ([]byte, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, offset, fmt.Errorf("read log copy: %w", err)
	}
	if !st.Mode().IsRegular() {
		return nil, offset, fmt.Errorf("read log copy: %s: %w", f.Name(), ErrNotFound)
	}
	if offset >= st.Size() {
		return nil, offset, nil
	}
	buf := make([]byte, min(st.Size()-offset, MaxChunk))
	n, err := f.ReadAt(buf, offset)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, offset, fmt.Errorf("read log copy: %w", err)
	}
	return buf[:n], offset + int64(n), nil
}

// Location returns the copy's path.
func (d *Dir) Location(relPath string) string {
	return filepath.Join(d.Path, filepath.FromSlash(relPath))
}
