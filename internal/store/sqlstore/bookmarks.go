package sqlstore

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Deep pages without deep offsets. A list in a unique, immutable order
// (task instances by dag_id, run_id, task_id, map_index) is paged by
// OFFSET, as Airflow's API requires; walking a B-tree past 50,000 entries
// to reach the last page costs ~100 ms in the pure-Go SQLite, for every
// request. So the key of every bookmarkStride-th row of a filtered list is
// remembered, and a page starts from the nearest bookmark before its
// offset with a key comparison the index answers directly, and a short
// OFFSET from there.
//
// Only lists filtered on columns that never change are bookmarked (the
// DAG, the run, the task, the logical date): an update cannot move a row
// in or out of them. Bookmarks are rebuilt (one walk of the list) after
// any insert or delete of task instances or runs through this store, when
// the list's count has changed (another process's writes), or after
// bookmarkTTL. So the one case left is another process inserting and
// deleting as many task instances before a page within bookmarkTTL (and
// the walk that follows): the page is then off by those rows for at most
// that long, as offset paging under concurrent writes is anyway.
const (
	bookmarkStride = 500
	bookmarkTTL    = 30 * time.Second
	// bookmarkLists bounds how many filtered lists are remembered; past
	// it, all are forgotten (filters are few in practice: none, a state,
	// a user's DAGs).
	bookmarkLists = 64
)

// bookmarkCache holds the bookmarks of recently paged lists.
type bookmarkCache struct {
	mu    sync.Mutex
	lists map[string]*bookmarkList
	// gen counts the inserts and deletes of task instances and runs made
	// through this store; bookmarks built before the latest are stale.
	gen atomic.Int64
}

// changed marks every bookmark stale.
func (c *bookmarkCache) changed() {
	if c != nil {
		c.gen.Add(1)
	}
}

// changesMembership reports whether a statement may add or remove task
// instances: an INSERT or DELETE on task_instance, or a DELETE on dag_run
// or dag (which cascade to their task instances).
func changesMembership(query string) bool {
	// Windsock's SQL writes keywords in capitals: most statements are
	// told apart without the regular expression.
	if !strings.Contains(query, "INSERT") && !strings.Contains(query, "DELETE") {
		return false
	}
	return membershipStatement.MatchString(query)
}

var membershipStatement = regexp.MustCompile(`\b(INSERT\s+INTO|DELETE\s+FROM)\s+(task_instance|dag_run|dag)\b`)

// bookmarkList is the bookmarks of one filtered list.
type bookmarkList struct {
	mu    sync.Mutex // held while building after a change, so that one request walks the list
	total int
	gen   int64
	built time.Time
	// refreshing is set while a caller walks the list again past
	// bookmarkTTL, the others using the bookmarks there are.
	refreshing bool
	keys       [][]any // keys[i] is the key of the row at offset (i+1)*bookmarkStride
}

// seek returns a condition on keyCols (with its arguments) that skips to
// the last bookmark at or before offset, and the offset left from there;
// ("", nil, offset) when there is none to use. walk is the query listing
// keyCols for the filtered list in key order, with args, which also name
// the list; total is its current count.
func (c *bookmarkCache) seek(ctx context.Context, q *queries, keyCols []string, walk string, args []any, total, offset int) (string, []any, int, error) {
	if c == nil || q.tx != nil || offset < bookmarkStride {
		// A transaction must see its own writes: no bookmarks there.
		return "", nil, offset, nil
	}
	sig := fmt.Sprintf("%s %v", walk, args)
	c.mu.Lock()
	if c.lists == nil || len(c.lists) >= bookmarkLists {
		c.lists = map[string]*bookmarkList{}
	}
	l := c.lists[sig]
	if l == nil {
		l = &bookmarkList{}
		c.lists[sig] = l
	}
	c.mu.Unlock()

	keys, err := l.get(ctx, q, walk, args, len(keyCols), total, c.gen.Load())
	if err != nil {
		return "", nil, 0, err
	}
	i := min(offset/bookmarkStride, len(keys))
	if i == 0 {
		return "", nil, offset, nil
	}
	cols := ""
	for j, col := range keyCols {
		if j > 0 {
			cols += ", "
		}
		cols += col
	}
	return "(" + cols + ") >= (" + placeholders(len(keyCols)) + ")", keys[i-1], offset - i*bookmarkStride, nil
}

// get returns the list's bookmarks for a list of total rows at generation
// gen, walking the list when they are stale. Past bookmarkTTL alone (no
// change seen), one caller walks it again while the others go on with the
// bookmarks they have, so that the refresh costs no one a wait.
func (l *bookmarkList) get(ctx context.Context, q *queries, walk string, args []any, ncols, total int, gen int64) ([][]any, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	changed := l.built.IsZero() || l.total != total || l.gen != gen
	if !changed && (time.Since(l.built) <= bookmarkTTL || l.refreshing) {
		return l.keys, nil
	}
	if !changed {
		l.refreshing = true
		l.mu.Unlock()
		keys, err := q.walkBookmarks(ctx, walk, args, ncols)
		l.mu.Lock()
		l.refreshing = false
		if err != nil {
			return nil, err
		}
		if l.total == total && l.gen == gen {
			l.keys, l.built = keys, time.Now()
		}
		return keys, nil
	}
	keys, err := q.walkBookmarks(ctx, walk, args, ncols)
	if err != nil {
		return nil, err
	}
	l.keys, l.total, l.gen, l.built = keys, total, gen, time.Now()
	return keys, nil
}

// walkBookmarks reads the key of the rows of walk at offsets
// bookmarkStride, 2*bookmarkStride, ...
func (q *queries) walkBookmarks(ctx context.Context, walk string, args []any, ncols int) ([][]any, error) {
	rows, err := q.query(ctx, walk, args...)
	if err != nil {
		return nil, fmt.Errorf("walk bookmarks: %w", err)
	}
	defer rows.Close()
	var keys [][]any
	n := 0
	key := make([]any, ncols)
	dest := make([]any, ncols)
	for i := range key {
		dest[i] = &key[i]
	}
	for ; rows.Next(); n++ {
		if n == 0 || n%bookmarkStride != 0 {
			continue
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, fmt.Errorf("walk bookmarks: %w", err)
		}
		keys = append(keys, append([]any(nil), key...))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("walk bookmarks: %w", err)
	}
	return keys, nil
}
