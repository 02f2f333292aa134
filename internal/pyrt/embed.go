// Package pyrt runs Windsock's Python side: the `airflow` package DAG files
// import and the runtime that parses a DAG file or runs one task, both
// shipped inside the binary. Python processes are kept warm and fork one
// child per parse or try (see py/windsock_rt/forkserver.py), so a parse or
// a try costs a fork rather than an interpreter start and the imports.
package pyrt

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// tree holds the Python packages. The all: prefix keeps __init__.py files,
// which a plain directory pattern would leave out.
//
//go:embed all:py
var tree embed.FS

// shipped reports whether an embedded file belongs in the extracted tree:
// tests and byte code stay out.
func shipped(name string) bool {
	if strings.Contains(name, "__pycache__") || strings.HasSuffix(name, ".pyc") {
		return false
	}
	return !strings.HasPrefix(name, "py/tests/") && name != "py/tests"
}

var (
	treeOnce sync.Once
	treeHash string
	treeList []string
	treeErr  error
)

// treeFiles lists the shipped files and hashes their names and contents,
// once: the hash names the extracted copy, so a new binary never runs an
// older copy's code.
func treeFiles() ([]string, string, error) {
	treeOnce.Do(func() {
		h := sha256.New()
		treeErr = fs.WalkDir(tree, "py", func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !shipped(name) {
				return err
			}
			b, err := tree.ReadFile(name)
			if err != nil {
				return err
			}
			treeList = append(treeList, name)
			fmt.Fprintf(h, "%s\x00%d\x00", name, len(b))
			h.Write(b)
			return nil
		})
		sort.Strings(treeList)
		treeHash = hex.EncodeToString(h.Sum(nil))[:16]
	})
	return treeList, treeHash, treeErr
}

// Extract writes the Python tree under cacheDir, once per version, and
// returns the directory to put first on sys.path. A copy is written to a
// temporary directory and renamed into place, so a reader never sees half
// a tree and concurrent processes agree on the result.
func Extract(cacheDir string) (string, error) {
	files, hash, err := treeFiles()
	if err != nil {
		return "", fmt.Errorf("list python runtime: %w", err)
	}
	dir := filepath.Join(cacheDir, hash)
	if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
		return dir, nil
	}
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		return "", fmt.Errorf("make python runtime cache: %w", err)
	}
	tmp, err := os.MkdirTemp(cacheDir, ".extract-")
	if err != nil {
		return "", fmt.Errorf("extract python runtime: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, name := range files {
		b, err := tree.ReadFile(name)
		if err != nil {
			return "", fmt.Errorf("extract python runtime: %w", err)
		}
		dst := filepath.Join(tmp, filepath.FromSlash(strings.TrimPrefix(name, "py/")))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return "", fmt.Errorf("extract python runtime: %w", err)
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			return "", fmt.Errorf("extract python runtime: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), []byte(hash+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("extract python runtime: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		// Another process put the same version in place first.
		if _, statErr := os.Stat(filepath.Join(dir, ".complete")); statErr == nil {
			return dir, nil
		}
		return "", fmt.Errorf("extract python runtime: %w", err)
	}
	return dir, nil
}
