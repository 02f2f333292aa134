// Package logstore keeps the logs of finished tries where every host can
// read them, as Airflow's remote task handlers do: logging.remote_logging
// copies each try's log, once closed, under logging.remote_base_log_folder
// with the same relative path it has under logging.base_log_folder. Two
// adapters: Dir (a directory, such as a shared mount) and S3 (an
// S3-compatible bucket).
package logstore

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"

	"github.com/windsock/windsock/internal/secrets"
)

// MaxChunk is the most one Read returns; the caller reads again from the
// offset it reached.
const MaxChunk = 1 << 20

// ErrNotFound is wrapped by Read's error when there is no copy of the log.
var ErrNotFound = errors.New("no copy of the log")

// Store is where finished logs are copied. relPath is a log's path
// relative to logging.base_log_folder, with '/' separators.
type Store interface {
	// Upload copies the local file localFile to relPath, replacing any
	// earlier copy (the local file holds the whole log of the try).
	Upload(ctx context.Context, relPath, localFile string) error
	// Read returns up to MaxChunk bytes of the copy from offset on, and
	// the offset to continue from; past the end it returns (nil, offset,
	// nil). A missing copy is an error wrapping ErrNotFound.
	Read(ctx context.Context, relPath string, offset int64) ([]byte, int64, error)
	// Location says where relPath is (or would be) stored, for messages:
	// a path or an s3:// URL.
	Location(relPath string) string
}

// ConnectionGetter looks connections up (secrets.Connections does).
type ConnectionGetter interface {
	Get(ctx context.Context, connID string) (*secrets.Connection, error)
}

// Config is how New builds a Store.
type Config struct {
	// Folder is logging.remote_base_log_folder: an absolute directory, a
	// file:// URL, or s3://bucket[/prefix].
	Folder string
	// ConnID is logging.remote_log_conn_id, for s3:// folders; empty
	// means credentials from the AWS_* variables of Environ.
	ConnID string
	// Connections resolves ConnID. The lookup happens on first use (and
	// again after a failure), so New does no I/O.
	Connections ConnectionGetter
	// Environ is the process environment, in os.Environ's form.
	Environ []string
}

// New returns the store for cfg.Folder.
func New(cfg Config) (Store, error) {
	folder := strings.TrimSpace(cfg.Folder)
	switch {
	case strings.HasPrefix(folder, "s3://"):
		bucket, prefix, _ := strings.Cut(strings.TrimPrefix(folder, "s3://"), "/")
		if bucket == "" {
			return nil, fmt.Errorf("open remote log store: %q names no bucket", folder)
		}
		return &S3{Bucket: bucket, Prefix: prefix, Settings: func(ctx context.Context) (S3Settings, error) {
			var conn *secrets.Connection
			if cfg.ConnID != "" {
				if cfg.Connections == nil {
					return S3Settings{}, fmt.Errorf("connection %q: no connection source", cfg.ConnID)
				}
				c, err := cfg.Connections.Get(ctx, cfg.ConnID)
				if err != nil {
					return S3Settings{}, fmt.Errorf("connection %q (logging.remote_log_conn_id): %w", cfg.ConnID, err)
				}
				conn = c
			}
			return SettingsFrom(conn, cfg.Environ)
		}}, nil
	case strings.HasPrefix(folder, "file://"):
		p := strings.TrimPrefix(folder, "file://")
		if !filepath.IsAbs(p) {
			return nil, fmt.Errorf("open remote log store: %q is not an absolute file:// URL", folder)
		}
		return &Dir{Path: filepath.Clean(p)}, nil
	case filepath.IsAbs(folder):
		return &Dir{Path: filepath.Clean(folder)}, nil
	}
	return nil, fmt.Errorf("open remote log store: %q is neither an absolute directory nor s3://bucket/prefix", folder)
}

// checkRel refuses relative paths that could leave the store's folder or
// prefix.
func checkRel(relPath string) error {
	if relPath == "" || !filepath.IsLocal(relPath) || path.Clean(relPath) != relPath {
		return fmt.Errorf("log path %q is not a clean relative path", relPath)
	}
	return nil
}
