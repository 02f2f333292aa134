package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// Prepared statements are kept because preparing is most of the cost of a
// small statement: the task instance UPDATE spends more time in SQLite's
// parser than in executing. database/sql prepares a cached *sql.Stmt on
// each pooled connection the first time it runs there and reuses it after.
//
// Only statements with few parameters are kept: those with many are built
// for a batch (IN lists, multi-row INSERTs) and rarely repeat, and the
// bound keeps such shapes from filling the cache.
const (
	stmtCacheMaxArgs    = 64
	stmtCacheMaxEntries = 512
)

// stmtCache holds the prepared statements of one database handle, keyed
// by query text as written (before Rebind).
type stmtCache struct {
	db       *sql.DB
	d        Dialect
	mu       sync.Mutex
	m        map[string]*sql.Stmt
	inflight map[string]bool
	wg       sync.WaitGroup
}

func newStmtCache(db *sql.DB, d Dialect) *stmtCache {
	return &stmtCache{db: db, d: d, m: make(map[string]*sql.Stmt), inflight: make(map[string]bool)}
}

// prepareLater prepares query in the background, for a statement first
// met inside a transaction: the transaction cannot prepare it on the pool
// (see get), but its next runs can use it. database/sql then prepares it
// once on each connection a transaction runs it on and keeps it there.
func (c *stmtCache) prepareLater(query string, nargs int) {
	if c == nil || nargs > stmtCacheMaxArgs {
		return
	}
	c.mu.Lock()
	if _, ok := c.m[query]; ok || c.inflight[query] || len(c.m) >= stmtCacheMaxEntries {
		c.mu.Unlock()
		return
	}
	c.inflight[query] = true
	c.wg.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.wg.Done()
		c.get(context.Background(), query, nargs, true)
		c.mu.Lock()
		delete(c.inflight, query)
		c.mu.Unlock()
	}()
}

// get returns the prepared statement for query, preparing it on first use
// when prepare is set; nil when query is not worth keeping, not prepared
// yet, or the cache is full: the caller then runs it unprepared.
//
// Inside a transaction callers must not prepare: preparing takes a second
// pooled connection while the transaction holds one (a deadlock when
// every connection waits for the transaction's write lock), and it would
// not see tables the transaction created.
func (c *stmtCache) get(ctx context.Context, query string, nargs int, prepare bool) *sql.Stmt {
	if c == nil || nargs > stmtCacheMaxArgs {
		return nil
	}
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= stmtCacheMaxEntries
	c.mu.Unlock()
	if ok || full || !prepare {
		return st
	}
	// Prepare outside the lock, which other goroutines need meanwhile. A
	// failure is left to the unprepared run to report.
	st, err := c.db.PrepareContext(ctx, c.d.Rebind(query))
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		// Another goroutine prepared it meanwhile.
		_ = st.Close()
		return prev
	}
	c.m[query] = st
	return st
}

// close closes every kept statement.
func (c *stmtCache) close() {
	c.wg.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		_ = st.Close()
		delete(c.m, q)
	}
}
