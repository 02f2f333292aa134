package bucketsync

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// DagSync mirrors the objects under Prefix into Dir: added and changed
// objects are copied, files whose object is gone are deleted. Dir belongs
// to the mirror (as MWAA's DAG folder belongs to the bucket), except the
// __pycache__ folders Python writes there.
type DagSync struct {
	Source Source
	// Prefix is DagS3Path: "dags" mirrors the keys "dags/...".
	Prefix string
	Dir    string
	Logger *slog.Logger

	// mu makes passes one at a time: the runner's periodic sync and an
	// update's sync may ask at once.
	mu sync.Mutex
	// seen is what the last pass copied: relative path -> ETag.
	seen map[string]string
}

// Report says what one pass changed.
type Report struct {
	Added, Changed, Deleted int
}

// Any reports whether the pass changed the folder.
func (r Report) Any() bool { return r.Added+r.Changed+r.Deleted > 0 }

// Sync runs one pass: one listing, then a copy per new or changed object.
// The first pass copies everything (what the folder holds from before is
// not trusted).
func (d *DagSync) Sync(ctx context.Context) (Report, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var rep Report
	prefix := strings.Trim(d.Prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	objs, err := d.Source.List(ctx, prefix)
	if err != nil {
		return rep, err
	}
	if err := os.MkdirAll(d.Dir, 0o755); err != nil {
		return rep, fmt.Errorf("sync dags: %w", err)
	}
	first := d.seen == nil
	now := make(map[string]string, len(objs))
	for _, o := range objs {
		rel, err := localKey(strings.TrimPrefix(o.Key, prefix))
		if err != nil {
			d.logger().Warn("skipping an object whose key is not a plain path", "key", o.Key)
			continue
		}
		now[rel] = o.ETag
		old, had := d.seen[rel]
		if had && old == o.ETag {
			continue
		}
		if err := Fetch(ctx, d.Source, o.Key, "", filepath.Join(d.Dir, rel)); err != nil {
			// Try again next pass; a changed file keeps its old copy meanwhile.
			if had {
				now[rel] = old
			} else {
				delete(now, rel)
			}
			d.logger().Warn("copying a DAG file failed", "key", o.Key, "error", err)
			continue
		}
		if had || first {
			rep.Changed++
		} else {
			rep.Added++
		}
	}
	deleted, err := d.prune(now)
	rep.Deleted = deleted
	d.seen = now
	if rep.Any() && !first {
		d.logger().Info("DAG folder synced from the bucket", "added", rep.Added, "changed", rep.Changed, "deleted", rep.Deleted)
	}
	return rep, err
}

// prune deletes the files of Dir that keep is not holding.
func (d *DagSync) prune(keep map[string]string) (int, error) {
	n := 0
	err := filepath.WalkDir(d.Dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if e.IsDir() {
			if e.Name() == "__pycache__" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(d.Dir, p)
		if err != nil {
			return err
		}
		if _, ok := keep[rel]; ok || strings.HasPrefix(e.Name(), ".fetch-") {
			return nil
		}
		if err := os.Remove(p); err == nil {
			n++
		}
		return nil
	})
	return n, err
}

func (d *DagSync) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Logger
}
