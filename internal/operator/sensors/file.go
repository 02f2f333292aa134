// Package sensors holds Airflow's standard sensors that need no external
// client library: FileSensor, SqlSensor (SQLite), TimeDeltaSensor,
// DateTimeSensor and ExternalTaskSensor. Each supplies a poke function to
// the shared loop in package sensor.
package sensors

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/windsock/windsock/internal/operator"
	"github.com/windsock/windsock/internal/operator/sensor"
	"github.com/windsock/windsock/internal/windsock"
)

// DefaultFSConnID is FileSensor's default connection.
const DefaultFSConnID = "fs_default"

// errFound stops a directory walk at the first file.
var errFound = errors.New("found")

// FileSensor is FileSensor: it waits for a file, or a directory holding at
// least one file at any depth, to exist at filepath. filepath may be a
// glob; with recursive true, "**" matches any number of directories (as
// Python's glob does). The fs_conn_id connection's extra "path" is the
// base of a relative filepath; when the connection (default "fs_default")
// does not exist, filepath is used as it is.
type FileSensor struct{}

// NewFileSensor returns the file sensor.
func NewFileSensor() *FileSensor { return &FileSensor{} }

// Execute waits for the file.
func (s *FileSensor) Execute(ctx context.Context, tc *operator.Context) (*operator.Result, error) {
	poke, err := s.Poke(ctx, tc)
	if err != nil {
		return nil, err
	}
	return sensor.Run(ctx, tc, poke)
}

// Poke reads the arguments and returns the poke function.
func (s *FileSensor) Poke(ctx context.Context, tc *operator.Context) (sensor.Poke, error) {
	pattern, err := operator.StringArg(tc.Args, "filepath", "")
	if err != nil {
		return nil, err
	}
	if pattern == "" {
		return nil, errors.New("argument filepath: empty")
	}
	recursive, err := operator.BoolArg(tc.Args, "recursive", false)
	if err != nil {
		return nil, err
	}
	connID, err := operator.StringArg(tc.Args, "fs_conn_id", DefaultFSConnID)
	if err != nil {
		return nil, err
	}
	base, err := fsBase(ctx, tc, connID)
	if err != nil {
		return nil, err
	}
	if !filepath.IsAbs(pattern) && base != "" {
		pattern = filepath.Join(base, pattern)
	}
	return func(ctx context.Context) (bool, any, error) {
		operator.Logf(tc.Log, "Poking for file %s", pattern)
		found, err := findFile(ctx, pattern, recursive)
		if found != "" {
			operator.Logf(tc.Log, "Found %s", found)
		}
		return found != "", nil, err
	}, nil
}

// fsBase returns the connection's extra "path", "" when there is no such
// connection.
func fsBase(ctx context.Context, tc *operator.Context, connID string) (string, error) {
	if tc.Connections == nil {
		return "", nil
	}
	conn, err := tc.Connections.Connection(ctx, connID)
	if windsock.ErrorCode(err) == windsock.ENOTFOUND {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("get connection %s: %w", connID, err)
	}
	path, err := operator.StringArg(conn.Extra, "path", "")
	if err != nil {
		return "", fmt.Errorf("connection %s extra: %w", connID, err)
	}
	return path, nil
}

// findFile returns the first path matching pattern that is a file or a
// directory holding a file, "" when there is none.
func findFile(ctx context.Context, pattern string, recursive bool) (string, error) {
	var found string
	err := glob(pattern, recursive, func(path string) error {
		// A large tree can take a while: stop when the try is cancelled.
		if err := ctx.Err(); err != nil {
			return err
		}
		if holdsFile(path) {
			found = path
			return errFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return "", err
	}
	return found, nil
}

// holdsFile reports whether path is a file or a directory with a file
// somewhere below it.
func holdsFile(path string) bool {
	info, err := os.Stat(path)
	if err != nil {
		return false
	}
	if !info.IsDir() {
		return true
	}
	err = filepath.WalkDir(path, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			// An unreadable subdirectory does not end the search.
			return nil
		}
		if !d.IsDir() {
			return errFound
		}
		return nil
	})
	return errors.Is(err, errFound)
}

// glob calls visit for every path matching pattern, stopping at the first
// error visit returns. Without "**" (or without recursive, where "**" is
// just "*") it is filepath.Glob; with both, "**" matches zero or more
// directories.
func glob(pattern string, recursive bool, visit func(string) error) error {
	if !recursive || !strings.Contains(pattern, "**") {
		if !hasMeta(pattern) {
			if _, err := os.Lstat(pattern); err != nil {
				return nil
			}
			return visit(pattern)
		}
		matches, err := filepath.Glob(strings.ReplaceAll(pattern, "**", "*"))
		if err != nil {
			return fmt.Errorf("bad filepath pattern %q: %w", pattern, err)
		}
		for _, m := range matches {
			if err := visit(m); err != nil {
				return err
			}
		}
		return nil
	}
	// Walk from the longest directory prefix without wildcards.
	segs := strings.Split(filepath.ToSlash(pattern), "/")
	i := 0
	for i < len(segs) && !hasMeta(segs[i]) {
		i++
	}
	root := filepath.FromSlash(strings.Join(segs[:i], "/"))
	if root == "" {
		if strings.HasPrefix(pattern, "/") {
			root = "/"
		} else {
			root = "."
		}
	}
	rest := segs[i:]
	for _, s := range rest {
		if _, err := filepath.Match(s, ""); err != nil {
			return fmt.Errorf("bad filepath pattern %q: %w", pattern, err)
		}
	}
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return nil
		}
		if matchSegments(rest, strings.Split(filepath.ToSlash(rel), "/")) {
			return visit(path)
		}
		return nil
	})
}

// matchSegments matches path segments against pattern segments, where a
// "**" segment stands for any number of segments.
func matchSegments(pat, name []string) bool {
	if len(pat) == 0 {
		return len(name) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(name); i++ {
			if matchSegments(pat[1:], name[i:]) {
				return true
			}
		}
		return false
	}
	if len(name) == 0 {
		return false
	}
	ok, _ := filepath.Match(pat[0], name[0])
	return ok && matchSegments(pat[1:], name[1:])
}

func hasMeta(s string) bool { return strings.ContainsAny(s, `*?[\`) }
